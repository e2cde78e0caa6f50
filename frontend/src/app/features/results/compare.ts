/** Pure helpers of the result viewer (no Angular): the difference section, and the metrics and method
 * comparison tables read from a job's `metrics` (`GET /jobs/{id}/results`). */

/** `result - input`, value by value; NaN (a dead trace) where either is NaN. */
export function difference(input: Float32Array, result: Float32Array): Float32Array {
  const n = Math.min(input.length, result.length);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = result[i] - input[i];
  return out;
}

/** How much the result changed in a window: traces with any non-zero difference, and the largest |difference|. */
export function changeSummary(diff: Float32Array, nTraces: number, nSamples: number): { changedTraces: number; maxAbs: number } {
  let changed = 0;
  let maxAbs = 0;
  for (let i = 0; i < nTraces; i++) {
    let any = false;
    for (let j = 0; j < nSamples; j++) {
      const a = Math.abs(diff[i * nSamples + j]);
      if (a > 0) any = true;
      if (a > maxAbs) maxAbs = a;
    }
    if (any) changed++;
  }
  return { changedTraces: changed, maxAbs };
}

const LABELS: Record<string, string> = {
  snr: 'SNR (dB)',
  snr_db: 'SNR (dB)',
  snr_missing: 'SNR on missing traces (dB)',
  snr_missing_db: 'SNR on missing traces (dB)',
  psnr: 'PSNR (dB)',
  psnr_db: 'PSNR (dB)',
  ssim: 'SSIM',
  mse: 'MSE',
  fk_coherence: 'f-k coherence',
  time_s: 'Time (s)',
  seconds: 'Run time (s)',
  n_traces: 'Traces',
  n_samples: 'Samples per trace',
  mode: 'Mode',
  n_hidden: 'Hidden traces',
  n_live: 'Live traces',
  val_snr_missing_db: 'Validation SNR on missing traces (dB)',
  val_loss: 'Validation loss',
  best_val_loss: 'Best validation loss',
  train_loss: 'Training loss',
  lr: 'Learning rate',
};

export function metricLabel(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, ' ');
}

export interface MetricRow {
  step: string;
  name: string;
  label: string;
  value: number | string;
}

function scalar(v: unknown): v is number | string {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 40);
}

/** Every scalar metric: the run's own (time, shape) under step "run", then each step's (SNR, SSIM, ...,
 * QC counts in a `summary`). Tables (lists) are left to {@link comparisons}. */
export function metricRows(metrics: Record<string, unknown> | null | undefined): MetricRow[] {
  const rows: MetricRow[] = [];
  if (!metrics) return rows;
  for (const [k, v] of Object.entries(metrics)) {
    if (k !== 'results' && scalar(v)) rows.push({ step: 'run', name: k, label: metricLabel(k), value: v });
  }
  const steps = metrics['results'];
  if (steps && typeof steps === 'object') {
    for (const [step, res] of Object.entries(steps as Record<string, unknown>)) {
      if (!res || typeof res !== 'object' || Array.isArray(res)) continue;
      const r = res as Record<string, unknown>;
      const flat = r['summary'] && typeof r['summary'] === 'object' ? { ...r, ...(r['summary'] as Record<string, unknown>) } : r;
      for (const [k, v] of Object.entries(flat)) {
        if (k === 'seed' || k === 'summary' || Array.isArray(v)) continue;
        if (scalar(v)) rows.push({ step, name: k, label: metricLabel(k), value: v });
      }
    }
  }
  return rows;
}

export interface MethodRow {
  method: string;
  snr: number | string | null;
  snrMissing: number | string | null;
  ssim: number | null;
  psnr: number | string | null;
  time: number | null;
  error: string | null;
}

export interface Comparison {
  step: string;
  decimate: string;
  seed: number | null;
  nHidden: number | null;
  nLive: number | null;
  best: string | null;
  rows: MethodRow[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** SNRs may be "inf" (a perfect fill) in the JSON. */
const db = (v: unknown): number | string | null => (v === 'inf' || v === '-inf' ? (v === 'inf' ? '∞' : '-∞') : num(v));

/** The method comparisons of `evaluate` steps (a `compare` job): same hidden traces for every method. */
export function comparisons(metrics: Record<string, unknown> | null | undefined): Comparison[] {
  const out: Comparison[] = [];
  const steps = metrics?.['results'];
  if (!steps || typeof steps !== 'object') return out;
  for (const [step, res] of Object.entries(steps as Record<string, unknown>)) {
    const r = res as Record<string, unknown> | null;
    if (!r || !Array.isArray(r['results'])) continue;
    const rows = (r['results'] as Record<string, unknown>[])
      .filter((m) => m && typeof m['method'] === 'string')
      .map((m) => ({
        method: m['method'] as string,
        snr: db(m['snr_db']),
        snrMissing: db(m['snr_missing_db']),
        ssim: num(m['ssim']),
        psnr: db(m['psnr_db']),
        time: num(m['time_s']),
        error: typeof m['error'] === 'string' ? (m['error'] as string) : null,
      }));
    out.push({
      step,
      decimate: String(r['decimate'] ?? ''),
      seed: num(r['seed']),
      nHidden: num(r['n_hidden']),
      nLive: num(r['n_live']),
      best: typeof r['best'] === 'string' ? (r['best'] as string) : null,
      rows,
    });
  }
  return out;
}

/** A number for a table cell: 4 significant digits, or the text as is. */
export function cell(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}

/** The file name of a Content-Disposition header (`attachment; filename="x.sgy"`). */
export function dispositionName(header: string | null, fallback: string): string {
  const m = header ? /filename="?([^";]+)"?/.exec(header) : null;
  return m ? m[1] : fallback;
}
