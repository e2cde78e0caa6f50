import { createActionGroup, createFeature, createReducer, emptyProps, on, props } from '@ngrx/store';
import { TokenOut } from '../api/models/token-out';
import { UserOut } from '../api/models/user-out';

export const AuthActions = createActionGroup({
  source: 'Auth',
  events: {
    Login: props<{ username: string; password: string; returnUrl: string }>(),
    'Login Success': props<{ tokens: TokenOut; returnUrl: string }>(),
    'Login Failure': props<{ message: string }>(),
    'Tokens Refreshed': props<{ tokens: TokenOut }>(),
    'Load Me': emptyProps(),
    'Me Loaded': props<{ user: UserOut }>(),
    Logout: emptyProps(),
    'Logged Out': emptyProps(),
  },
});

export interface AuthState {
  user: UserOut | null;
  pending: boolean;
  error: string | null;
}

export const initialAuthState: AuthState = { user: null, pending: false, error: null };

export const authFeature = createFeature({
  name: 'auth',
  reducer: createReducer(
    initialAuthState,
    on(AuthActions.login, (s) => ({ ...s, pending: true, error: null })),
    on(AuthActions.loginSuccess, (s) => ({ ...s, pending: false })),
    on(AuthActions.loginFailure, (s, { message }) => ({ ...s, pending: false, error: message })),
    on(AuthActions.meLoaded, (s, { user }) => ({ ...s, user })),
    on(AuthActions.loggedOut, () => initialAuthState),
  ),
});
