import { Margin, Rect, View, densityImage, drawWindowImage, plotRect } from '../viewer/draw';
import { ticks } from '../viewer/ticks';
import { ColormapName } from '../viewer/render';
import { TraceWindow } from '../viewer/trace-window';

export type { Rect, View };

export const PANEL_MARGIN: Margin = { left: 52, top: 26, right: 8, bottom: 8 };

/** One canvas of the result viewer: an image of one window, drawn under a shared view. */
export class SectionPanel {
  private image: HTMLCanvasElement | null = null;
  private window: TraceWindow | null = null;

  constructor(readonly canvas: HTMLCanvasElement) {}

  plot(): Rect {
    return plotRect(this.canvas, PANEL_MARGIN);
  }

  /** Build the variable-density image of `values` (laid out as `w`) with a given symmetric clip. */
  setImage(w: TraceWindow, values: Float32Array, clip: number, gain: number, cmap: ColormapName): void {
    const img = densityImage(this.image, values, w.nTraces, w.nSamples, clip, gain, cmap);
    if (!img) return;
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
      drawWindowImage(ctx, this.image, d, p, v);
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
