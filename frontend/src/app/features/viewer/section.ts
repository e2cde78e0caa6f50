/** Which 2D section of a dataset the viewer shows. 2D data: all traces. 3D data (traces stored flat,
 * inline-major: trace = inline * nCrossline + crossline): one inline, one crossline, or a time slice. */
import { TraceWindow, WindowQuery } from './trace-window';

export type SectionKind = 'all' | 'inline' | 'crossline' | 'timeslice';

export interface Section {
  kind: SectionKind;
  /** The inline, crossline or sample index of the section (unused for 'all'). */
  index: number;
}

export interface Geometry {
  nTraces: number;
  nSamples: number;
  /** Volumes only. */
  nInline?: number;
  nCrossline?: number;
}

/** The geometry from a dataset's metadata (`traces`, `samples`, and `dims` for volumes). */
export function geometryOf(meta: Record<string, unknown>): Geometry | null {
  const nTraces = Number(meta['traces']);
  const nSamples = Number(meta['samples']);
  if (!(nTraces > 0) || !(nSamples > 0)) return null;
  const dims = (meta['dims'] ?? {}) as Record<string, unknown>;
  const nIl = Number(dims['inline']);
  const nXl = Number(dims['crossline']);
  if (nIl > 0 && nXl > 0 && nIl * nXl === nTraces) return { nTraces, nSamples, nInline: nIl, nCrossline: nXl };
  return { nTraces, nSamples };
}

/** Width (traces, or crosslines of a time slice) and height (samples, or inlines) of the section. */
export function sectionSize(g: Geometry, s: Section): { width: number; height: number } {
  const il = g.nInline ?? 1;
  const xl = g.nCrossline ?? g.nTraces;
  switch (s.kind) {
    case 'inline':
      return { width: xl, height: g.nSamples };
    case 'crossline':
      return { width: il, height: g.nSamples };
    case 'timeslice':
      return { width: xl, height: il };
    default:
      return { width: g.nTraces, height: g.nSamples };
  }
}

/** The flat trace of the dataset at column `c` of the section (null for time slices' rows). */
export function traceOf(g: Geometry, s: Section, c: number, row = 0): number {
  const xl = g.nCrossline ?? g.nTraces;
  switch (s.kind) {
    case 'inline':
      return s.index * xl + c;
    case 'crossline':
      return c * xl + s.index;
    case 'timeslice':
      return row * xl + c;
    default:
      return c;
  }
}

/** The API query of a section window (columns [traceStart, traceStop) every traceStep of the section). */
export function toDatasetQuery(g: Geometry, s: Section, q: WindowQuery): WindowQuery {
  const xl = g.nCrossline ?? g.nTraces;
  switch (s.kind) {
    case 'inline':
      return { ...q, traceStart: s.index * xl + q.traceStart, traceStop: s.index * xl + q.traceStop };
    case 'crossline':
      return { ...q, traceStart: q.traceStart * xl + s.index, traceStop: (q.traceStop - 1) * xl + s.index + 1, traceStep: q.traceStep * xl };
    case 'timeslice':
      return { traceStart: 0, traceStop: g.nTraces, traceStep: 1, sampleStart: s.index, sampleStop: s.index + 1, sampleStep: 1 };
    default:
      return q;
  }
}

/** The window the API sent, in section coordinates (a time slice becomes crosslines x inlines). */
export function toSectionWindow(g: Geometry, s: Section, w: TraceWindow, q: WindowQuery): TraceWindow {
  const xl = g.nCrossline ?? g.nTraces;
  switch (s.kind) {
    case 'inline':
      return { ...w, traceStart: w.traceStart - s.index * xl, traceStep: q.traceStep };
    case 'crossline':
      return { ...w, traceStart: Math.round((w.traceStart - s.index) / xl), traceStep: q.traceStep };
    case 'timeslice': {
      const il = g.nInline ?? 1;
      const out = new Float32Array(xl * il);
      for (let r = 0; r < il; r++) for (let c = 0; c < xl; c++) out[c * il + r] = w.values[r * xl + c];
      return { ...w, values: out, nTraces: xl, nSamples: il, traceStart: 0, traceStep: 1, sampleStart: 0, sampleStep: 1 };
    }
    default:
      return w;
  }
}

/** The header fields worth showing first on hover (others follow, up to `max`). */
const PREFERRED = ['inline', 'crossline', 'cdp', 'offset', 'cdp_x', 'cdp_y', 'source_x', 'source_y', 'group_x', 'group_y', 'trace_sequence_line', 'field_record'];

export function headerSummary(fields: Record<string, (number | string | null)[]>, i: number, max = 6): string {
  const names = Object.keys(fields);
  const order = [...PREFERRED.filter((n) => names.includes(n)), ...names.filter((n) => !PREFERRED.includes(n))];
  return order
    .slice(0, max)
    .map((n) => `${n} ${fields[n][i] ?? '–'}`)
    .join(' · ');
}
