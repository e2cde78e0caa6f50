import { HttpClient } from '@angular/common/http';
import { AfterViewInit, Component, ElementRef, OnDestroy, computed, inject, input, signal, viewChildren } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { RouterLink } from '@angular/router';
import { Subject, Subscription, debounceTime, forkJoin, switchMap } from 'rxjs';
import { datasetsGet } from '../../api/fn/datasets/datasets-get';
import { jobsGet } from '../../api/fn/jobs/jobs-get';
import { jobsResults } from '../../api/fn/jobs/jobs-results';
import { resultsDownload$Any } from '../../api/fn/results/results-download-any';
import { DatasetOut } from '../../api/models/dataset-out';
import { JobOut } from '../../api/models/job-out';
import { JobResultOut } from '../../api/models/job-result-out';
import { Notifier, withParsedBlob } from '../../core/errors';
import { bytes } from '../../core/format';
import { DisplayPrefsStore } from '../viewer/prefs';
import { DisplayControls } from '../viewer/display-controls';
import { fitToParent, holds, sampleTime, windowLabel, windowQuery } from '../viewer/draw';
import { ColormapName, percentileAbs } from '../viewer/render';
import { TraceWindow, TraceWindowService, WindowQuery } from '../viewer/trace-window';
import { Comparison, MetricRow, cell, changeSummary, comparisons, difference, dispositionName, metricRows } from './compare';
import { SectionPanel, View } from './section-panel';

type Format = 'segy' | 'mseed' | 'sac' | 'zarr' | 'npy';

export interface ResultViewerStats {
  fetches: number;
  painted: number[];
  clip: number;
  window: string;
}

declare global {
  interface Window {
    /** Test hook (read by the Playwright tests). */
    promethiumResult?: { stats: ResultViewerStats; view(): View };
  }
}

