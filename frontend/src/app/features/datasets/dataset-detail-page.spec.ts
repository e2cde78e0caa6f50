import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { DatasetDetailPage } from './dataset-detail-page';
import { isBusy } from './datasets-page';

const ds = (status: string) => ({ id: 'd1', owner_id: 'u', name: 'line.sgy', status, format: 'segy', size_bytes: 1000, checksum_sha256: null, metadata: {}, created_at: '2026-12-05T08:00:00Z', updated_at: '2026-12-05T08:00:00Z' });

describe('dataset status while it is ingested', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    ctl = TestBed.inject(HttpTestingController);
  });

  it('busy statuses are the ones on the way to ready', () => {
    expect(['uploaded', 'ingesting', 'processing'].map(isBusy)).toEqual([true, true, true]);
    expect(['ready', 'failed'].map(isBusy)).toEqual([false, false]);
  });

  it('shows the ingest progress, offers no viewer or jobs until ready, then does', async () => {
    const fixture = TestBed.createComponent(DatasetDetailPage);
    fixture.componentRef.setInput('id', 'd1');
    fixture.detectChanges();
    ctl.expectOne('/api/v1/datasets/d1').flush(ds('ingesting'));
    const jobs = ctl.expectOne((r) => r.url === '/api/v1/jobs');
    expect(jobs.request.params.get('dataset_id')).toBe('d1');
    expect(jobs.request.params.get('kind')).toBe('ingest');
    jobs.flush({ items: [{ id: 'j9', status: 'running', progress: 0.4, kind: 'ingest' }], total: 1, page: 1, per_page: 1 });
    fixture.detectChanges();
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelector('[data-testid="dataset-pending"]')?.textContent).toContain('ingesting');
    expect(el.querySelector('[data-testid="dataset-pending"]')?.textContent).toContain('40%');
    expect(el.querySelector('[data-testid="open-viewer"]')).toBeNull();
    await new Promise((r) => setTimeout(r, 1600)); // refreshed until ready
    ctl.expectOne('/api/v1/datasets/d1').flush(ds('ready'));
    ctl.expectOne('/api/v1/datasets/d1/preview').flush(new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }));
    fixture.detectChanges();
    expect(el.querySelector('[data-testid="dataset-pending"]')).toBeNull();
    expect(el.querySelector('[data-testid="open-viewer"]')?.getAttribute('href')).toBe('/viewer/d1');
    fixture.destroy();
    ctl.verify();
  });

  it('a failed ingestion says so', () => {
    const fixture = TestBed.createComponent(DatasetDetailPage);
    fixture.componentRef.setInput('id', 'd1');
    fixture.detectChanges();
    ctl.expectOne('/api/v1/datasets/d1').flush({ ...ds('failed'), metadata: { error: 'not SEG-Y' } });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).querySelector('[role="alert"]')?.textContent).toContain('Ingestion failed: not SEG-Y');
  });
});
