import { geometryOf, headerSummary, sectionSize, toDatasetQuery, toSectionWindow, traceOf } from './section';
import { TraceWindow, WindowQuery } from './trace-window';

// A 3 inline x 4 crossline x 5 sample cube stored flat (trace = inline * 4 + crossline).
const g = geometryOf({ traces: 12, samples: 5, dims: { inline: 3, crossline: 4, time: 5 } })!;
const q: WindowQuery = { traceStart: 0, traceStop: 4, traceStep: 1, sampleStart: 0, sampleStop: 5, sampleStep: 1 };
const win = (o: Partial<TraceWindow>): TraceWindow => ({ values: new Float32Array(0), nTraces: 0, nSamples: 0, traceStart: 0, traceStep: 1, sampleStart: 0, sampleStep: 1, sampleInterval: 4, timeStart: 0, ...o });

describe('sections of 3D data', () => {
  it('geometry from the metadata: volumes only when the dims match the trace count', () => {
    expect(g).toEqual({ nTraces: 12, nSamples: 5, nInline: 3, nCrossline: 4 });
    expect(geometryOf({ traces: 12, samples: 5, dims: { inline: 5, crossline: 4 } })).toEqual({ nTraces: 12, nSamples: 5 });
    expect(geometryOf({ traces: 0 })).toBeNull();
  });

  it('sizes of each section', () => {
    expect(sectionSize(g, { kind: 'all', index: 0 })).toEqual({ width: 12, height: 5 });
    expect(sectionSize(g, { kind: 'inline', index: 1 })).toEqual({ width: 4, height: 5 });
    expect(sectionSize(g, { kind: 'crossline', index: 1 })).toEqual({ width: 3, height: 5 });
    expect(sectionSize(g, { kind: 'timeslice', index: 2 })).toEqual({ width: 4, height: 3 });
  });

  it('an inline is a contiguous run of traces', () => {
    expect(toDatasetQuery(g, { kind: 'inline', index: 2 }, q)).toEqual({ ...q, traceStart: 8, traceStop: 12 });
    expect(traceOf(g, { kind: 'inline', index: 2 }, 1)).toBe(9);
    const w = toSectionWindow(g, { kind: 'inline', index: 2 }, win({ traceStart: 8, nTraces: 4, nSamples: 5 }), q);
    expect(w.traceStart).toBe(0);
  });

  it('a crossline strides over the inlines', () => {
    const sq = { ...q, traceStart: 0, traceStop: 3, traceStep: 1 };
    expect(toDatasetQuery(g, { kind: 'crossline', index: 1 }, sq)).toEqual({ ...sq, traceStart: 1, traceStop: 10, traceStep: 4 });
    expect(traceOf(g, { kind: 'crossline', index: 1 }, 2)).toBe(9);
    const w = toSectionWindow(g, { kind: 'crossline', index: 1 }, win({ traceStart: 5, traceStep: 4, nTraces: 2 }), { ...sq, traceStart: 1, traceStep: 1 });
    expect([w.traceStart, w.traceStep]).toEqual([1, 1]);
  });

  it('a time slice is one sample of every trace, shown crosslines across and inlines down', () => {
    const tq = toDatasetQuery(g, { kind: 'timeslice', index: 3 }, q);
    expect(tq).toEqual({ traceStart: 0, traceStop: 12, traceStep: 1, sampleStart: 3, sampleStop: 4, sampleStep: 1 });
    const flat = new Float32Array(12).map((_, t) => t); // value = flat trace number
    const w = toSectionWindow(g, { kind: 'timeslice', index: 3 }, win({ values: flat, nTraces: 12, nSamples: 1 }), q);
    expect([w.nTraces, w.nSamples]).toEqual([4, 3]);
    // column c (crossline), row r (inline): trace-major, so value index c * 3 + r
    expect(w.values[2 * 3 + 1]).toBe(1 * 4 + 2);
    expect(traceOf(g, { kind: 'timeslice', index: 3 }, 2, 1)).toBe(6);
  });

  it('header summary puts the usual fields first', () => {
    const s = headerSummary({ trace_sequence_file: [1, 2], offset: [100, 200], cdp: [7, 8], inline: [3, 3] }, 1, 3);
    expect(s).toBe('inline 3 · cdp 8 · offset 200');
  });
});
