import { HttpErrorResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { MatSnackBar } from '@angular/material/snack-bar';

/** The API's error envelope: {"error": {"code", "message", "details"}}. */
export interface ApiErrorEnvelope {
  error: { code: string; message: string; details?: unknown };
}

function isEnvelope(body: unknown): body is ApiErrorEnvelope {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e = (body as { error: unknown }).error;
  return typeof e === 'object' && e !== null && 'message' in e && 'code' in e;
}

const PLAIN: Record<string, string> = {
  VALIDATION_ERROR: 'The request was not valid',
  AUTHENTICATION_ERROR: 'Please sign in again',
  AUTHORIZATION_ERROR: 'You are not allowed to do this',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many attempts; wait a moment',
  PAYLOAD_TOO_LARGE: 'The file or request is too large',
  INTERNAL_ERROR: 'The server failed',
};

/** A plain-words message for any error (envelope, network failure, or a thrown Error). */
export function describeError(err: unknown): string {
  if (err instanceof HttpErrorResponse) {
    if (err.status === 0) return 'The server cannot be reached';
    if (isEnvelope(err.error)) {
      const { code, message } = err.error.error;
      const head = PLAIN[code] ?? code;
      return message ? `${head}: ${message}` : head;
    }
    return `The server answered ${err.status} ${err.statusText}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

@Injectable({ providedIn: 'root' })
export class Notifier {
  private readonly snack = inject(MatSnackBar);

  error(err: unknown): void {
    this.snack.open(describeError(err), 'Dismiss', { duration: 8000, politeness: 'assertive' });
  }

  info(message: string): void {
    this.snack.open(message, 'OK', { duration: 4000 });
  }
}

/** An error whose body arrived as a Blob (a download asked for `responseType: 'blob'`): the same
 * error with its JSON envelope parsed, so {@link describeError} can put it in plain words. */
export async function withParsedBlob(err: unknown): Promise<unknown> {
  if (!(err instanceof HttpErrorResponse) || !(err.error instanceof Blob)) return err;
  try {
    const body: unknown = JSON.parse(await err.error.text());
    return new HttpErrorResponse({ error: body, status: err.status, statusText: err.statusText, url: err.url ?? undefined, headers: err.headers });
  } catch {
    return err;
  }
}
