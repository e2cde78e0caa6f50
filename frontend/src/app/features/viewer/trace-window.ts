import { HttpClient, HttpResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, map } from 'rxjs';

/** One window of traces as the API sends it in binary form (float32 little-endian, trace-major). */
export interface TraceWindow {
  values: Float32Array;
  nTraces: number;
  nSamples: number;
  traceStart: number;
  traceStep: number;
  sampleStart: number;
  sampleStep: number;
  sampleInterval: number;
  timeStart: number;
}

export interface WindowQuery {
  traceStart: number;
  traceStop: number;
  traceStep: number;
  sampleStart: number;
  sampleStop: number;
  sampleStep: number;
}

@Injectable({ providedIn: 'root' })
export class TraceWindowService {
  private readonly http = inject(HttpClient);

  fetch(datasetId: string, q: WindowQuery): Observable<TraceWindow> {
    return this.fetchFrom(`/api/v1/datasets/${encodeURIComponent(datasetId)}/traces`, q);
  }

  /** A window of a succeeded job's output (same form as a dataset's). */
  fetchResult(jobId: string, q: WindowQuery): Observable<TraceWindow> {
    return this.fetchFrom(`/api/v1/results/${encodeURIComponent(jobId)}/traces`, q);
  }

  private fetchFrom(url: string, q: WindowQuery): Observable<TraceWindow> {
    const params = {
      format: 'binary',
      trace_start: q.traceStart,
      trace_stop: q.traceStop,
      trace_step: q.traceStep,
      sample_start: q.sampleStart,
      sample_stop: q.sampleStop,
      sample_step: q.sampleStep,
    };
    return this.http
      .get(url, { params, responseType: 'arraybuffer', observe: 'response' })
      .pipe(map((r: HttpResponse<ArrayBuffer>) => parseWindow(r, q)));
  }
}

export function parseWindow(r: HttpResponse<ArrayBuffer>, q: WindowQuery): TraceWindow {
  const [nTraces, nSamples] = (r.headers.get('X-Shape') ?? '0,0').split(',').map(Number);
  const body = r.body ?? new ArrayBuffer(0);
  return {
    values: new Float32Array(body),
    nTraces,
    nSamples,
    traceStart: Number(r.headers.get('X-Trace-Start') ?? q.traceStart),
    traceStep: q.traceStep,
    sampleStart: q.sampleStart,
    sampleStep: q.sampleStep,
    sampleInterval: Number(r.headers.get('X-Sample-Interval') ?? 1),
    timeStart: Number(r.headers.get('X-Time-Start') ?? 0),
  };
}
