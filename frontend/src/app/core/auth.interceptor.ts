import { HttpErrorResponse, HttpInterceptorFn, HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { Store } from '@ngrx/store';
import { Observable, catchError, finalize, map, shareReplay, switchMap, throwError } from 'rxjs';
import { authRefresh } from '../api/fn/auth/auth-refresh';
import { TokenOut } from '../api/models/token-out';
import { HttpClient } from '@angular/common/http';
import { TokenStore } from './token-store';
import { AuthActions } from './auth.store';

let refreshing: Observable<TokenOut> | null = null;

const NO_AUTH = ['/api/v1/auth/login', '/api/v1/auth/refresh'];

function withToken(req: HttpRequest<unknown>, token: string | null): HttpRequest<unknown> {
  return token ? req.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : req;
}

/** Attaches the bearer token; on a 401 spends the refresh token once (shared by concurrent requests) and
 * retries; when that fails too, clears the session and goes to the login page. */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  const tokens = inject(TokenStore);
  const http = inject(HttpClient);
  const router = inject(Router);
  const store = inject(Store);
  if (NO_AUTH.some((p) => req.url.endsWith(p))) return next(req);
  return next(withToken(req, tokens.access)).pipe(
    catchError((err: unknown) => {
      const refresh = tokens.refresh;
      if (!(err instanceof HttpErrorResponse) || err.status !== 401 || !refresh) return throwError(() => err);
      refreshing ??= authRefresh(http, '', { body: { refresh_token: refresh } }).pipe(
        map((r) => r.body),
        finalize(() => (refreshing = null)),
        shareReplay(1),
      );
      return refreshing.pipe(
        catchError((refreshErr: unknown) => {
          tokens.clear();
          store.dispatch(AuthActions.loggedOut());
          void router.navigate(['/login'], { queryParams: { returnUrl: router.url } });
          return throwError(() => refreshErr);
        }),
        switchMap((pair) => {
          tokens.set(pair);
          store.dispatch(AuthActions.tokensRefreshed({ tokens: pair }));
          return next(withToken(req, pair.access_token));
        }),
      );
    }),
  );
};
