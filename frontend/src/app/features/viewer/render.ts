/** Pure rendering helpers of the seismic viewer (no Angular): colormaps, clip, image building. */

export type ColormapName = 'grey' | 'seismic';

function pack(r: number, g: number, b: number): number {
  // ImageData is RGBA in memory; on little-endian machines a Uint32 reads as ABGR.
  return (255 << 24) | (Math.round(b) << 16) | (Math.round(g) << 8) | Math.round(r);
}

function lerp(stops: [number, number, number, number][], t: number): [number, number, number] {
  for (let i = 1; i < stops.length; i++) {
    const [p1, r1, g1, b1] = stops[i];
    const [p0, r0, g0, b0] = stops[i - 1];
    if (t <= p1) {
      const f = (t - p0) / (p1 - p0 || 1);
      return [r0 + f * (r1 - r0), g0 + f * (g1 - g0), b0 + f * (b1 - b0)];
    }
  }
  const last = stops[stops.length - 1];
  return [last[1], last[2], last[3]];
}

/** A 256-entry lookup table from -clip (index 0) to +clip (index 255). Grey: troughs white, peaks black;
 * seismic: dark blue, blue, white, red, dark red (matplotlib's "seismic"). */
export function colormap(name: ColormapName): Uint32Array {
  const stops: [number, number, number, number][] =
    name === 'grey'
      ? [
          [0, 255, 255, 255],
          [1, 0, 0, 0],
        ]
      : [
          [0, 0, 0, 76],
          [0.25, 0, 0, 255],
          [0.5, 255, 255, 255],
          [0.75, 255, 0, 0],
          [1, 128, 0, 0],
        ];
  const lut = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = lerp(stops, i / 255);
    lut[i] = pack(r, g, b);
  }
  return lut;
}

/** The `pct` percentile of |x| (on at most ~200k evenly spaced samples), for a symmetric clip. */
export function percentileAbs(values: Float32Array, pct: number): number {
  const stride = Math.max(1, Math.floor(values.length / 200_000));
  const n = Math.floor(values.length / stride);
  const a = new Float32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i * stride];
    if (Number.isFinite(v)) a[m++] = Math.abs(v);
  }
  if (m === 0) return 1;
  const s = a.subarray(0, m).sort();
  const k = Math.min(m - 1, Math.max(0, Math.round((pct / 100) * (m - 1))));
  return s[k] > 0 ? s[k] : (s[m - 1] > 0 ? s[m - 1] : 1);
}

/** Variable-density pixels: x = trace, y = sample (time downward), from trace-major `values`. */
export function renderDensity(values: Float32Array, nTraces: number, nSamples: number, clip: number, gain: number, lut: Uint32Array, out: Uint32Array): void {
  const scale = (gain * 127.5) / clip;
  for (let i = 0; i < nTraces; i++) {
    const row = i * nSamples;
    for (let j = 0; j < nSamples; j++) {
      const v = values[row + j];
      let k = v === v ? Math.round(127.5 + v * scale) : 128; // NaN (dead) -> the middle colour
      if (k < 0) k = 0;
      else if (k > 255) k = 255;
      out[j * nTraces + i] = lut[k];
    }
  }
}