@Component({
  selector: 'app-result-page',
  imports: [FormsModule, RouterLink, MatButtonModule, MatCardModule, MatFormFieldModule, MatInputModule, MatSelectModule, DisplayControls],
  template: `
    <h1>Result of {{ job()?.kind ?? 'job' }} <small class="mono">{{ id() }}</small></h1>
    <p class="links">
      <a [routerLink]="['/jobs', id()]">Job details and log</a>
      @if (dataset(); as d) { · input <a [routerLink]="['/datasets', d.id]">{{ d.name }}</a> }
    </p>
    @if (problem()) {
      <p class="error" role="alert" data-testid="result-problem">{{ problem() }}</p>
    }
    <section class="controls" aria-label="Display settings">
      <app-display-controls [(colormap)]="cmap" [(clipPct)]="clipPct" [(gain)]="gain" (changed)="rebuild()" />
      <button mat-stroked-button type="button" (click)="zoom(0.5)">Zoom in</button>
      <button mat-stroked-button type="button" (click)="zoom(2)">Zoom out</button>
      <button mat-stroked-button type="button" (click)="reset()">Whole section</button>
    </section>
    <p class="hint">The three sections share one clip (±{{ fmt(clip()) }}, from the input) and one view: drag to pan, wheel to zoom, or focus a section and use the arrow keys, + and −.</p>
    <div class="panels">
      @for (p of panelNames; track p; let i = $index) {
        <figure class="panel">
          <figcaption>{{ p }}@if (i === 2 && change(); as c) { <span class="change" data-testid="change-summary"> · {{ c.changedTraces }} of {{ c.nTraces }} traces in view changed, max |difference| {{ fmt(c.maxAbs) }}</span> }</figcaption>
          <div class="stage">
            <canvas #panel tabindex="0" role="img" [attr.aria-label]="p + ' section'" [attr.data-testid]="'panel-' + i"
              (pointerdown)="down($event)" (pointermove)="move($event, i)" (pointerup)="up($event)" (pointerleave)="hover.set(null)"
              (wheel)="wheel($event, i)" (keydown)="key($event)"></canvas>
          </div>
        </figure>
      }
    </div>
    <p class="readout mono" aria-live="polite" data-testid="result-readout">{{ hover() ?? windowLabel() }}</p>

    <div class="cards">
      <mat-card>
        <mat-card-header><mat-card-title>Metrics</mat-card-title></mat-card-header>
        <mat-card-content>
          @if (metrics().length) {
            <table class="plain" data-testid="metrics-table">
              <caption class="sr-only">Metrics of the job</caption>
              <thead><tr><th scope="col">Step</th><th scope="col">Metric</th><th scope="col" class="num">Value</th></tr></thead>
              <tbody>
                @for (m of metrics(); track m.step + m.name) {
                  <tr><td>{{ m.step }}</td><td>{{ m.label }}</td><td class="num">{{ fmt(m.value) }}</td></tr>
                }
              </tbody>
            </table>
            @if (!hasQuality()) {
              <p class="note">This run has no reference to score against. A <a [routerLink]="['/jobs']" [queryParams]="{ dataset: dataset()?.id, kind: 'compare' }">compare job</a>
                hides traces of the input and scores each method on filling them (SNR, SNR on the hidden traces, SSIM).</p>
            }
          } @else {
            <p>No metrics.</p>
          }
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Download the result</mat-card-title></mat-card-header>
        <mat-card-content>
          <form class="download" (ngSubmit)="download()" aria-label="Download the result">
            <mat-form-field appearance="outline">
              <mat-label>Format</mat-label>
              <mat-select [(ngModel)]="format" name="format" data-testid="download-format">
                <mat-option value="segy">SEG-Y</mat-option>
                <mat-option value="mseed">miniSEED</mat-option>
                <mat-option value="sac">SAC (zip of traces)</mat-option>
                <mat-option value="zarr">Zarr (zip)</mat-option>
                <mat-option value="npy">NumPy</mat-option>
              </mat-select>
            </mat-form-field>
            <button mat-flat-button type="submit" [disabled]="downloading()" data-testid="download-result">{{ downloading() ? 'Preparing…' : 'Download' }}</button>
          </form>
          @if (lastDownload()) { <p class="note" role="status">{{ lastDownload() }}</p> }
        </mat-card-content>
      </mat-card>
    </div>

    @for (c of comparisons(); track c.step) {
      <section class="comparison" [attr.aria-label]="'Comparison of methods, step ' + c.step">
        <h2>Comparison of methods <small>({{ c.step }})</small></h2>
        <p>Every method filled the same {{ c.nHidden ?? "?" }} traces hidden from the {{ c.nLive ?? "?" }} live ones ({{ c.decimate }}, seed {{ c.seed ?? "–" }}).
          @if (c.best) { Best on the hidden traces: <strong data-testid="best-method">{{ c.best }}</strong>. }</p>
        <table class="plain" data-testid="comparison-table">
          <caption class="sr-only">Scores of each method</caption>
          <thead>
            <tr><th scope="col">Method</th><th scope="col" class="num">SNR (dB)</th><th scope="col" class="num">SNR on hidden traces (dB)</th><th scope="col" class="num">SSIM</th><th scope="col" class="num">PSNR (dB)</th><th scope="col" class="num">Time (s)</th><th scope="col">Note</th></tr>
          </thead>
          <tbody>
            @for (r of c.rows; track r.method) {
              <tr [class.best]="r.method === c.best">
                <th scope="row">{{ r.method }}</th><td class="num">{{ fmt(r.snr) }}</td><td class="num">{{ fmt(r.snrMissing) }}</td><td class="num">{{ fmt(r.ssim) }}</td><td class="num">{{ fmt(r.psnr) }}</td><td class="num">{{ fmt(r.time) }}</td><td>{{ r.error ?? '' }}</td>
              </tr>
            }
          </tbody>
        </table>
      </section>
    }
  `,
  styles: `
    .mono { font-family: monospace; font-size: 0.85rem; }
    .links { margin-top: 0; }
    .error { color: #b00020; }
    .controls { display: flex; gap: 0.75rem; flex-wrap: wrap; align-items: baseline; }
    .controls { --display-controls-field-width: 160px; }
    .hint { margin: 0 0 0.5rem; color: #555; font-size: 0.85rem; }
    .panels { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.5rem; }
    @media (max-width: 900px) { .panels { grid-template-columns: 1fr; } }
    .panel { margin: 0; }
    figcaption { font-weight: 600; margin-bottom: 0.25rem; }
    .change { font-weight: 400; font-size: 0.85rem; color: #444; }
    .stage { height: 52vh; min-height: 280px; border: 1px solid #ccc; }
    canvas { width: 100%; height: 100%; display: block; cursor: grab; touch-action: none; }
    canvas:focus { outline: 3px solid #1565c0; }
    .readout { min-height: 1.4em; }
    .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; margin-top: 0.5rem; }
    .download { display: flex; gap: 0.75rem; align-items: baseline; flex-wrap: wrap; }
    table.plain { border-collapse: collapse; width: 100%; }
    table.plain th, table.plain td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; }
    table.plain .num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.best { background: #e8f5e9; }
    .note { color: #444; font-size: 0.9rem; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  `,
})
export class ResultPage implements AfterViewInit, OnDestroy {
  readonly id = input.required<string>();
  private readonly http = inject(HttpClient);
  private readonly windows = inject(TraceWindowService);
  private readonly notifier = inject(Notifier);
  private readonly prefs = inject(DisplayPrefsStore);
  private readonly canvases = viewChildren<ElementRef<HTMLCanvasElement>>('panel');
  readonly panelNames = ['Input', 'Result', 'Difference (result − input)'];
  readonly job = signal<JobOut | null>(null);
  readonly result = signal<JobResultOut | null>(null);
  readonly dataset = signal<DatasetOut | null>(null);
  readonly problem = signal<string | null>(null);
  readonly hover = signal<string | null>(null);
  readonly windowLabel = signal('');
  readonly clip = signal(1);
  readonly change = signal<{ changedTraces: number; nTraces: number; maxAbs: number } | null>(null);
  readonly downloading = signal(false);
  readonly lastDownload = signal<string | null>(null);
  readonly metrics = computed<MetricRow[]>(() => metricRows(this.result()?.metrics));
  readonly comparisons = computed<Comparison[]>(() => comparisons(this.result()?.metrics));
  readonly hasQuality = computed(() => this.comparisons().length > 0 || this.metrics().some((m) => /snr|ssim/.test(m.name)));
  cmap: ColormapName = this.prefs.prefs().colormap;
  clipPct = this.prefs.prefs().clipPct;
  gain = this.prefs.prefs().gain;
  format: Format = 'segy';
  readonly fmt = cell;

