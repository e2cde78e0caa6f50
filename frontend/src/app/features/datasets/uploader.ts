import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable, firstValueFrom } from 'rxjs';
import { uploadsAbort } from '../../api/fn/uploads/uploads-abort';
import { uploadsCreate } from '../../api/fn/uploads/uploads-create';
import { uploadsFinalize } from '../../api/fn/uploads/uploads-finalize';
import { uploadsGet } from '../../api/fn/uploads/uploads-get';
import { DatasetOut } from '../../api/models/dataset-out';
import { TokenStore } from '../../core/token-store';

export const CHUNK_SIZE = 8 * 1024 * 1024;

export interface UploadProgress {
  phase: 'hashing' | 'sending' | 'finalizing' | 'done';
  sent: number;
  total: number;
  dataset?: DatasetOut;
}

async function sha256Hex(data: ArrayBuffer | Blob): Promise<string> {
  const buf = data instanceof Blob ? await data.arrayBuffer() : data;
  const digest = await crypto.subtle.digest('SHA-256', buf);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The resumable chunked upload: init (size + SHA-256) -> PUT each missing chunk with its SHA-256 ->
 * finalize. Unsubscribing cancels: the request in flight is aborted and the upload deleted on the server.
 * `resumeId` continues an earlier upload, sending only the chunks the server lacks. */
@Injectable({ providedIn: 'root' })
export class Uploader {
  private readonly http = inject(HttpClient);
  /** Chunks go through fetch (raw body, AbortController), so the token is attached here. */
  private readonly tokens = inject(TokenStore);

  upload(file: File, name: string | null, resumeId?: string): Observable<UploadProgress> {
    return new Observable<UploadProgress>((sub) => {
      const ctl = new AbortController();
      let uploadId: string | null = resumeId ?? null;
      let finished = false;
      const run = async (): Promise<void> => {
        sub.next({ phase: 'hashing', sent: 0, total: file.size });
        let state;
        if (uploadId) {
          state = (await firstValueFrom(uploadsGet(this.http, '', { upload_id: uploadId }))).body;
        } else {
          const sha256 = await sha256Hex(file);
          state = (
            await firstValueFrom(
              uploadsCreate(this.http, '', { name: name ?? undefined, body: { filename: file.name, size: file.size, sha256, chunk_size: CHUNK_SIZE } }),
            )
          ).body;
          uploadId = state.id;
        }
        const have = new Set(state.received);
        let sent = state.received.length * state.chunk_size;
        for (let i = 0; i < state.chunks; i++) {
          if (have.has(i)) continue;
          const blob = file.slice(i * state.chunk_size, Math.min(file.size, (i + 1) * state.chunk_size));
          const body = await blob.arrayBuffer();
          const res = await fetch(`/api/v1/datasets/uploads/${uploadId}/chunks/${i}`, {
            method: 'PUT',
            body,
            signal: ctl.signal,
            headers: { 'X-Chunk-SHA256': await sha256Hex(body), 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${this.tokens.access ?? ''}` },
          });
          if (!res.ok) throw new Error(await errorText(res));
          sent += body.byteLength;
          sub.next({ phase: 'sending', sent: Math.min(sent, file.size), total: file.size });
        }
        sub.next({ phase: 'finalizing', sent: file.size, total: file.size });
        const ds = (await firstValueFrom(uploadsFinalize(this.http, '', { upload_id: uploadId }))).body;
        finished = true;
        sub.next({ phase: 'done', sent: file.size, total: file.size, dataset: ds });
        sub.complete();
      };
      run().catch((e: unknown) => sub.error(e));
      return () => {
        ctl.abort();
        if (!finished && uploadId) uploadsAbort(this.http, '', { upload_id: uploadId }).subscribe({ error: () => undefined });
      };
    });
  }

}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `upload failed (${res.status})`;
  } catch {
    return `upload failed (${res.status})`;
  }
}
