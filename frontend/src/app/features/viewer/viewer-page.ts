import { HttpClient } from '@angular/common/http';
import { AfterViewInit, Component, ElementRef, OnDestroy, computed, inject, input, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { RouterLink } from '@angular/router';
import { Subject, Subscription, debounceTime, filter, map, switchMap } from 'rxjs';
import { datasetsGet } from '../../api/fn/datasets/datasets-get';
import { datasetsHeaders } from '../../api/fn/datasets/datasets-headers';
import { TraceHeadersOut } from '../../api/models/trace-headers-out';
import { DatasetOut } from '../../api/models/dataset-out';
import { Notifier } from '../../core/errors';
import { DisplayControls } from './display-controls';
import { Margin, Rect, View, densityImage, drawWindowImage, fitToParent, holds, plotRect, sampleTime, windowLabel, windowQuery } from './draw';
import { ColormapName, percentileAbs } from './render';
import { DisplayPrefsStore } from './prefs';
import { Geometry, Section, SectionKind, geometryOf, headerSummary, sectionSize, toDatasetQuery, toSectionWindow, traceOf } from './section';
import { ticks } from './ticks';
import { TraceWindow, TraceWindowService, WindowQuery } from './trace-window';

export { ticks };

export interface ViewerStats {
  lastRenderMs: number;
  lastWindow: string;
  fetches: number;
  nonBlank: boolean;
}

declare global {
  interface Window {
    /** Test and benchmark hook (read by the Playwright tests). */
    promethiumViewer?: { stats: ViewerStats; panBy(traces: number): void; draw(): void };
  }
}

const MARGIN: Margin = { left: 60, top: 30, right: 10, bottom: 10 };
const HEADER_BLOCK = 200;

function sectionKey(s: Section): string {
  return `${s.kind}:${s.index}`;
}

@Component({
  selector: 'app-viewer-page',
  imports: [FormsModule, RouterLink, MatFormFieldModule, MatSelectModule, MatInputModule, MatButtonModule, DisplayControls],
  template: `
    <h1>Viewer: <a [routerLink]="['/datasets', id()]">{{ dataset()?.name ?? '…' }}</a></h1>
    <section class="controls" aria-label="Display settings">
      <app-display-controls [(colormap)]="cmap" [(clipPct)]="clipPct" [(gain)]="gain" (changed)="rebuild()" />
      <mat-form-field appearance="outline">
        <mat-label>Display</mat-label>
        <mat-select [(ngModel)]="mode" (selectionChange)="draw()" name="mode">
          <mat-option value="auto">Auto (wiggle when narrow)</mat-option>
          <mat-option value="density">Variable density</mat-option>
          <mat-option value="wiggle">Wiggle</mat-option>
        </mat-select>
      </mat-form-field>
      @if (geometry()?.nInline; as nIl) {
        <mat-form-field appearance="outline">
          <mat-label>Section</mat-label>
          <mat-select [(ngModel)]="sectionKind" (selectionChange)="pickSection()" name="section" data-testid="section-kind">
            <mat-option value="all">All traces</mat-option>
            <mat-option value="inline">Inline</mat-option>
            <mat-option value="crossline">Crossline</mat-option>
            <mat-option value="timeslice">Time slice</mat-option>
          </mat-select>
        </mat-form-field>
        @if (sectionKind !== 'all') {
          <mat-form-field appearance="outline">
            <mat-label>{{ sectionKind === 'timeslice' ? 'Sample' : sectionKind === 'inline' ? 'Inline' : 'Crossline' }} (0–{{ sectionMax() }})</mat-label>
            <input matInput type="number" min="0" [max]="sectionMax()" step="1" [(ngModel)]="sectionIndex" (change)="pickSection()" name="sectionIndex" data-testid="section-index" />
          </mat-form-field>
        }
      }
      <button mat-stroked-button type="button" (click)="zoom(0.5)" aria-label="Zoom in">Zoom in</button>
      <button mat-stroked-button type="button" (click)="zoom(2)" aria-label="Zoom out">Zoom out</button>
      <button mat-stroked-button type="button" (click)="reset()">Whole section</button>
    </section>
    @if (waiting()) { <p class="waiting" role="status" data-testid="viewer-waiting">{{ waiting() }}</p> }
    <p class="hint">Drag to pan, wheel to zoom; with the section focused: arrow keys pan, + and − zoom.</p>
    <div class="stage" #stage>
      <canvas #canvas tabindex="0" role="img" [attr.aria-label]="'Seismic section ' + (dataset()?.name ?? '')" data-testid="viewer-canvas"
        (pointerdown)="down($event)" (pointermove)="move($event)" (pointerup)="up($event)" (pointerleave)="hover.set(null)"
        (wheel)="wheel($event)" (keydown)="key($event)"></canvas>
    </div>
    <p class="readout" aria-live="polite" data-testid="readout">
      @if (hover(); as h) { {{ h }} } @else { Clip ±{{ clipValue().toPrecision(3) }} · {{ windowLabel() }} }
    </p>
    <p class="readout headers" data-testid="header-readout">{{ hover() ? (headerLine() ?? '') : '' }}</p>
  `,
  styles: `
    .controls { display: flex; gap: 0.75rem; flex-wrap: wrap; align-items: baseline; }
    .controls mat-form-field { width: 170px; }
    .hint { margin: 0 0 0.5rem; color: #555; font-size: 0.85rem; }
    .stage { width: 100%; height: calc(100vh - 300px); min-height: 360px; border: 1px solid #ccc; }
    canvas { width: 100%; height: 100%; display: block; cursor: grab; touch-action: none; }
    canvas:focus { outline: 3px solid #1565c0; }
    .readout { font-family: monospace; min-height: 1.4em; margin: 0.25rem 0; }
    .headers { color: #333; font-size: 0.85rem; }
    .waiting { font-weight: 600; }
  `,
})
export class ViewerPage implements AfterViewInit, OnDestroy {
  readonly id = input.required<string>();
  private readonly http = inject(HttpClient);
  private readonly windows = inject(TraceWindowService);
  private readonly notifier = inject(Notifier);
  private readonly canvasRef = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private readonly stageRef = viewChild.required<ElementRef<HTMLDivElement>>('stage');
  readonly dataset = signal<DatasetOut | null>(null);
  readonly hover = signal<string | null>(null);
  readonly clipValue = signal(1);
  readonly windowLabel = signal('');
  readonly geometry = signal<Geometry | null>(null);
  readonly headerLine = signal<string | null>(null);
  readonly waiting = signal<string | null>(null);
  private retry: ReturnType<typeof setTimeout> | null = null;
  readonly sectionMax = computed(() => {
    const g = this.geometry();
    if (!g) return 0;
    return (this.sectionKindSig() === 'inline' ? (g.nInline ?? 1) : this.sectionKindSig() === 'crossline' ? (g.nCrossline ?? 1) : g.nSamples) - 1;
  });
  private readonly sectionKindSig = signal<SectionKind>('all');
  sectionKind: SectionKind = 'all';
  sectionIndex = 0;
  private section: Section = { kind: 'all', index: 0 };
  private readonly headerBlocks = new Map<number, TraceHeadersOut | 'pending'>();
  private hoveredTrace = -1;
  private readonly prefs = inject(DisplayPrefsStore).prefs();
  cmap: ColormapName = this.prefs.colormap;
  clipPct = this.prefs.clipPct;
  gain = this.prefs.gain;
  mode: 'auto' | 'density' | 'wiggle' = this.prefs.mode;

  private nTraces = 0;
  private nSamples = 0;
  private view: View = { t0: 0, t1: 1, s0: 0, s1: 1 };
  private data: TraceWindow | null = null;
  private image: HTMLCanvasElement | null = null;
  private drag: { x: number; y: number; view: View } | null = null;
  private readonly wanted = new Subject<WindowQuery>();
  private readonly subs = new Subscription();
  private resize?: ResizeObserver;
  private frame = 0;
  private arrivedAt = 0;
  readonly stats: ViewerStats = { lastRenderMs: 0, lastWindow: '', fetches: 0, nonBlank: false };

  ngAfterViewInit(): void {
    window.promethiumViewer = { stats: this.stats, panBy: (t) => this.panBy(t), draw: () => this.drawNow() };
    this.resize = new ResizeObserver(() => this.fitCanvas());
    this.resize.observe(this.stageRef().nativeElement);
    this.subs.add(
      this.wanted
        .pipe(
          debounceTime(80),
          switchMap((q) => {
            const g = this.geometry() ?? { nTraces: this.nTraces, nSamples: this.nSamples };
            const sec = { ...this.section };
            return this.windows.fetch(this.id(), toDatasetQuery(g, sec, q)).pipe(map((w) => ({ w: toSectionWindow(g, sec, w, q), key: sectionKey(sec) })));
          }),
          filter(({ key }) => key === sectionKey(this.section)),
          map(({ w }) => w),
        )
        .subscribe({
          next: (w) => this.receive(w),
          error: (e: unknown) => this.notifier.error(e),
        }),
    );
    this.loadDataset();
  }

  /** The dataset; while it is still being ingested, asked again every 2 s until it is ready. */
  private loadDataset(): void {
    datasetsGet(this.http, '', { dataset_id: this.id() }).subscribe({
      next: (r) => {
        const ds = r.body;
        this.dataset.set(ds);
        const g = geometryOf(ds.metadata);
        if (ds.status === 'ready' && g) {
          this.waiting.set(null);
          this.geometry.set(g);
          this.pickSection();
        } else if (ds.status === 'failed' || ds.status === 'ready') {
          this.waiting.set(`The dataset is ${ds.status}: it cannot be shown.`);
        } else {
          this.waiting.set(`The dataset is ${ds.status}; it is shown as soon as it is ready.`);
          this.retry = setTimeout(() => this.loadDataset(), 2000);
        }
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  ngOnDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
    this.subs.unsubscribe();
    this.resize?.disconnect();
    cancelAnimationFrame(this.frame);
    delete window.promethiumViewer;
  }

  private get canvas(): HTMLCanvasElement {
    return this.canvasRef().nativeElement;
  }

  private plot(): Rect {
    return plotRect(this.canvas, MARGIN);
  }

  private fitCanvas(): void {
    fitToParent(this.canvas, this.stageRef().nativeElement);
    this.request();
    this.draw();
  }

  /** Apply the section controls (3D data): the view starts over on the new section. */
  pickSection(): void {
    const g = this.geometry();
    if (!g) return;
    this.sectionKindSig.set(this.sectionKind);
    const max = this.sectionMax();
    const index = this.sectionKind === 'all' ? 0 : Math.min(max, Math.max(0, Math.round(Number(this.sectionIndex) || 0)));
    this.sectionIndex = index;
    this.section = { kind: this.sectionKind, index };
    const size = sectionSize(g, this.section);
    this.nTraces = size.width;
    this.nSamples = size.height;
    this.data = null;
    this.reset();
  }

  /** The header fields of a flat trace, fetched by blocks of 200 traces and kept. */
  private lookupHeaders(trace: number): void {
    if (trace === this.hoveredTrace) return;
    this.hoveredTrace = trace;
    const start = Math.floor(trace / HEADER_BLOCK) * HEADER_BLOCK;
    const block = this.headerBlocks.get(start);
    if (block && block !== 'pending') {
      this.headerLine.set(headerSummary(block.fields, trace - start));
      return;
    }
    this.headerLine.set(null);
    if (block === 'pending') return;
    this.headerBlocks.set(start, 'pending');
    const stop = Math.min(start + HEADER_BLOCK, this.geometry()?.nTraces ?? start + HEADER_BLOCK);
    datasetsHeaders(this.http, '', { dataset_id: this.id(), trace_start: start, trace_stop: stop }).subscribe({
      next: (r) => {
        this.headerBlocks.set(start, r.body);
        if (this.hoveredTrace >= start && this.hoveredTrace < stop) this.headerLine.set(headerSummary(r.body.fields, this.hoveredTrace - start));
      },
      error: () => this.headerBlocks.delete(start), // headers are extra: the readout keeps working
    });
  }

  reset(): void {
    this.view = { t0: 0, t1: this.nTraces, s0: 0, s1: this.nSamples };
    this.request();
  }

  /** Ask for the visible window (plus a margin for panning), decimated to about one value per pixel. */
  private request(): void {
    if (!this.nTraces) return;
    if (this.section.kind === 'timeslice' && this.data) return; // a time slice is fetched whole
    const q = windowQuery(this.view, this.plot(), this.nTraces, this.nSamples);
    if (holds(this.data, this.view, q)) return; // already held
    this.wanted.next(q);
  }

  private receive(w: TraceWindow): void {
    this.arrivedAt = performance.now();
    this.stats.fetches++;
    this.data = w;
    this.windowLabel.set(windowLabel(w));
    this.rebuild();
  }

  /** Recompute the clip and the variable-density image from the data held, then draw. */
  rebuild(): void {
    const d = this.data;
    if (!d || d.nTraces === 0 || d.nSamples === 0) return;
    const t = performance.now();
    const clip = percentileAbs(d.values, Math.min(100, Math.max(1, this.clipPct)));
    this.clipValue.set(clip / Math.max(1e-6, this.gain));
    const img = densityImage(this.image, d.values, d.nTraces, d.nSamples, clip, this.gain, this.cmap);
    if (!img) return;
    this.image = img;
    this.drawNow();
    this.stats.lastRenderMs = performance.now() - (this.arrivedAt || t);
    this.stats.lastWindow = `${d.nTraces}x${d.nSamples}`;
  }

  draw(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.drawNow());
  }

  private drawNow(): void {
    const c = this.canvas;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const p = this.plot();
    const v = this.view;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    const d = this.data;
    if (d && this.image) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(p.x, p.y, p.w, p.h);
      ctx.clip();
      const sx = p.w / (v.t1 - v.t0);
      const sy = p.h / (v.s1 - v.s0);
      const wiggle = this.section.kind !== 'timeslice' && (this.mode === 'wiggle' || (this.mode === 'auto' && (v.t1 - v.t0) / d.traceStep <= p.w / 8));
      if (wiggle) this.drawWiggles(ctx, d, p, sx, sy);
      else drawWindowImage(ctx, this.image, d, p, v);
      ctx.restore();
      if (!this.stats.nonBlank) this.stats.nonBlank = true;
    }
    this.drawAxes(ctx, p);
  }

  private drawWiggles(ctx: CanvasRenderingContext2D, d: TraceWindow, p: Rect, sx: number, sy: number): void {
    const v = this.view;
    const clip = this.clipValue();
    const spacing = d.traceStep * sx;
    ctx.strokeStyle = '#000';
    ctx.fillStyle = '#000';
    ctx.lineWidth = 1;
    for (let i = 0; i < d.nTraces; i++) {
      const tr = d.traceStart + i * d.traceStep;
      if (tr < v.t0 - d.traceStep || tr > v.t1 + d.traceStep) continue;
      const x0 = p.x + (tr - v.t0 + 0.5) * sx;
      const row = i * d.nSamples;
      ctx.beginPath();
      for (let j = 0; j < d.nSamples; j++) {
        const a = Math.max(-1.5, Math.min(1.5, d.values[row + j] / clip)) || 0;
        const y = p.y + (d.sampleStart + j * d.sampleStep - v.s0) * sy;
        const x = x0 + a * spacing * 0.5;
        if (j === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      ctx.stroke();
    }
  }

  /** Time (ms) of a full-resolution sample index: the dataset's own interval (a decimated window's
   * X-Sample-Interval is that of its decimated samples). */
  private timeOf(sample: number): number {
    if (this.section.kind === 'timeslice') return sample; // the vertical axis is the inline
    return sampleTime(sample, this.data, (this.dataset()?.metadata as { sample_interval?: number } | undefined)?.sample_interval);
  }

  private drawAxes(ctx: CanvasRenderingContext2D, p: Rect): void {
    const v = this.view;
    ctx.strokeStyle = '#333';
    ctx.fillStyle = '#222';
    ctx.font = '12px system-ui, sans-serif';
    ctx.strokeRect(p.x, p.y, p.w, p.h);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    for (const t of ticks(v.t0, v.t1, Math.max(2, Math.floor(p.w / 90)))) {
      const x = p.x + ((t - v.t0) / (v.t1 - v.t0)) * p.w;
      ctx.beginPath();
      ctx.moveTo(x, p.y);
      ctx.lineTo(x, p.y - 5);
      ctx.stroke();
      ctx.fillText(String(t), x, p.y - 6);
    }
    ctx.textAlign = 'left';
    ctx.fillText({ all: 'Trace', inline: 'Crossline', crossline: 'Inline', timeslice: 'Crossline' }[this.section.kind], 4, 14);
    const t0 = this.timeOf(v.s0);
    const t1 = this.timeOf(v.s1);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ticks(t0, t1, Math.max(2, Math.floor(p.h / 50)))) {
      const y = p.y + ((t - t0) / (t1 - t0 || 1)) * p.h;
      ctx.beginPath();
      ctx.moveTo(p.x, y);
      ctx.lineTo(p.x - 5, y);
      ctx.stroke();
      ctx.fillText(String(t), p.x - 7, y);
    }
    ctx.save();
    ctx.translate(12, p.y + p.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(this.section.kind === 'timeslice' ? 'Inline ↓' : 'Time (ms) ↓', 0, 0);
    ctx.restore();
  }

  private clampView(v: View): View {
    const spanT = Math.min(this.nTraces, Math.max(4, v.t1 - v.t0));
    const spanS = Math.min(this.nSamples, Math.max(8, v.s1 - v.s0));
    const t0 = Math.min(Math.max(0, v.t0), this.nTraces - spanT);
    const s0 = Math.min(Math.max(0, v.s0), this.nSamples - spanS);
    return { t0, t1: t0 + spanT, s0, s1: s0 + spanS };
  }

  private setView(v: View): void {
    this.view = this.clampView(v);
    this.draw();
    this.request();
  }

  panBy(traces: number, samples = 0): void {
    const v = this.view;
    this.view = this.clampView({ t0: v.t0 + traces, t1: v.t1 + traces, s0: v.s0 + samples, s1: v.s1 + samples });
    this.drawNow();
    this.request();
  }

  zoom(f: number, cx = 0.5, cy = 0.5): void {
    const v = this.view;
    const tc = v.t0 + cx * (v.t1 - v.t0);
    const sc = v.s0 + cy * (v.s1 - v.s0);
    this.setView({ t0: tc - (tc - v.t0) * f, t1: tc + (v.t1 - tc) * f, s0: sc - (sc - v.s0) * f, s1: sc + (v.s1 - sc) * f });
  }

  down(e: PointerEvent): void {
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.offsetX, y: e.offsetY, view: { ...this.view } };
  }

  up(e: PointerEvent): void {
    this.canvas.releasePointerCapture(e.pointerId);
    this.drag = null;
  }

  move(e: PointerEvent): void {
    const p = this.plot();
    if (this.drag) {
      const v = this.drag.view;
      const dt = ((e.offsetX - this.drag.x) / p.w) * (v.t1 - v.t0);
      const ds = ((e.offsetY - this.drag.y) / p.h) * (v.s1 - v.s0);
      this.setView({ t0: v.t0 - dt, t1: v.t1 - dt, s0: v.s0 - ds, s1: v.s1 - ds });
      return;
    }
    this.hover.set(this.readout(e.offsetX, e.offsetY));
  }

  /** Trace number, time and amplitude under the pointer (the API serves no per-trace headers yet). */
  private readout(px: number, py: number): string | null {
    const p = this.plot();
    const d = this.data;
    if (!d || px < p.x || py < p.y || px > p.x + p.w || py > p.y + p.h) return null;
    const v = this.view;
    const tr = v.t0 + ((px - p.x) / p.w) * (v.t1 - v.t0);
    const s = v.s0 + ((py - p.y) / p.h) * (v.s1 - v.s0);
    const i = Math.floor((tr - d.traceStart) / d.traceStep);
    const j = Math.floor((s - d.sampleStart) / d.sampleStep);
    if (i < 0 || j < 0 || i >= d.nTraces || j >= d.nSamples) return null;
    const amp = d.values[i * d.nSamples + j];
    const col = d.traceStart + i * d.traceStep;
    const row = d.sampleStart + j * d.sampleStep;
    const g = this.geometry();
    if (g) this.lookupHeaders(traceOf(g, this.section, col, row));
    const a = `amplitude ${Number.isFinite(amp) ? amp.toPrecision(4) : 'dead'}`;
    if (this.section.kind === 'timeslice') return `crossline ${col} · inline ${row} · ${a}`;
    const where = this.section.kind === 'all' ? `trace ${col}` : this.section.kind === 'inline' ? `inline ${this.section.index} · crossline ${col}` : `inline ${col} · crossline ${this.section.index}`;
    return `${where} · time ${this.timeOf(row).toFixed(1)} ms · ${a}`;
  }

  wheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.plot();
    this.zoom(e.deltaY > 0 ? 1.25 : 0.8, (e.offsetX - p.x) / p.w, (e.offsetY - p.y) / p.h);
  }

  key(e: KeyboardEvent): void {
    const v = this.view;
    const st = (v.t1 - v.t0) / 10;
    const ss = (v.s1 - v.s0) / 10;
    const moves: Record<string, () => void> = {
      ArrowLeft: () => this.panBy(-st),
      ArrowRight: () => this.panBy(st),
      ArrowUp: () => this.panBy(0, -ss),
      ArrowDown: () => this.panBy(0, ss),
      '+': () => this.zoom(0.8),
      '=': () => this.zoom(0.8),
      '-': () => this.zoom(1.25),
    };
    const f = moves[e.key];
    if (f) {
      e.preventDefault();
      f();
    }
  }
}
