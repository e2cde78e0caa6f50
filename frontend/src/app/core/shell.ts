import { BreakpointObserver } from '@angular/cdk/layout';
import { Component, OnInit, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatListModule } from '@angular/material/list';
import { MatSidenavModule } from '@angular/material/sidenav';
import { MatToolbarModule } from '@angular/material/toolbar';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Store } from '@ngrx/store';
import { map } from 'rxjs';
import { AuthActions, authFeature } from './auth.store';

@Component({
  selector: 'app-shell',
  imports: [MatToolbarModule, MatSidenavModule, MatListModule, MatButtonModule, RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    <a class="skip" href="#main" (click)="skip($event)">Skip to content</a>
    <mat-toolbar color="primary" class="bar">
      @if (handset()) {
        <button mat-button type="button" (click)="nav.toggle()" aria-label="Toggle navigation">Menu</button>
      }
      <a routerLink="/" class="brand">Promethium</a>
      <span class="spacer"></span>
      @if (user(); as u) {
        <span class="who" aria-label="Signed in user">{{ u.username }} ({{ u.role }})</span>
      }
      <button mat-button type="button" (click)="logout()">Sign out</button>
    </mat-toolbar>
    <mat-sidenav-container class="container">
      <mat-sidenav #nav [mode]="handset() ? 'over' : 'side'" [opened]="!handset()" role="navigation" aria-label="Main">
        <mat-nav-list>
          <a mat-list-item routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">Dashboard</a>
          <a mat-list-item routerLink="/datasets" routerLinkActive="active">Datasets</a>
          <a mat-list-item routerLink="/jobs" routerLinkActive="active">Jobs</a>
          <a mat-list-item routerLink="/models" routerLinkActive="active">Models</a>
          <a mat-list-item routerLink="/settings" routerLinkActive="active">Settings</a>
          @if (user()?.role === 'admin') {
            <a mat-list-item routerLink="/admin/users" routerLinkActive="active">Users</a>
          }
        </mat-nav-list>
      </mat-sidenav>
      <mat-sidenav-content>
        <main class="content" id="main" tabindex="-1"><router-outlet /></main>
      </mat-sidenav-content>
    </mat-sidenav-container>
  `,
  styles: `
    :host { display: flex; flex-direction: column; height: 100vh; }
    .brand { color: inherit; text-decoration: none; font-weight: 600; margin-right: 1rem; }
    .spacer { flex: 1; }
    .who { margin-right: 1rem; font-size: 0.9rem; }
    .container { flex: 1; }
    mat-sidenav { width: 200px; }
    .content { padding: 1rem 1.5rem; }
    .active { font-weight: 600; background: rgba(0, 0, 0, 0.06); }
    .skip { position: absolute; left: -9999px; top: 0; z-index: 1000; background: #fff; padding: 0.5rem 1rem; }
    .skip:focus { left: 0.5rem; }
    @media (max-width: 1280px) { .content { padding: 0.75rem 1rem; } }
  `,
})
export class Shell implements OnInit {
  private readonly store = inject(Store);
  readonly user = this.store.selectSignal(authFeature.selectUser);
  readonly handset = toSignal(inject(BreakpointObserver).observe('(max-width: 800px)').pipe(map((r) => r.matches)), { initialValue: false });

  ngOnInit(): void {
    if (!this.user()) this.store.dispatch(AuthActions.loadMe());
  }

  skip(e: Event): void {
    e.preventDefault();
    document.getElementById('main')?.focus();
  }

  logout(): void {
    this.store.dispatch(AuthActions.logout());
  }
}
