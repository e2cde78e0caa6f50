import { cell, changeSummary, comparisons, difference, dispositionName, metricRows } from './compare';

// What a compare job (evaluate step) and a reconstruct run store in `metrics` (see runner._metrics).
const COMPARE = {
  seconds: 3.2,
  mode: 'whole',
  n_traces: 534,
  n_samples: 1501,
  results: {
    compare: {
      decimate: 'random:0.5',
      seed: 0,
      shape: [534, 1501],
      n_live: 267,
      n_hidden: 267,
      best: 'linear',
      results: [
        { method: 'linear', snr_db: 7.46, snr_missing_db: 7.46, ssim: 0.81, psnr_db: 30.1, time_s: 0.5, params: {}, error: null },
        { method: 'pocs', snr_db: 'inf', snr_missing_db: 5.89, ssim: 0.7, psnr_db: 28.2, time_s: 1.9, params: {}, error: null },
        { method: 'drr', snr_db: null, snr_missing_db: null, ssim: null, psnr_db: null, time_s: 0, params: {}, error: 'out of memory' },
      ],
    },
  },
};

describe('result viewer helpers', () => {
  it('difference is result minus input, NaN where a trace is dead', () => {
    const d = difference(new Float32Array([1, 2, Number.NaN]), new Float32Array([1.5, 2, 3]));
    expect(Array.from(d.subarray(0, 2))).toEqual([0.5, 0]);
    expect(Number.isNaN(d[2])).toBe(true);
  });

  it('change summary counts the traces with any difference', () => {
    const d = new Float32Array([0, 0, 0, -2, 0.5, 0]); // 3 traces x 2 samples
    expect(changeSummary(d, 3, 2)).toEqual({ changedTraces: 2, maxAbs: 2 });
    expect(changeSummary(new Float32Array(4), 2, 2)).toEqual({ changedTraces: 0, maxAbs: 0 });
  });

  it('metric rows: the run first, then each step; tables and seeds left out', () => {
    const rows = metricRows(COMPARE);
    expect(rows.filter((r) => r.step === 'run').map((r) => [r.label, r.value])).toEqual([
      ['Run time (s)', 3.2],
      ['Mode', 'whole'],
      ['Traces', 534],
      ['Samples per trace', 1501],
    ]);
    const step = rows.filter((r) => r.step === 'compare').map((r) => r.name);
    expect(step).toEqual(['decimate', 'n_live', 'n_hidden', 'best']);
    const metricsStep = metricRows({ results: { metrics: { snr: 12.5, snr_missing: 8.25, ssim: 0.93, mse: 1e-4 } } });
    expect(metricsStep.map((r) => r.label)).toEqual(['SNR (dB)', 'SNR on missing traces (dB)', 'SSIM', 'MSE']);
    expect(metricRows(null)).toEqual([]);
  });

  it('QC summaries are flattened into rows', () => {
    const rows = metricRows({ results: { qc: { summary: { n_dead: 3, n_clipped: 0 }, streamed: true } } });
    expect(rows.map((r) => `${r.name}=${r.value}`)).toEqual(['n_dead=3', 'n_clipped=0']);
  });

  it('comparisons read the evaluate table, infinite SNR and failures included', () => {
    const [c] = comparisons(COMPARE);
    expect(c.step).toBe('compare');
    expect(c.best).toBe('linear');
    expect(c.nHidden).toBe(267);
    expect(c.rows.map((r) => r.method)).toEqual(['linear', 'pocs', 'drr']);
    expect(c.rows[1].snr).toBe('∞');
    expect(c.rows[2]).toEqual({ method: 'drr', snr: null, snrMissing: null, ssim: null, psnr: null, time: 0, error: 'out of memory' });
    expect(comparisons({ results: { reconstruct: {} } })).toEqual([]);
  });

  it('cells and file names', () => {
    expect(cell(null)).toBe('–');
    expect(cell(7.4631)).toBe('7.463');
    expect(cell(1e-5)).toBe('1.000e-5');
    expect(cell(534)).toBe('534');
    expect(dispositionName('attachment; filename="result-1.sgy"', 'x')).toBe('result-1.sgy');
    expect(dispositionName(null, 'fallback.sgy')).toBe('fallback.sgy');
  });
});
