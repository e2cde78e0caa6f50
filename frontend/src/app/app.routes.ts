import { Routes } from '@angular/router';
import { adminGuard, authGuard } from './core/auth.guard';
import { Shell } from './core/shell';
import { LoginPage } from './features/auth/login-page';

export const routes: Routes = [
  { path: 'login', component: LoginPage, title: 'Sign in · Promethium' },
  {
    path: '',
    component: Shell,
    canActivate: [authGuard],
    children: [
      { path: '', loadComponent: () => import('./features/dashboard/dashboard-page').then((m) => m.DashboardPage), title: 'Dashboard · Promethium' },
      { path: 'datasets', loadComponent: () => import('./features/datasets/datasets-page').then((m) => m.DatasetsPage), title: 'Datasets · Promethium' },
      { path: 'datasets/:id', loadComponent: () => import('./features/datasets/dataset-detail-page').then((m) => m.DatasetDetailPage), title: 'Dataset · Promethium' },
      { path: 'viewer/:id', loadComponent: () => import('./features/viewer/viewer-page').then((m) => m.ViewerPage), title: 'Viewer · Promethium' },
      { path: 'jobs', loadComponent: () => import('./features/jobs/jobs-page').then((m) => m.JobsPage), title: 'Jobs · Promethium' },
      { path: 'jobs/:id', loadComponent: () => import('./features/jobs/job-detail-page').then((m) => m.JobDetailPage), title: 'Job · Promethium' },
      { path: 'results/:id', loadComponent: () => import('./features/results/result-page').then((m) => m.ResultPage), title: 'Result · Promethium' },
      { path: 'models', loadComponent: () => import('./features/models/models-page').then((m) => m.ModelsPage), title: 'Models · Promethium' },
      { path: 'settings', loadComponent: () => import('./features/settings/settings-page').then((m) => m.SettingsPage), title: 'Settings · Promethium' },
      { path: 'admin/users', canActivate: [adminGuard], loadComponent: () => import('./features/admin/users-page').then((m) => m.UsersPage), title: 'Users · Promethium' },
    ],
  },
  { path: '**', redirectTo: '' },
];
