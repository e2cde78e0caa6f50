import { DatePipe, PercentPipe } from '@angular/common';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { MatCardModule } from '@angular/material/card';
import { RouterLink } from '@angular/router';
import { catchError, map, of } from 'rxjs';
import { datasetsList } from '../../api/fn/datasets/datasets-list';
import { jobsList } from '../../api/fn/jobs/jobs-list';
import { DatasetOut } from '../../api/models/dataset-out';
import { JobOut } from '../../api/models/job-out';
import { Notifier } from '../../core/errors';
import { bytes } from '../../core/format';

interface Ready {
  status: string;
  checks: Record<string, string>;
}

@Component({
  selector: 'app-dashboard-page',
  imports: [MatCardModule, RouterLink, DatePipe, PercentPipe],
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
  styles: `.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; }`,
})
export class DashboardPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  readonly ready = signal<Ready | null>(null);
  readonly datasets = signal<DatasetOut[]>([]);
  readonly datasetTotal = signal(0);
  readonly storageShown = signal(0);
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
    datasetsList(this.http, '', { per_page: 5 })
      .pipe(map((r) => r.body))
      .subscribe({
        next: (p) => {
          this.datasets.set(p.items);
          this.datasetTotal.set(p.total);
          this.storageShown.set(p.items.reduce((a, d) => a + d.size_bytes, 0));
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
