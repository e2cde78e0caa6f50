import { DatePipe, PercentPipe } from '@angular/common';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { MatCardModule } from '@angular/material/card';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { RouterLink } from '@angular/router';
import { catchError, map, of } from 'rxjs';
import { datasetsList } from '../../api/fn/datasets/datasets-list';
import { jobsList } from '../../api/fn/jobs/jobs-list';
import { DatasetOut } from '../../api/models/dataset-out';
import { JobOut } from '../../api/models/job-out';
import { SystemStatusOut } from '../../api/models/system-status-out';
import { systemStatus } from '../../api/fn/system/system-status';
import { Notifier } from '../../core/errors';
import { bytes } from '../../core/format';

interface Ready {
  status: string;
  checks: Record<string, string>;
}

@Component({
  selector: 'app-dashboard-page',
  imports: [MatCardModule, MatProgressBarModule, RouterLink, DatePipe, PercentPipe],
  template: `
    <h1>Dashboard</h1>
    <div class="grid">
      <mat-card>
        <mat-card-header><mat-card-title>Service health</mat-card-title></mat-card-header>
        <mat-card-content>
          @if (ready(); as r) {
            <p data-testid="health-status">Overall: <strong>{{ r.status }}</strong></p>
            <ul>
              @for (c of checkNames(r); track c) {
                <li>{{ c }}: {{ r.checks[c] }}</li>
              }
            </ul>
          } @else {
            <p>Checking…</p>
          }
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Workers and queue</mat-card-title></mat-card-header>
        <mat-card-content>
          @if (system(); as s) {
            <dl data-testid="system-status">
              <dt>Jobs run on</dt><dd>{{ s.workers.executor === 'embedded' ? 'the API process (' + (s.workers.slots ?? '?') + ' at once)' : s.workers.executor === 'celery' ? 'Celery workers' : 'nothing (no executor)' }}</dd>
              <dt>Broker</dt><dd>{{ s.workers.broker === 'none' ? 'none needed' : s.workers.broker }}</dd>
              <dt>Queued</dt><dd>{{ s.queue.queued }}@if (s.queue.oldest_queued_s !== null) { (oldest waiting {{ s.queue.oldest_queued_s }} s) }</dd>
              <dt>Running</dt><dd>{{ s.queue.running }}</dd>
              <dt>Without heartbeat</dt><dd [class.warn]="s.queue.stale_running > 0">{{ s.queue.stale_running }}</dd>
            </dl>
          } @else {
            <p>Loading…</p>
          }
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Storage used</mat-card-title></mat-card-header>
        <mat-card-content>
          @if (system(); as s) {
            <p data-testid="storage-used"><strong>{{ size(s.storage.dataset_bytes) }}</strong> in {{ s.storage.datasets }} dataset(s){{ s.storage.scope === 'all' ? ', all users' : ', yours' }}.</p>
            @if (s.storage.disk_total_bytes !== null && s.storage.disk_free_bytes !== null) {
              <p>Data disk: {{ size(s.storage.disk_free_bytes) }} free of {{ size(s.storage.disk_total_bytes) }}.</p>
              <mat-progress-bar mode="determinate" [value]="100 - (100 * s.storage.disk_free_bytes) / s.storage.disk_total_bytes" aria-label="Data disk used" />
            }
          } @else {
            <p>Loading…</p>
          }
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Recent datasets ({{ datasetTotal() }})</mat-card-title></mat-card-header>
        <mat-card-content>
          <ul>
            @for (d of datasets(); track d.id) {
              <li><a [routerLink]="['/datasets', d.id]">{{ d.name }}</a> · {{ d.status }} · {{ size(d.size_bytes) }}</li>
            } @empty {
              <li>No datasets yet. <a routerLink="/datasets">Upload one</a>.</li>
            }
          </ul>
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Recent jobs ({{ jobTotal() }})</mat-card-title></mat-card-header>
        <mat-card-content>
          <ul>
            @for (j of jobs(); track j.id) {
              <li><a [routerLink]="['/jobs', j.id]">{{ j.kind }}</a> · {{ j.status }} · {{ j.progress | percent }} · {{ j.created_at | date: 'short' }}</li>
            } @empty {
              <li>No jobs yet.</li>
            }
          </ul>
        </mat-card-content>
      </mat-card>
    </div>
  `,
  styles: `
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
    dd { margin: 0; }
    .warn { color: #b00020; font-weight: 600; }
  `,
})
export class DashboardPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  readonly ready = signal<Ready | null>(null);
  readonly system = signal<SystemStatusOut | null>(null);
  readonly datasets = signal<DatasetOut[]>([]);
  readonly datasetTotal = signal(0);
  readonly jobs = signal<JobOut[]>([]);
  readonly jobTotal = signal(0);
  readonly size = bytes;

  checkNames(r: Ready): string[] {
    return Object.keys(r.checks);
  }

  ngOnInit(): void {
    // /health/ready answers 503 with the same body when a check fails: show it, not an error.
    this.http
      .get<Ready>('/api/v1/health/ready')
      .pipe(catchError((e: unknown) => of(e instanceof HttpErrorResponse && e.error?.checks ? (e.error as Ready) : { status: 'unreachable', checks: {} })))
      .subscribe((r) => this.ready.set(r));
    systemStatus(this.http, '').subscribe({ next: (r) => this.system.set(r.body), error: (e: unknown) => this.notifier.error(e) });
    datasetsList(this.http, '', { per_page: 5 })
      .pipe(map((r) => r.body))
      .subscribe({
        next: (p) => {
          this.datasets.set(p.items);
          this.datasetTotal.set(p.total);
        },
        error: (e: unknown) => this.notifier.error(e),
      });
    jobsList(this.http, '', { per_page: 5 })
      .pipe(map((r) => r.body))
      .subscribe({
        next: (p) => {
          this.jobs.set(p.items);
          this.jobTotal.set(p.total);
        },
        error: (e: unknown) => this.notifier.error(e),
      });
  }
}
