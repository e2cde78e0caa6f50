import { HttpClient } from '@angular/common/http';
import { Injectable, InjectionToken, inject, signal } from '@angular/core';
import { Observable, Subject, concat, defer, filter, map, of, scan, switchMap, takeWhile, catchError, finalize, share } from 'rxjs';
import { jobsGet } from '../../api/fn/jobs/jobs-get';
import { JobOut } from '../../api/models/job-out';
import { TokenStore } from '../../core/token-store';
import { FINAL_STATUSES, JobUpdates, PollingJobUpdates } from './job-updates';

/** What /api/v1/ws pushes (see src/promethium/api/routers/ws.py). */
export type JobEvent =
  | { type: 'ready'; user: string }
  | { type: 'subscribed'; jobs: { job_id: string; status: string; progress: number }[]; denied: string[] }
  | { type: 'status'; job_id: string; status: string; message?: string | null }
  | { type: 'progress'; job_id: string; progress: number; message?: string | null }
  | { type: 'error'; message: string }
  | { type: 'unsubscribed'; job_ids: string[] };

/** The smallest part of the browser's WebSocket the client uses (a fake one in the tests). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export const SOCKET_FACTORY = new InjectionToken<(url: string) => SocketLike>('SocketFactory', {
  providedIn: 'root',
  factory: () => (url: string) => new WebSocket(url),
});

/** The socket's URL. The token goes in the first message, not the URL: URLs end up in access logs. */
export function socketUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/ws`;
}

/** One shared connection to /api/v1/ws: opened on the first subscription, closed when nobody listens.
 * `closed$` fires when the connection drops (subscribers then fall back to polling). */
@Injectable({ providedIn: 'root' })
export class JobSocket {
  private readonly tokens = inject(TokenStore);
  private readonly factory = inject(SOCKET_FACTORY);
  private socket: SocketLike | null = null;
  private ready = false;
  private readonly pending = new Set<string>();
  private readonly listeners = new Map<string, number>();
  readonly events$ = new Subject<JobEvent>();
  readonly closed$ = new Subject<void>();
  /** 'live' while the socket is open, 'polling' after it dropped, 'idle' before any use. */
  readonly state = signal<'idle' | 'connecting' | 'live' | 'polling'>('idle');

  subscribe(jobId: string): void {
    this.listeners.set(jobId, (this.listeners.get(jobId) ?? 0) + 1);
    this.pending.add(jobId);
    this.connect();
    this.flush();
  }

  unsubscribe(jobId: string): void {
    const n = (this.listeners.get(jobId) ?? 1) - 1;
    if (n > 0) {
      this.listeners.set(jobId, n);
      return;
    }
    this.listeners.delete(jobId);
    this.pending.delete(jobId);
    if (this.ready && this.socket) this.socket.send(JSON.stringify({ type: 'unsubscribe', job_ids: [jobId] }));
    if (this.listeners.size === 0) this.disconnect();
  }

  private connect(): void {
    if (this.socket) return;
    const token = this.tokens.access;
    if (!token) {
      this.drop();
      return;
    }
    this.state.set('connecting');
    let s: SocketLike;
    try {
      s = this.factory(socketUrl(location));
    } catch {
      this.drop();
      return;
    }
    this.socket = s;
    s.onopen = () => s.send(JSON.stringify({ type: 'auth', token }));
    s.onmessage = (ev: MessageEvent) => {
      let msg: JobEvent;
      try {
        msg = JSON.parse(String(ev.data)) as JobEvent;
      } catch {
        return;
      }
      if (msg.type === 'ready') {
        this.ready = true;
        this.state.set('live');
        for (const id of this.listeners.keys()) this.pending.add(id);
        this.flush();
      }
      this.events$.next(msg);
    };
    s.onclose = () => this.drop();
    s.onerror = () => this.drop();
  }

  private flush(): void {
    if (!this.ready || !this.socket || this.pending.size === 0) return;
    this.socket.send(JSON.stringify({ type: 'subscribe', job_ids: [...this.pending] }));
    this.pending.clear();
  }

  private drop(): void {
    const had = this.socket !== null || this.state() === 'connecting';
    if (this.socket) {
      this.socket.onopen = this.socket.onclose = this.socket.onerror = this.socket.onmessage = null;
      if (this.socket.readyState <= 1) this.socket.close();
    }
    this.socket = null;
    this.ready = false;
    this.state.set('polling'); // the watchers poll from now on; a new watch tries the socket again
    if (had || this.listeners.size) this.closed$.next();
  }

  private disconnect(): void {
    if (!this.socket) return; // dropped already
    this.socket.onopen = this.socket.onclose = this.socket.onerror = this.socket.onmessage = null;
    this.socket.close(1000);
    this.socket = null;
    this.ready = false;
    this.state.set('idle');
  }
}

/** Apply one pushed event to the job as last known. */
export function applyEvent(job: JobOut, ev: JobEvent): JobOut {
  if (ev.type === 'status' && ev.job_id === job.id) return { ...job, status: ev.status as JobOut['status'], error: ev.status === 'failed' ? (ev.message ?? job.error) : job.error };
  if (ev.type === 'progress' && ev.job_id === job.id) return { ...job, progress: Math.max(job.progress, ev.progress) };
  if (ev.type === 'subscribed') {
    const s = ev.jobs.find((j) => j.job_id === job.id);
    if (s) return { ...job, status: s.status as JobOut['status'], progress: s.progress };
  }
  return job;
}

/** Live updates pushed over the WebSocket; the job is read once over HTTP first and again when it
 * finishes (metrics, timings). When the socket drops, the rest of the watch is polled. */
@Injectable({ providedIn: 'root' })
export class LiveJobUpdates implements JobUpdates {
  private readonly http = inject(HttpClient);
  private readonly socket = inject(JobSocket);
  private readonly polling = inject(PollingJobUpdates);

  watch(jobId: string): Observable<JobOut> {
    const fetch = (): Observable<JobOut> => jobsGet(this.http, '', { job_id: jobId }).pipe(map((r) => r.body));
    return fetch().pipe(
      switchMap((first) => {
        if (FINAL_STATUSES.includes(first.status)) return of(first);
        const fallback = new Subject<'drop'>();
        const live$ = defer(() => {
          const dropSub = this.socket.closed$.subscribe(() => fallback.next('drop'));
          queueMicrotask(() => this.socket.subscribe(jobId)); // after the events$ subscription below
          return this.socket.events$.pipe(
            filter((ev) => ev.type === 'subscribed' || ('job_id' in ev && ev.job_id === jobId)),
            scan((job, ev) => applyEvent(job, ev), first),
            finalize(() => {
              dropSub.unsubscribe();
              this.socket.unsubscribe(jobId);
            }),
          );
        });
        const until = <T>(src: Observable<T>): Observable<T | 'drop'> =>
          new Observable<T | 'drop'>((sub) => {
            const a = src.subscribe(sub);
            const b = fallback.subscribe((d) => {
              sub.next(d);
              sub.complete();
            });
            return () => {
              a.unsubscribe();
              b.unsubscribe();
            };
          });
        let last = first;
        return concat(
          of(first),
          until(live$).pipe(
            takeWhile((j): j is JobOut => j !== 'drop'),
            map((j) => (last = j)),
            takeWhile((j) => !FINAL_STATUSES.includes(j.status), true),
            switchMap((j) => (FINAL_STATUSES.includes(j.status) ? fetch().pipe(catchError(() => of(j))) : of(j))),
          ),
          defer(() => (FINAL_STATUSES.includes(last.status) ? of<JobOut>() : this.polling.watch(jobId))),
        );
      }),
      share(),
    );
  }
}
