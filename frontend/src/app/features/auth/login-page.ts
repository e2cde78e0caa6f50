import { Component, inject, input } from '@angular/core';
import { FormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Store } from '@ngrx/store';
import { AuthActions, authFeature } from '../../core/auth.store';

@Component({
  selector: 'app-login-page',
  imports: [ReactiveFormsModule, MatCardModule, MatFormFieldModule, MatInputModule, MatButtonModule],
  template: `
    <main class="wrap">
      <mat-card class="card">
        <h1>Promethium</h1>
        <p>Sign in to recover and inspect seismic data.</p>
        <form [formGroup]="form" (ngSubmit)="submit()">
          <mat-form-field appearance="outline" class="full">
            <mat-label>User name</mat-label>
            <input matInput formControlName="username" autocomplete="username" name="username" />
          </mat-form-field>
          <mat-form-field appearance="outline" class="full">
            <mat-label>Password</mat-label>
            <input matInput type="password" formControlName="password" autocomplete="current-password" name="password" />
          </mat-form-field>
          @if (error(); as e) {
            <p class="error" role="alert">{{ e }}</p>
          }
          <button mat-flat-button type="submit" [disabled]="form.invalid || pending()">Sign in</button>
        </form>
      </mat-card>
    </main>
  `,
  styles: `
    .wrap { display: grid; place-items: center; min-height: 100vh; background: #eef1f5; }
    .card { padding: 2rem; width: min(400px, 92vw); }
    .full { width: 100%; }
    .error { color: #b00020; }
  `,
})
export class LoginPage {
  private readonly store = inject(Store);
  readonly returnUrl = input<string>('/');
  readonly pending = this.store.selectSignal(authFeature.selectPending);
  readonly error = this.store.selectSignal(authFeature.selectError);
  readonly form = inject(FormBuilder).nonNullable.group({
    username: ['', Validators.required],
    password: ['', Validators.required],
  });

  submit(): void {
    const { username, password } = this.form.getRawValue();
    this.store.dispatch(AuthActions.login({ username, password, returnUrl: this.returnUrl() || '/' }));
  }
}
