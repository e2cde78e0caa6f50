import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { provideEffects } from '@ngrx/effects';
import { provideStore } from '@ngrx/store';
import { routes } from './app.routes';
import { authInterceptor } from './core/auth.interceptor';
import * as authEffects from './core/auth.effects';
import { authFeature } from './core/auth.store';
import { jobsFeature } from './features/jobs/jobs.store';
import * as jobsEffects from './features/jobs/jobs.effects';
import { JOB_UPDATES } from './features/jobs/job-updates';
import { LiveJobUpdates } from './features/jobs/job-socket';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes, withComponentInputBinding()),
    provideHttpClient(withInterceptors([authInterceptor])),
    provideStore({ [authFeature.name]: authFeature.reducer, [jobsFeature.name]: jobsFeature.reducer }),
    provideEffects(authEffects, jobsEffects),
    { provide: JOB_UPDATES, useExisting: LiveJobUpdates },
  ],
};
