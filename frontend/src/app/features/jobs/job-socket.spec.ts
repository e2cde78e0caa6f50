import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { JobOut } from '../../api/models/job-out';
import { TokenStore } from '../../core/token-store';
import { JobSocket, LiveJobUpdates, SOCKET_FACTORY, SocketLike, applyEvent, socketUrl } from './job-socket';
import { PollingJobUpdates } from './job-updates';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  sent: unknown[] = [];
  closedWith: number | undefined | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  push(msg: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(msg) }));
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }
}

const job = (status: string, progress = 0): JobOut => ({ id: 'j1', status, progress, kind: 'reconstruct' }) as JobOut;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('live job updates over the WebSocket', () => {
  let sockets: FakeSocket[];
  let ctl: HttpTestingController;

  beforeEach(() => {
    sessionStorage.clear();
    sockets = [];
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), { provide: SOCKET_FACTORY, useValue: (url: string) => { const s = new FakeSocket(url); sockets.push(s); return s; } }],
    });
    ctl = TestBed.inject(HttpTestingController);
    TestBed.inject(TokenStore).set({ access_token: 'acc', refresh_token: 'refresh-token-x', token_type: 'bearer', expires_in: 900, refresh_expires_in: 1000 });
  });

  it('builds the socket URL without the token (that goes in the first message)', () => {
    expect(socketUrl({ protocol: 'https:', host: 'h:1' })).toBe('wss://h:1/api/v1/ws');
    expect(socketUrl({ protocol: 'http:', host: 'h' })).toBe('ws://h/api/v1/ws');
  });

  it('applies status and progress events of its own job only', () => {
    let j = applyEvent(job('queued'), { type: 'status', job_id: 'j1', status: 'running' });
    j = applyEvent(j, { type: 'progress', job_id: 'j1', progress: 0.4 });
    j = applyEvent(j, { type: 'progress', job_id: 'other', progress: 0.9 });
    expect([j.status, j.progress]).toEqual(['running', 0.4]);
  });

  it('reads the job, subscribes, follows pushed events and reads it again at the end', async () => {
    const seen: JobOut[] = [];
    let done = false;
    TestBed.inject(LiveJobUpdates).watch('j1').subscribe({ next: (j) => seen.push(j), complete: () => (done = true) });
    ctl.expectOne('/api/v1/jobs/j1').flush(job('queued'));
    await tick();
    expect(sockets.length).toBe(1);
    const s = sockets[0];
    expect(s.url).toMatch(/\/api\/v1\/ws$/);
    s.onopen?.(new Event('open'));
    expect(s.sent).toEqual([{ type: 'auth', token: 'acc' }]);
    s.push({ type: 'ready', user: 'u' });
    expect(s.sent).toEqual([{ type: 'auth', token: 'acc' }, { type: 'subscribe', job_ids: ['j1'] }]);
    expect(TestBed.inject(JobSocket).state()).toBe('live');
    s.push({ type: 'subscribed', jobs: [{ job_id: 'j1', status: 'running', progress: 0.1 }], denied: [] });
    s.push({ type: 'progress', job_id: 'j1', progress: 0.5 });
    s.push({ type: 'status', job_id: 'j1', status: 'succeeded' });
    ctl.expectOne('/api/v1/jobs/j1').flush({ ...job('succeeded', 1), run_seconds: 2 });
    expect(seen.map((j) => `${j.status}:${j.progress}`)).toEqual(['queued:0', 'running:0.1', 'running:0.5', 'succeeded:1']);
    expect(seen[3].run_seconds).toBe(2);
    expect(done).toBe(true);
    expect(s.closedWith).toBe(1000); // nobody listens any more
    ctl.verify();
  });

  it('falls back to polling when the socket drops', async () => {
    TestBed.inject(PollingJobUpdates).intervalMs = 20;
    const seen: string[] = [];
    let done = false;
    TestBed.inject(LiveJobUpdates).watch('j1').subscribe({ next: (j) => seen.push(j.status), complete: () => (done = true) });
    ctl.expectOne('/api/v1/jobs/j1').flush(job('running', 0.2));
    await tick();
    sockets[0].push({ type: 'ready', user: 'u' });
    sockets[0].drop();
    expect(TestBed.inject(JobSocket).state()).toBe('polling');
    await tick(5);
    ctl.expectOne('/api/v1/jobs/j1').flush(job('running', 0.6));
    await tick(30);
    ctl.expectOne('/api/v1/jobs/j1').flush(job('failed', 0.6));
    expect(seen).toEqual(['running', 'running', 'failed']);
    expect(done).toBe(true);
  });

  it('a job already finished needs no socket', () => {
    const seen: string[] = [];
    TestBed.inject(LiveJobUpdates).watch('j1').subscribe((j) => seen.push(j.status));
    ctl.expectOne('/api/v1/jobs/j1').flush(job('cancelled'));
    expect(seen).toEqual(['cancelled']);
    expect(sockets.length).toBe(0);
  });
});
