/** Canvas helpers shared by the seismic viewer and the result viewer (no Angular): the plot area,
 * the window to fetch for a view, the variable-density image and its placement, sample times. */
import { ColormapName, colormap, renderDensity } from './render';
import type { TraceWindow, WindowQuery } from './trace-window';

/** The visible part of a section, in trace and sample indices of the full data (floats). */
export interface View {
  t0: number;
  t1: number;
  s0: number;
  s1: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Margin {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The plot area of a canvas inside its margins (at least 10 x 10 pixels). */
export function plotRect(c: { width: number; height: number }, m: Margin): Rect {
  return { x: m.left, y: m.top, w: Math.max(10, c.width - m.left - m.right), h: Math.max(10, c.height - m.top - m.bottom) };
}

/** Size a canvas's pixel buffer to its container (at least 100 x 100). */
export function fitToParent(canvas: HTMLCanvasElement, el: HTMLElement): void {
  canvas.width = Math.max(100, Math.floor(el.clientWidth));
  canvas.height = Math.max(100, Math.floor(el.clientHeight));
}

/** The window to ask for to show `v` in `p`: the view plus half a view either side in traces (for
 * panning), decimated to about one value per pixel. */
export function windowQuery(v: View, p: Rect, nTraces: number, nSamples: number): WindowQuery {
  const spanT = v.t1 - v.t0;
  const spanS = v.s1 - v.s0;
  return {
    traceStart: Math.max(0, Math.floor(v.t0 - spanT / 2)),
    traceStop: Math.min(nTraces, Math.ceil(v.t1 + spanT / 2)),
    traceStep: Math.max(1, Math.floor(spanT / p.w)),
    sampleStart: Math.max(0, Math.floor(v.s0)),
    sampleStop: Math.min(nSamples, Math.ceil(v.s1)),
    sampleStep: Math.max(1, Math.floor(spanS / p.h)),
  };
}

/** Whether the window held already covers `v` at the decimation of `q` (no need to fetch). */
export function holds(d: TraceWindow | null, v: View, q: WindowQuery): boolean {
  return (
    !!d &&
    d.traceStep === q.traceStep &&
    d.sampleStep === q.sampleStep &&
    d.traceStart <= v.t0 &&
    d.traceStart + d.nTraces * d.traceStep >= v.t1 - q.traceStep &&
    d.sampleStart <= v.s0 &&
    d.sampleStart + d.nSamples * d.sampleStep >= v.s1 - q.sampleStep
  );
}

/** The readout line describing a window. */
export function windowLabel(w: TraceWindow): string {
  return `traces ${w.traceStart}–${w.traceStart + (w.nTraces - 1) * w.traceStep} every ${w.traceStep}, samples every ${w.sampleStep}`;
}

/** The variable-density image of `values` (trace-major, `nTraces` x `nSamples`): one pixel per value,
 * drawn into `reuse` when given. Null where the canvas has no 2D context. */
export function densityImage(
  reuse: HTMLCanvasElement | null,
  values: Float32Array,
  nTraces: number,
  nSamples: number,
  clip: number,
  gain: number,
  cmap: ColormapName,
): HTMLCanvasElement | null {
  const img = reuse ?? document.createElement('canvas');
  img.width = Math.max(1, nTraces);
  img.height = Math.max(1, nSamples);
  const ctx = img.getContext('2d');
  if (!ctx) return null;
  const id = ctx.createImageData(img.width, img.height);
  renderDensity(values, nTraces, nSamples, clip, gain, colormap(cmap), new Uint32Array(id.data.buffer));
  ctx.putImageData(id, 0, 0);
  return img;
}

/** Draw the image of window `d` where it lies under view `v` in plot `p` (pixels kept sharp; the caller clips). */
export function drawWindowImage(ctx: CanvasRenderingContext2D, image: CanvasImageSource, d: TraceWindow, p: Rect, v: View): void {
  const sx = p.w / (v.t1 - v.t0);
  const sy = p.h / (v.s1 - v.s0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, p.x + (d.traceStart - v.t0) * sx, p.y + (d.sampleStart - v.s0) * sy, d.nTraces * d.traceStep * sx, d.nSamples * d.sampleStep * sy);
}

/** Time (ms) of a full-resolution sample index: the dataset's own interval when known (a decimated
 * window's X-Sample-Interval is that of its decimated samples), else the window's. */
export function sampleTime(sample: number, d: TraceWindow | null, datasetInterval: number | undefined): number {
  const dt = datasetInterval ?? (d ? d.sampleInterval / d.sampleStep : 1);
  const base = d ? d.timeStart - d.sampleStart * dt : 0;
  return base + sample * dt;
}
