import { createActionGroup, createFeature, createReducer, on, props } from '@ngrx/store';
import { JobOut } from '../../api/models/job-out';

export const JobsActions = createActionGroup({
  source: 'Jobs',
  events: {
    Load: props<{ page: number; perPage: number; status: string | null }>(),
    Loaded: props<{ items: JobOut[]; total: number; page: number; perPage: number }>(),
    'Load Failure': props<{ message: string }>(),
    Watch: props<{ jobId: string }>(),
    Updated: props<{ job: JobOut }>(),
    Cancel: props<{ jobId: string }>(),
  },
});

export interface JobsState {
  items: JobOut[];
  total: number;
  page: number;
  perPage: number;
  loading: boolean;
  error: string | null;
  byId: Record<string, JobOut>;
}

export const initialJobsState: JobsState = { items: [], total: 0, page: 1, perPage: 20, loading: false, error: null, byId: {} };

export const jobsFeature = createFeature({
  name: 'jobs',
  reducer: createReducer(
    initialJobsState,
    on(JobsActions.load, (s) => ({ ...s, loading: true, error: null })),
    on(JobsActions.loaded, (s, { items, total, page, perPage }) => ({ ...s, items, total, page, perPage, loading: false })),
    on(JobsActions.loadFailure, (s, { message }) => ({ ...s, loading: false, error: message })),
    on(JobsActions.updated, (s, { job }) => ({
      ...s,
      byId: { ...s.byId, [job.id]: job },
      items: s.items.map((j) => (j.id === job.id ? job : j)),
    })),
  ),
});
