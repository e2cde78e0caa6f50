import { HttpClient } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { Actions, createEffect, ofType } from '@ngrx/effects';
import { catchError, exhaustMap, map, of, tap } from 'rxjs';
import { authLogin } from '../api/fn/auth/auth-login';
import { authLogout } from '../api/fn/auth/auth-logout';
import { authMe } from '../api/fn/auth/auth-me';
import { AuthActions } from './auth.store';
import { describeError } from './errors';
import { TokenStore } from './token-store';

export const login = createEffect(
  (actions = inject(Actions), http = inject(HttpClient), tokens = inject(TokenStore)) =>
    actions.pipe(
      ofType(AuthActions.login),
      exhaustMap(({ username, password, returnUrl }) =>
        authLogin(http, '', { body: { username, password, grant_type: 'password' } }).pipe(
          map((r) => {
            tokens.set(r.body);
            return AuthActions.loginSuccess({ tokens: r.body, returnUrl });
          }),
          catchError((err: unknown) => of(AuthActions.loginFailure({ message: describeError(err) }))),
        ),
      ),
    ),
  { functional: true },
);

export const afterLogin = createEffect(
  (actions = inject(Actions), router = inject(Router)) =>
    actions.pipe(
      ofType(AuthActions.loginSuccess),
      tap(({ returnUrl }) => void router.navigateByUrl(returnUrl || '/')),
      map(() => AuthActions.loadMe()),
    ),
  { functional: true },
);

export const loadMe = createEffect(
  (actions = inject(Actions), http = inject(HttpClient)) =>
    actions.pipe(
      ofType(AuthActions.loadMe),
      exhaustMap(() =>
        authMe(http, '').pipe(
          map((r) => AuthActions.meLoaded({ user: r.body })),
          catchError(() => of(AuthActions.loggedOut())),
        ),
      ),
    ),
  { functional: true },
);

export const logout = createEffect(
  (actions = inject(Actions), http = inject(HttpClient), tokens = inject(TokenStore), router = inject(Router)) =>
    actions.pipe(
      ofType(AuthActions.logout),
      exhaustMap(() => {
        const refresh = tokens.refresh;
        return authLogout(http, '', { body: refresh ? { refresh_token: refresh } : null }).pipe(
          catchError(() => of(null)),
          map(() => {
            tokens.clear();
            void router.navigate(['/login']);
            return AuthActions.loggedOut();
          }),
        );
      }),
    ),
  { functional: true },
);
