import { HttpClient } from '@angular/common/http';
import { Injectable, InjectionToken, inject } from '@angular/core';
import { Observable, distinctUntilChanged, switchMap, takeWhile, timer } from 'rxjs';
import { map } from 'rxjs/operators';
import { jobsGet } from '../../api/fn/jobs/jobs-get';
import { JobOut } from '../../api/models/job-out';

export const FINAL_STATUSES: readonly string[] = ['succeeded', 'failed', 'cancelled'];

/** Live updates of one job until it finishes (polling here; `LiveJobUpdates` pushes over /api/v1/ws). */
export interface JobUpdates {
  watch(jobId: string): Observable<JobOut>;
}

/** Provided in app.config.ts: live updates over the WebSocket with polling as the fallback. */
export const JOB_UPDATES = new InjectionToken<JobUpdates>('JobUpdates');

@Injectable({ providedIn: 'root' })
export class PollingJobUpdates implements JobUpdates {
  private readonly http = inject(HttpClient);
  intervalMs = 1000;

  watch(jobId: string): Observable<JobOut> {
    return timer(0, this.intervalMs).pipe(
      switchMap(() => jobsGet(this.http, '', { job_id: jobId })),
      map((r) => r.body),
      distinctUntilChanged((a, b) => a.status === b.status && a.progress === b.progress),
      takeWhile((j) => !FINAL_STATUSES.includes(j.status), true),
    );
  }
}
