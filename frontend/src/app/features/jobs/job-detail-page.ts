import { DatePipe, JsonPipe, PercentPipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnDestroy, OnInit, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { RouterLink } from '@angular/router';
import { Store } from '@ngrx/store';
import { jobsLogs } from '../../api/fn/jobs/jobs-logs';
import { JobEventOut } from '../../api/models/job-event-out';
import { Notifier } from '../../core/errors';
import { JobSocket } from './job-socket';
import { FINAL_STATUSES } from './job-updates';
import { JobsActions, jobsFeature } from './jobs.store';

@Component({
  selector: 'app-job-detail-page',
  imports: [DatePipe, PercentPipe, JsonPipe, RouterLink, MatCardModule, MatButtonModule, MatProgressBarModule],
  template: `
    @if (job(); as j) {
      <h1>Job {{ j.kind }} <small class="mono">{{ j.id }}</small></h1>
      <p>Status: <strong data-testid="job-status">{{ j.status }}</strong> · {{ j.progress | percent }}
        @if (!final()) { <span class="live" data-testid="job-updates">· updates: {{ liveState() === 'live' ? 'live (WebSocket)' : liveState() === 'polling' ? 'polling (the live connection dropped)' : 'connecting…' }}</span> }</p>
      <mat-progress-bar mode="determinate" [value]="100 * j.progress" aria-label="Job progress" />
      @if (j.error) { <p class="error" role="alert">{{ j.error }}</p> }
      <p>
        @if (!final()) { <button mat-stroked-button type="button" (click)="cancel()" data-testid="job-cancel">Cancel job</button> }
        @if (j.status === 'succeeded') { <a mat-flat-button [routerLink]="['/results', j.id]" data-testid="open-result">Open the result viewer</a> }
        @if (j.dataset_id) { <a mat-button [routerLink]="['/datasets', j.dataset_id]">Input dataset</a> }
      </p>
      <div class="grid">
        <mat-card>
          <mat-card-header><mat-card-title>Timings</mat-card-title></mat-card-header>
          <mat-card-content>
            <dl>
              <dt>Pipeline</dt><dd>{{ j.pipeline ?? '–' }}</dd>
              <dt>Created</dt><dd>{{ j.created_at | date: 'medium' }}</dd>
              <dt>Started</dt><dd>{{ (j.started_at | date: 'medium') ?? '–' }}</dd>
              <dt>Finished</dt><dd>{{ (j.finished_at | date: 'medium') ?? '–' }}</dd>
              <dt>Queued</dt><dd>{{ j.queued_seconds ?? '–' }} s</dd>
              <dt>Ran</dt><dd>{{ j.run_seconds ?? '–' }} s</dd>
            </dl>
          </mat-card-content>
        </mat-card>
        <mat-card>
          <mat-card-header><mat-card-title>Metrics</mat-card-title></mat-card-header>
          <mat-card-content>
            @if (j.metrics) { <pre>{{ j.metrics | json }}</pre> } @else { <p>None yet.</p> }
          </mat-card-content>
        </mat-card>
      </div>
    } @else {
      <p>Loading…</p>
    }
    <h2>Log</h2>
    <ol class="log" aria-live="polite" aria-label="Job log" tabindex="0" data-testid="job-log">
      @for (e of events(); track e.id) {
        <li><span class="mono">{{ e.created_at | date: 'HH:mm:ss' }}</span> [{{ e.kind }}] {{ e.message ?? (e.data | json) }}</li>
      } @empty {
        <li>No events yet.</li>
      }
    </ol>
  `,
  styles: `
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; margin-top: 1rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
    dd { margin: 0; }
    .mono { font-family: monospace; font-size: 0.8rem; }
    .error { color: #b00020; }
    .live { color: #555; font-size: 0.85rem; }
    .log { font-size: 0.9rem; max-height: 40vh; overflow: auto; }
    pre { white-space: pre-wrap; }
  `,
})
export class JobDetailPage implements OnInit, OnDestroy {
  readonly id = input.required<string>();
  private readonly store = inject(Store);
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  private readonly byId = this.store.selectSignal(jobsFeature.selectById);
  readonly job = computed(() => this.byId()[this.id()] ?? null);
  readonly final = computed(() => FINAL_STATUSES.includes(this.job()?.status ?? ''));
  readonly events = signal<JobEventOut[]>([]);
  readonly liveState = inject(JobSocket).state;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastFetch = false;
  private inFlight = false;
  private again = false;
  /** Each pushed status or progress change reads the log again (the socket carries no log lines). */
  private readonly onUpdate = effect(() => {
    const j = this.job();
    if (j) untracked(() => this.loadLogs());
  });

  ngOnInit(): void {
    this.store.dispatch(JobsActions.watch({ jobId: this.id() }));
    this.loadLogs();
    // Polled too: log lines are not pushed, only status and progress.
    this.timer = setInterval(() => this.loadLogs(), 1500);
  }

  ngOnDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private loadLogs(): void {
    if (this.inFlight) {
      this.again = true; // read once more when this one answers
      return;
    }
    if (this.final()) {
      if (this.lastFetch) return; // one last read after the job finished
      this.lastFetch = true;
    }
    this.inFlight = true;
    jobsLogs(this.http, '', { job_id: this.id(), per_page: 1000 }).subscribe({
      next: (r) => this.events.set(r.body.items),
      error: (e: unknown) => this.notifier.error(e),
    }).add(() => {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.loadLogs();
      }
    });
  }

  cancel(): void {
    this.store.dispatch(JobsActions.cancel({ jobId: this.id() }));
  }
}
