import { HttpClient } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule, NgForm } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { Store } from '@ngrx/store';
import { authChangePassword } from '../../api/fn/auth/auth-change-password';
import { authUpdateMe } from '../../api/fn/auth/auth-update-me';
import { AuthActions, authFeature } from '../../core/auth.store';
import { Notifier, describeError } from '../../core/errors';
import { DisplayPrefs, DisplayPrefsStore } from '../viewer/prefs';

@Component({
  selector: 'app-settings-page',
  imports: [FormsModule, MatCardModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule],
  template: `
    <h1>Settings</h1>
    <div class="grid">
      <mat-card>
        <mat-card-header><mat-card-title>Profile</mat-card-title></mat-card-header>
        <mat-card-content>
          @if (user(); as u) {
            <p>Signed in as <strong>{{ u.username }}</strong>, role <strong>{{ u.role }}</strong>.</p>
          }
          <form (ngSubmit)="saveProfile()" aria-label="Profile">
            <mat-form-field appearance="outline" class="full">
              <mat-label>E-mail</mat-label>
              <input matInput type="email" [(ngModel)]="email" name="email" autocomplete="email" maxlength="320" />
            </mat-form-field>
            <button mat-flat-button type="submit">Save profile</button>
          </form>
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Change password</mat-card-title></mat-card-header>
        <mat-card-content>
          <form #pw="ngForm" (ngSubmit)="changePassword(pw)" aria-label="Change password">
            <mat-form-field appearance="outline" class="full">
              <mat-label>Current password</mat-label>
              <input matInput type="password" [(ngModel)]="current" name="current" autocomplete="current-password" required />
            </mat-form-field>
            <mat-form-field appearance="outline" class="full">
              <mat-label>New password</mat-label>
              <input matInput type="password" [(ngModel)]="next" name="next" autocomplete="new-password" required />
            </mat-form-field>
            <mat-form-field appearance="outline" class="full">
              <mat-label>New password again</mat-label>
              <input matInput type="password" [(ngModel)]="again" name="again" autocomplete="new-password" required />
            </mat-form-field>
            @if (pwError()) { <p class="error" role="alert">{{ pwError() }}</p> }
            @if (pwDone()) { <p role="status" data-testid="password-changed">{{ pwDone() }}</p> }
            <button mat-flat-button type="submit" [disabled]="!current || !next">Change password</button>
          </form>
          <p class="note">Your other signed-in sessions end when the password changes; this one stays.</p>
        </mat-card-content>
      </mat-card>
      <mat-card>
        <mat-card-header><mat-card-title>Display defaults</mat-card-title></mat-card-header>
        <mat-card-content>
          <form (ngSubmit)="savePrefs()" aria-label="Display defaults">
            <mat-form-field appearance="outline" class="full">
              <mat-label>Colormap</mat-label>
              <mat-select [(ngModel)]="prefs.colormap" name="colormap">
                <mat-option value="grey">Grey</mat-option>
                <mat-option value="seismic">Seismic (diverging)</mat-option>
              </mat-select>
            </mat-form-field>
            <mat-form-field appearance="outline" class="full">
              <mat-label>Clip percentile</mat-label>
              <input matInput type="number" min="50" max="100" step="0.5" [(ngModel)]="prefs.clipPct" name="clipPct" />
            </mat-form-field>
            <mat-form-field appearance="outline" class="full">
              <mat-label>Gain</mat-label>
              <input matInput type="number" min="0.1" max="100" step="0.1" [(ngModel)]="prefs.gain" name="gain" />
            </mat-form-field>
            <mat-form-field appearance="outline" class="full">
              <mat-label>Display</mat-label>
              <mat-select [(ngModel)]="prefs.mode" name="mode">
                <mat-option value="auto">Auto (wiggle when narrow)</mat-option>
                <mat-option value="density">Variable density</mat-option>
                <mat-option value="wiggle">Wiggle</mat-option>
              </mat-select>
            </mat-form-field>
            <button mat-flat-button type="submit">Save display defaults</button>
            <button mat-button type="button" (click)="resetPrefs()">Reset</button>
          </form>
          <p class="note">Kept in this browser; the viewers open with these values.</p>
        </mat-card-content>
      </mat-card>
    </div>
  `,
  styles: `
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; align-items: start; }
    .full { width: 100%; }
    .note { color: #444; font-size: 0.85rem; }
    .error { color: #b00020; }
  `,
})
export class SettingsPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  private readonly store = inject(Store);
  private readonly display = inject(DisplayPrefsStore);
  readonly user = this.store.selectSignal(authFeature.selectUser);
  readonly pwError = signal<string | null>(null);
  readonly pwDone = signal<string | null>(null);
  email = '';
  current = '';
  next = '';
  again = '';
  prefs: DisplayPrefs = { ...this.display.prefs() };

  ngOnInit(): void {
    this.email = this.user()?.email ?? '';
  }

  saveProfile(): void {
    authUpdateMe(this.http, '', { body: { email: this.email.trim() || null } }).subscribe({
      next: (r) => {
        this.store.dispatch(AuthActions.meLoaded({ user: r.body }));
        this.notifier.info('Profile saved');
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  changePassword(form: NgForm): void {
    this.pwError.set(null);
    this.pwDone.set(null);
    if (this.next !== this.again) {
      this.pwError.set('The two new passwords differ');
      return;
    }
    authChangePassword(this.http, '', { body: { current_password: this.current, new_password: this.next } }).subscribe({
      next: (r) => {
        form.resetForm();
        const n = r.body.sessions_ended;
        this.pwDone.set(`Password changed; ${n} other session${n === 1 ? '' : 's'} ended.`);
      },
      error: (e: unknown) => this.pwError.set(describeError(e)),
    });
  }

  savePrefs(): void {
    this.display.save(this.prefs);
    this.prefs = { ...this.display.prefs() };
    this.notifier.info('Display defaults saved');
  }

  resetPrefs(): void {
    this.display.reset();
    this.prefs = { ...this.display.prefs() };
  }
}
