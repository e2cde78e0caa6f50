import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, TestRequest, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { ResultPage } from './result-page';

const N_TR = 40;
const N_S = 60;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** The request matching `fn`, waiting for it (the windows are asked for after a debounce). */
async function next(ctl: HttpTestingController, fn: (r: { url: string }) => boolean): Promise<TestRequest> {
  for (let i = 0; i < 100; i++) {
    const m = ctl.match(fn);
    if (m.length) return m[0];
    await tick(30);
  }
  throw new Error('the request never came');
}

function section(scale: number): ArrayBuffer {
  const v = new Float32Array(N_TR * N_S);
  for (let i = 0; i < N_TR; i++) for (let j = 0; j < N_S; j++) v[i * N_S + j] = scale * Math.sin(i / 3 + j / 5);
  return v.buffer;
}

function flushWindow(req: TestRequest, scale: number): void {
  req.flush(section(scale), { headers: { 'X-Shape': `${N_TR},${N_S}`, 'X-Trace-Start': '0', 'X-Sample-Interval': '4', 'X-Time-Start': '0' } });
}

describe('result viewer page', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    ctl = TestBed.inject(HttpTestingController);
  });

  it('shows input, result and difference with one clip, the metrics and the method comparison', async () => {
    const fixture = TestBed.createComponent(ResultPage);
    fixture.componentRef.setInput('id', 'j1');
    document.body.style.width = '1400px';
    fixture.detectChanges();
    await fixture.whenStable();
    ctl.expectOne('/api/v1/jobs/j1').flush({ id: 'j1', kind: 'compare', status: 'succeeded', progress: 1, dataset_id: 'd1' });
    ctl.expectOne('/api/v1/jobs/j1/results').flush({
      job_id: 'j1',
      status: 'succeeded',
      output_key: 'k',
      metadata_key: 'm',
      steps: [],
      results: [],
      metrics: {
        seconds: 1.5,
        n_traces: N_TR,
        n_samples: N_S,
        results: { compare: { decimate: 'random:0.5', seed: 1, n_live: 40, n_hidden: 20, best: 'pocs', results: [{ method: 'linear', snr_db: 5, snr_missing_db: 3, ssim: 0.8, psnr_db: 20, time_s: 0.1, error: null }, { method: 'pocs', snr_db: 6, snr_missing_db: 4, ssim: 0.85, psnr_db: 21, time_s: 0.3, error: null }] } },
      },
    });
    ctl.expectOne('/api/v1/datasets/d1').flush({ id: 'd1', name: 'line', status: 'ready', metadata: { traces: N_TR, samples: N_S, sample_interval: 4 } });
    const input = await next(ctl, (r) => r.url === '/api/v1/datasets/d1/traces');
    const output = await next(ctl, (r) => r.url === '/api/v1/results/j1/traces');
    expect(output.request.params.get('trace_start')).toBe(input.request.params.get('trace_start'));
    expect(output.request.params.get('sample_step')).toBe(input.request.params.get('sample_step'));
    flushWindow(input, 1);
    flushWindow(output, 0.5);
    fixture.detectChanges();
    const stats = window.promethiumResult!.stats;
    expect(stats.fetches).toBe(1);
    expect(stats.painted.every((p) => p > 0.5)).toBe(true); // the difference is -0.5 x input: painted too
    expect(stats.clip).toBeGreaterThan(0.9); // 99th percentile of |input| (amplitude 1), not of the result
    expect(stats.clip).toBeLessThanOrEqual(1);
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('[data-testid="metrics-table"]')?.textContent).toContain('Run time (s)');
    expect(el.querySelector('[data-testid="change-summary"]')?.textContent).toContain(`${N_TR} of ${N_TR} traces in view changed`);
    const rows = el.querySelectorAll('[data-testid="comparison-table"] tbody tr');
    expect(rows.length).toBe(2);
    expect(rows[1].classList.contains('best')).toBe(true);
    expect(el.querySelector('[data-testid="best-method"]')?.textContent).toBe('pocs');
    fixture.destroy();
    expect(window.promethiumResult).toBeUndefined();
  });

  it('a job that has not succeeded says so and loads no sections', async () => {
    const fixture = TestBed.createComponent(ResultPage);
    fixture.componentRef.setInput('id', 'j2');
    fixture.detectChanges();
    ctl.expectOne('/api/v1/jobs/j2').flush({ id: 'j2', kind: 'reconstruct', status: 'running', progress: 0.3, dataset_id: 'd1' });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).querySelector('[data-testid="result-problem"]')?.textContent).toContain('The job is running');
    await tick(100);
    ctl.verify();
  });
});
