import { ticks } from '../viewer/ticks';
import { ColormapName, colormap, renderDensity } from '../viewer/render';
import { TraceWindow } from '../viewer/trace-window';

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

export const PANEL_MARGIN = { left: 52, top: 26, right: 8, bottom: 8 };

/** One canvas of the result viewer: an image of one window, drawn under a shared view. */
export class SectionPanel {
  private image: HTMLCanvasElement | null = null;
  private window: TraceWindow | null = null;

  constructor(readonly canvas: HTMLCanvasElement) {}

  plot(): Rect {
    const c = this.canvas;
    const m = PANEL_MARGIN;
    return { x: m.left, y: m.top, w: Math.max(10, c.width - m.left - m.right), h: Math.max(10, c.height - m.top - m.bottom) };
  }

  /** Build the variable-density image of `values` (laid out as `w`) with a given symmetric clip. */
  setImage(w: TraceWindow, values: Float32Array, clip: number, gain: number, cmap: ColormapName): void {
    const img = this.image ?? document.createElement('canvas');
    img.width = Math.max(1, w.nTraces);
    img.height = Math.max(1, w.nSamples);
    const ctx = img.getContext('2d');
    if (!ctx) return;
    const id = ctx.createImageData(img.width, img.height);
    renderDensity(values, w.nTraces, w.nSamples, clip, gain, colormap(cmap), new Uint32Array(id.data.buffer));
    ctx.putImageData(id, 0, 0);
    this.image = img;
    this.window = w;
  }

  draw(v: View, timeOf: (sample: number) => number): void {
    const c = this.canvas;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const p = this.plot();
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    const d = this.window;
    if (d && this.image) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(p.x, p.y, p.w, p.h);
      ctx.clip();
      const sx = p.w / (v.t1 - v.t0);
      const sy = p.h / (v.s1 - v.s0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.image, p.x + (d.traceStart - v.t0) * sx, p.y + (d.sampleStart - v.s0) * sy, d.nTraces * d.traceStep * sx, d.nSamples * d.sampleStep * sy);
      ctx.restore();
    }
    ctx.strokeStyle = '#333';
    ctx.fillStyle = '#222';
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeRect(p.x, p.y, p.w, p.h);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    for (const t of ticks(v.t0, v.t1, Math.max(2, Math.floor(p.w / 80)))) {
      const x = p.x + ((t - v.t0) / (v.t1 - v.t0)) * p.w;
      ctx.fillText(String(t), x, p.y - 4);
    }
    const t0 = timeOf(v.s0);
    const t1 = timeOf(v.s1);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ticks(t0, t1, Math.max(2, Math.floor(p.h / 50)))) {
      const y = p.y + ((t - t0) / (t1 - t0 || 1)) * p.h;
      ctx.fillText(String(t), p.x - 5, y);
    }
  }

  /** Fraction of plot pixels that are not the white background (tests and benchmarks). */
  painted(): number {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return 0;
    const p = this.plot();
    const d = ctx.getImageData(p.x + 1, p.y + 1, Math.max(1, p.w - 2), Math.max(1, p.h - 2)).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) n++;
    return n / (d.length / 4);
  }
}