  private panels: SectionPanel[] = [];
  private nTraces = 0;
  private nSamples = 0;
  private view: View = { t0: 0, t1: 1, s0: 0, s1: 1 };
  private input: TraceWindow | null = null;
  private output: TraceWindow | null = null;
  private diff: Float32Array | null = null;
  private drag: { x: number; y: number; view: View } | null = null;
  private readonly wanted = new Subject<WindowQuery>();
  private readonly subs = new Subscription();
  private resize?: ResizeObserver;
  private frame = 0;
  readonly stats: ResultViewerStats = { fetches: 0, painted: [0, 0, 0], clip: 0, window: '' };

  ngAfterViewInit(): void {
    this.panels = this.canvases().map((c) => new SectionPanel(c.nativeElement));
    window.promethiumResult = { stats: this.stats, view: () => ({ ...this.view }) };
    this.resize = new ResizeObserver(() => this.fit());
    for (const p of this.panels) this.resize.observe(p.canvas.parentElement as HTMLElement);
    this.subs.add(
      this.wanted
        .pipe(
          debounceTime(60),
          switchMap((q) => forkJoin([this.windows.fetch(this.dataset()?.id ?? '', q), this.windows.fetchResult(this.id(), q)])),
        )
        .subscribe({ next: ([a, b]) => this.receive(a, b), error: (e: unknown) => this.notifier.error(e) }),
    );
    jobsGet(this.http, '', { job_id: this.id() }).subscribe({
      next: (r) => {
        this.job.set(r.body);
        if (r.body.status !== 'succeeded') {
          this.problem.set(`The job is ${r.body.status}: it has no result to show yet.`);
          return;
        }
        this.loadResult(r.body);
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  ngOnDestroy(): void {
    this.subs.unsubscribe();
    this.resize?.disconnect();
    cancelAnimationFrame(this.frame);
    delete window.promethiumResult;
  }

  private loadResult(job: JobOut): void {
    jobsResults(this.http, '', { job_id: job.id }).subscribe({
      next: (r) => {
        this.result.set(r.body);
        const m = r.body.metrics as { n_traces?: number; n_samples?: number };
        if (!job.dataset_id) return;
        datasetsGet(this.http, '', { dataset_id: job.dataset_id }).subscribe({
          next: (d) => {
            this.dataset.set(d.body);
            const meta = d.body.metadata as { traces?: number; samples?: number };
            if (d.body.status !== 'ready' || !meta.traces || !meta.samples) {
              this.problem.set(`The input dataset is ${d.body.status}; the sections cannot be shown.`);
              return;
            }
            const nt = m.n_traces ?? meta.traces;
            const ns = m.n_samples ?? meta.samples;
            if (nt !== meta.traces || ns !== meta.samples) {
              this.problem.set(`The result (${nt} x ${ns}) and the input (${meta.traces} x ${meta.samples}) differ in shape: the common part is shown.`);
            }
            this.nTraces = Math.min(nt, meta.traces);
            this.nSamples = Math.min(ns, meta.samples);
            this.reset();
          },
          error: (e: unknown) => this.notifier.error(e),
        });
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  private fit(): void {
    for (const p of this.panels) fitToParent(p.canvas, p.canvas.parentElement as HTMLElement);
    this.request();
    this.draw();
  }

  reset(): void {
    this.view = { t0: 0, t1: this.nTraces, s0: 0, s1: this.nSamples };
    this.request();
    this.draw();
  }

  private request(): void {
    if (!this.nTraces || !this.panels.length) return;
    const q = windowQuery(this.view, this.panels[0].plot(), this.nTraces, this.nSamples);
    if (holds(this.input, this.view, q)) return;
    this.wanted.next(q);
  }

  private receive(a: TraceWindow, b: TraceWindow): void {
    this.stats.fetches++;
    this.input = a;
    this.output = b;
    this.diff = a.nTraces === b.nTraces && a.nSamples === b.nSamples ? difference(a.values, b.values) : null;
    this.change.set(this.diff ? { ...changeSummary(this.diff, a.nTraces, a.nSamples), nTraces: a.nTraces } : null);
    this.windowLabel.set(windowLabel(a));
    this.rebuild();
  }

  /** One symmetric clip for the three sections: the percentile of |input| (so a difference of the
   * size of the signal looks as strong as the signal). */
  rebuild(): void {
    const a = this.input;
    const b = this.output;
    if (!a || !b || !this.panels.length) return;
    const clip = percentileAbs(a.values, Math.min(100, Math.max(1, this.clipPct)));
    const gain = Math.max(0.01, this.gain);
    this.clip.set(clip / gain);
    this.stats.clip = clip / gain;
    this.panels[0].setImage(a, a.values, clip, gain, this.cmap);
    this.panels[1].setImage(b, b.values, clip, gain, this.cmap);
    if (this.diff) this.panels[2].setImage(a, this.diff, clip, gain, this.cmap);
    this.drawNow();
    this.stats.painted = this.panels.map((p) => p.painted());
    this.stats.window = `${a.nTraces}x${a.nSamples}`;
  }

  draw(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.drawNow());
  }

  private drawNow(): void {
    for (const p of this.panels) p.draw(this.view, (s) => this.timeOf(s));
  }

  private timeOf(sample: number): number {
    return sampleTime(sample, this.input, (this.dataset()?.metadata as { sample_interval?: number } | undefined)?.sample_interval);
  }

  zoom(factor: number, fx = 0.5, fy = 0.5): void {
    if (!this.nTraces) return;
    const v = this.view;
    const ct = v.t0 + fx * (v.t1 - v.t0);
    const cs = v.s0 + fy * (v.s1 - v.s0);
    const st = Math.min(this.nTraces, Math.max(4, (v.t1 - v.t0) * factor));
    const ss = Math.min(this.nSamples, Math.max(4, (v.s1 - v.s0) * factor));
    this.view = this.clamp({ t0: ct - fx * st, t1: ct + (1 - fx) * st, s0: cs - fy * ss, s1: cs + (1 - fy) * ss });
    this.request();
    this.draw();
  }

  private clamp(v: View): View {
    const st = v.t1 - v.t0;
    const ss = v.s1 - v.s0;
    const t0 = Math.min(Math.max(0, v.t0), this.nTraces - st);
    const s0 = Math.min(Math.max(0, v.s0), this.nSamples - ss);
    return { t0, t1: t0 + st, s0, s1: s0 + ss };
  }

  panBy(dt: number, ds = 0): void {
    const v = this.view;
    this.view = this.clamp({ t0: v.t0 + dt, t1: v.t1 + dt, s0: v.s0 + ds, s1: v.s1 + ds });
    this.request();
    this.draw();
  }

  down(e: PointerEvent): void {
    (e.target as HTMLElement).setPointerCapture?.(e.pointerId);
    this.drag = { x: e.clientX, y: e.clientY, view: { ...this.view } };
  }

  move(e: PointerEvent, i: number): void {
    const p = this.panels[i]?.plot();
    if (!p) return;
    if (this.drag) {
      const v = this.drag.view;
      const dt = (-(e.clientX - this.drag.x) / p.w) * (v.t1 - v.t0);
      const ds = (-(e.clientY - this.drag.y) / p.h) * (v.s1 - v.s0);
      this.view = this.clamp({ t0: v.t0 + dt, t1: v.t1 + dt, s0: v.s0 + ds, s1: v.s1 + ds });
      this.request();
      this.draw();
      return;
    }
    this.hover.set(this.readout(e.offsetX, e.offsetY, i));
  }

  up(e: PointerEvent): void {
    (e.target as HTMLElement).releasePointerCapture?.(e.pointerId);
    this.drag = null;
  }

  private readout(px: number, py: number, i: number): string | null {
    const p = this.panels[i].plot();
    const a = this.input;
    const b = this.output;
    if (!a || !b || px < p.x || py < p.y || px > p.x + p.w || py > p.y + p.h) return null;
    const v = this.view;
    const tr = v.t0 + ((px - p.x) / p.w) * (v.t1 - v.t0);
    const s = v.s0 + ((py - p.y) / p.h) * (v.s1 - v.s0);
    const ti = Math.floor((tr - a.traceStart) / a.traceStep);
    const si = Math.floor((s - a.sampleStart) / a.sampleStep);
    if (ti < 0 || si < 0 || ti >= a.nTraces || si >= a.nSamples) return null;
    const k = ti * a.nSamples + si;
    const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'dead' : x.toPrecision(4));
    return `trace ${a.traceStart + ti * a.traceStep} · time ${this.timeOf(a.sampleStart + si * a.sampleStep).toFixed(1)} ms · input ${f(a.values[k])} · result ${f(b.values[k])} · difference ${f(this.diff?.[k])}`;
  }

  wheel(e: WheelEvent, i: number): void {
    e.preventDefault();
    const p = this.panels[i].plot();
    this.zoom(e.deltaY > 0 ? 1.25 : 0.8, (e.offsetX - p.x) / p.w, (e.offsetY - p.y) / p.h);
  }

  key(e: KeyboardEvent): void {
    const v = this.view;
    const moves: Record<string, () => void> = {
      ArrowLeft: () => this.panBy(-(v.t1 - v.t0) / 10),
      ArrowRight: () => this.panBy((v.t1 - v.t0) / 10),
      ArrowUp: () => this.panBy(0, -(v.s1 - v.s0) / 10),
      ArrowDown: () => this.panBy(0, (v.s1 - v.s0) / 10),
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

  download(): void {
    const format = this.format;
    this.downloading.set(true);
    this.lastDownload.set(null);
    resultsDownload$Any(this.http, '', { job_id: this.id(), format }, undefined).subscribe({
      next: (r) => {
        const name = dispositionName(r.headers.get('Content-Disposition'), `result-${this.id()}.${format}`);
        const blob = r.body as Blob;
        const url = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = url;
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        this.downloading.set(false);
        this.lastDownload.set(`Downloaded ${name} (${bytes(blob.size)})`);
      },
      error: (e: unknown) => {
        this.downloading.set(false);
        void withParsedBlob(e).then((err) => this.notifier.error(err));
      },
    });
  }
}
