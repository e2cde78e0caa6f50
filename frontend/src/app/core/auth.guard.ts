import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { Store } from '@ngrx/store';
import { filter, map, take } from 'rxjs';
import { authFeature } from './auth.store';
import { TokenStore } from './token-store';

/** Signed in (a token is held), else to /login with the wanted URL. */
export const authGuard: CanActivateFn = (_route, state) => {
  const router = inject(Router);
  return inject(TokenStore).access ? true : router.createUrlTree(['/login'], { queryParams: { returnUrl: state.url } });
};

/** Admins only (waits for the current user). */
export const adminGuard: CanActivateFn = () => {
  const router = inject(Router);
  return inject(Store)
    .select(authFeature.selectUser)
    .pipe(
      filter((u) => u !== null),
      take(1),
      map((u) => (u?.role === 'admin' ? true : router.createUrlTree(['/']))),
    );
};
