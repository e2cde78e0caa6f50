import { HttpClient } from '@angular/common/http';
import { inject } from '@angular/core';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import { catchError, EMPTY, map, mergeMap, of, switchMap, tap } from 'rxjs';
import { jobsCancel } from '../../api/fn/jobs/jobs-cancel';
import { jobsList } from '../../api/fn/jobs/jobs-list';
import { JobOut } from '../../api/models/job-out';
import { describeError, Notifier } from '../../core/errors';
import { JOB_UPDATES } from './job-updates';
import { JobsActions } from './jobs.store';

type Status = NonNullable<Parameters<typeof jobsList>[2]>['status'];

export const loadJobs = createEffect(
  (actions = inject(Actions), http = inject(HttpClient)) =>
    actions.pipe(
      ofType(JobsActions.load),
      switchMap(({ page, perPage, status }) =>
        jobsList(http, '', { page, per_page: perPage, status: (status ?? null) as Status }).pipe(
          map((r) => JobsActions.loaded({ items: r.body.items, total: r.body.total, page, perPage })),
          catchError((err: unknown) => of(JobsActions.loadFailure({ message: describeError(err) }))),
        ),
      ),
    ),
  { functional: true },
);

export const watchJob = createEffect(
  (actions = inject(Actions), updates = inject(JOB_UPDATES), notifier = inject(Notifier)) =>
    actions.pipe(
      ofType(JobsActions.watch),
      mergeMap(({ jobId }) =>
        updates.watch(jobId).pipe(
          map((job: JobOut) => JobsActions.updated({ job })),
          catchError((err: unknown) => {
            notifier.error(err);
            return EMPTY;
          }),
        ),
      ),
    ),
  { functional: true },
);

export const cancelJob = createEffect(
  (actions = inject(Actions), http = inject(HttpClient), notifier = inject(Notifier)) =>
    actions.pipe(
      ofType(JobsActions.cancel),
      mergeMap(({ jobId }) =>
        jobsCancel(http, '', { job_id: jobId }).pipe(
          tap(() => notifier.info('Cancellation requested')),
          map((r) => JobsActions.updated({ job: r.body })),
          catchError((err: unknown) => {
            notifier.error(err);
            return EMPTY;
          }),
        ),
      ),
    ),
  { functional: true },
);
