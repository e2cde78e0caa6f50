/** About `n` round tick values between a and b. */
export function ticks(a: number, b: number, n: number): number[] {
  const span = Math.abs(b - a);
  if (!(span > 0)) return [];
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(Math.min(a, b) / step) * step; t <= Math.max(a, b) + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}
