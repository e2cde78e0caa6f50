import { HttpClient, HttpErrorResponse, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { provideStore } from '@ngrx/store';
import { authInterceptor } from './auth.interceptor';
import { AuthActions, authFeature, initialAuthState } from './auth.store';
import { describeError } from './errors';
import { TokenStore } from './token-store';
import { JobsActions, jobsFeature, initialJobsState } from '../features/jobs/jobs.store';
import { JobOut } from '../api/models/job-out';

@Component({ template: '' })
class Blank {}

const pair = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-token-${n}`, token_type: 'bearer' as const, expires_in: 900, refresh_expires_in: 1000 });

describe('errors in plain words', () => {
  it('reads the envelope', () => {
    const e = new HttpErrorResponse({ status: 422, error: { error: { code: 'VALIDATION_ERROR', message: 'unknown pipeline preset', details: null } } });
    expect(describeError(e)).toBe('The request was not valid: unknown pipeline preset');
    expect(describeError(new HttpErrorResponse({ status: 0 }))).toBe('The server cannot be reached');
    expect(describeError(new HttpErrorResponse({ status: 502, statusText: 'Bad Gateway' }))).toBe('The server answered 502 Bad Gateway');
  });
});

describe('stores', () => {
  it('auth: login pending, failure message, logout resets', () => {
    let s = authFeature.reducer(initialAuthState, AuthActions.login({ username: 'a', password: 'b', returnUrl: '/' }));
    expect(s.pending).toBe(true);
    s = authFeature.reducer(s, AuthActions.loginFailure({ message: 'bad' }));
    expect(s).toEqual({ user: null, pending: false, error: 'bad' });
    expect(authFeature.reducer(s, AuthActions.loggedOut())).toEqual(initialAuthState);
  });

  it('jobs: an update replaces the listed job and is kept by id', () => {
    const job = { id: 'j1', status: 'queued', progress: 0 } as JobOut;
    let s = jobsFeature.reducer(initialJobsState, JobsActions.loaded({ items: [job], total: 1, page: 1, perPage: 20 }));
    s = jobsFeature.reducer(s, JobsActions.updated({ job: { ...job, status: 'running', progress: 0.5 } }));
    expect(s.items[0].status).toBe('running');
    expect(s.byId['j1'].progress).toBe(0.5);
  });
});

describe('auth interceptor', () => {
  let http: HttpClient;
  let ctl: HttpTestingController;
  let tokens: TokenStore;

  beforeEach(() => {
    sessionStorage.clear();
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: 'login', component: Blank }]), provideStore({}), provideHttpClient(withInterceptors([authInterceptor])), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpClient);
    ctl = TestBed.inject(HttpTestingController);
    tokens = TestBed.inject(TokenStore);
    tokens.set(pair(1));
  });

  it('attaches the bearer token', () => {
    http.get('/api/v1/jobs').subscribe();
    const req = ctl.expectOne('/api/v1/jobs');
    expect(req.request.headers.get('Authorization')).toBe('Bearer access-1');
    req.flush({});
  });

  it('on 401 refreshes once and retries with the new token', () => {
    let body: unknown;
    http.get('/api/v1/jobs').subscribe((b) => (body = b));
    ctl.expectOne('/api/v1/jobs').flush({ error: { code: 'AUTHENTICATION_ERROR', message: 'expired' } }, { status: 401, statusText: 'Unauthorized' });
    const refresh = ctl.expectOne('/api/v1/auth/refresh');
    expect(refresh.request.body).toEqual({ refresh_token: 'refresh-token-1' });
    expect(refresh.request.headers.has('Authorization')).toBe(false);
    refresh.flush(pair(2));
    const retry = ctl.expectOne('/api/v1/jobs');
    expect(retry.request.headers.get('Authorization')).toBe('Bearer access-2');
    retry.flush({ ok: true });
    expect(body).toEqual({ ok: true });
    expect(tokens.access).toBe('access-2');
  });

  it('clears the session when the refresh fails', () => {
    let failed = false;
    http.get('/api/v1/jobs').subscribe({ error: () => (failed = true) });
    ctl.expectOne('/api/v1/jobs').flush(null, { status: 401, statusText: 'Unauthorized' });
    ctl.expectOne('/api/v1/auth/refresh').flush(null, { status: 401, statusText: 'Unauthorized' });
    expect(failed).toBe(true);
    expect(tokens.access).toBeNull();
  });
});
