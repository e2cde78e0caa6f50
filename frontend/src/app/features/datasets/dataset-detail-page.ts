import { DatePipe, JsonPipe, PercentPipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnDestroy, OnInit, inject, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { RouterLink } from '@angular/router';
import { datasetsGet } from '../../api/fn/datasets/datasets-get';
import { jobsList } from '../../api/fn/jobs/jobs-list';
import { DatasetOut } from '../../api/models/dataset-out';
import { JobOut } from '../../api/models/job-out';
import { Notifier } from '../../core/errors';
import { bytes } from '../../core/format';

@Component({
  selector: 'app-dataset-detail-page',
  imports: [DatePipe, JsonPipe, PercentPipe, RouterLink, MatCardModule, MatButtonModule, MatProgressBarModule],
  template: `
    @if (ds(); as d) {
      <h1>{{ d.name }}</h1>
      @if (d.status === 'ready') {
        <p>
          <a mat-flat-button [routerLink]="['/viewer', d.id]" data-testid="open-viewer">Open in viewer</a>
          <a mat-stroked-button [routerLink]="['/jobs']" [queryParams]="{ dataset: d.id }">Run a job on it</a>
        </p>
      } @else if (d.status === 'failed') {
        <p class="error" role="alert">Ingestion failed{{ d.metadata['error'] ? ': ' + d.metadata['error'] : '' }}. The viewer and jobs need a ready dataset; upload the file again.</p>
      } @else {
        <div class="pending" role="status" data-testid="dataset-pending">
          <p>The dataset is <strong>{{ d.status }}</strong>; the viewer and jobs open once it is ready.
            @if (ingest(); as j) { Ingest job: <a [routerLink]="['/jobs', j.id]">{{ j.status }}</a> ({{ j.progress | percent }}). }</p>
          <mat-progress-bar [mode]="ingest() ? 'determinate' : 'indeterminate'" [value]="100 * (ingest()?.progress ?? 0)" aria-label="Ingestion progress" />
        </div>
      }
      <div class="grid">
        <mat-card>
          <mat-card-header><mat-card-title>Dataset</mat-card-title></mat-card-header>
          <mat-card-content>
            <dl>
              <dt>Status</dt><dd data-testid="dataset-status">{{ d.status }}</dd>
              <dt>Format</dt><dd>{{ d.format ?? '–' }}</dd>
              <dt>Size</dt><dd>{{ size(d.size_bytes) }}</dd>
              <dt>SHA-256</dt><dd class="mono">{{ d.checksum_sha256 ?? '–' }}</dd>
              <dt>Created</dt><dd>{{ d.created_at | date: 'medium' }}</dd>
            </dl>
          </mat-card-content>
        </mat-card>
        <mat-card>
          <mat-card-header><mat-card-title>Headers summary and geometry</mat-card-title></mat-card-header>
          <mat-card-content>
            <dl>
              @for (k of keys(d.metadata); track k) {
                <dt>{{ k }}</dt><dd class="mono">{{ d.metadata[k] | json }}</dd>
              }
            </dl>
            @if (!d.metadata['qc']) {
              <p>No QC report for this dataset yet (run a QC job).</p>
            }
          </mat-card-content>
        </mat-card>
        <mat-card>
          <mat-card-header><mat-card-title>Preview</mat-card-title></mat-card-header>
          <mat-card-content>
            @if (preview(); as src) {
              <img [src]="src" alt="Preview image of the section" class="preview" />
            } @else {
              <p>{{ d.status === 'ready' ? 'Loading the preview…' : 'No preview until the dataset is ready.' }}</p>
            }
          </mat-card-content>
        </mat-card>
      </div>
    } @else {
      <p>Loading…</p>
    }
  `,
  styles: `
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
    dd { margin: 0; overflow-wrap: anywhere; }
    .mono { font-family: monospace; font-size: 0.85rem; }
    .preview { max-width: 100%; }
    .error { color: #b00020; }
    .pending { max-width: 640px; margin-bottom: 1rem; }
    a { margin-right: 0.5rem; }
  `,
})
export class DatasetDetailPage implements OnInit, OnDestroy {
  readonly id = input.required<string>();
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  readonly ds = signal<DatasetOut | null>(null);
  readonly preview = signal<string | null>(null);
  /** The ingest job of a dataset that is not ready yet (asynchronous ingestion), when there is one. */
  readonly ingest = signal<JobOut | null>(null);
  readonly size = bytes;
  private timer: ReturnType<typeof setTimeout> | null = null;

  keys(o: Record<string, unknown>): string[] {
    return Object.keys(o);
  }

  ngOnInit(): void {
    this.load();
  }

  ngOnDestroy(): void {
    if (this.timer) clearTimeout(this.timer);
    const p = this.preview();
    if (p) URL.revokeObjectURL(p);
  }

  private load(): void {
    datasetsGet(this.http, '', { dataset_id: this.id() }).subscribe({
      next: (r) => {
        this.ds.set(r.body);
        if (r.body.status === 'ready') this.loadPreview();
        else if (r.body.status !== 'failed') {
          this.loadIngest();
          this.timer = setTimeout(() => this.load(), 1500);
        }
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  private loadIngest(): void {
    jobsList(this.http, '', { dataset_id: this.id(), kind: 'ingest', per_page: 1 }).subscribe({
      next: (r) => this.ingest.set(r.body.items[0] ?? null),
      error: () => this.ingest.set(null), // progress is a nicety: the status still refreshes
    });
  }

  private loadPreview(): void {
    // The preview needs the bearer token, so it is fetched as a blob rather than by <img src>.
    this.http.get(`/api/v1/datasets/${encodeURIComponent(this.id())}/preview`, { responseType: 'blob' }).subscribe({
      next: (b) => this.preview.set(URL.createObjectURL(b)),
      error: (e: unknown) => this.notifier.error(e),
    });
  }
}
