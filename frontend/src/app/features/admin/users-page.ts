import { DatePipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule, NgForm } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatSelectModule } from '@angular/material/select';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatTableModule } from '@angular/material/table';
import { Store } from '@ngrx/store';
import { usersCreate } from '../../api/fn/users/users-create';
import { usersDelete } from '../../api/fn/users/users-delete';
import { usersList } from '../../api/fn/users/users-list';
import { usersUpdate } from '../../api/fn/users/users-update';
import { UserOut } from '../../api/models/user-out';
import { UserUpdate } from '../../api/models/user-update';
import { authFeature } from '../../core/auth.store';
import { Notifier } from '../../core/errors';

type Role = UserOut['role'];

@Component({
  selector: 'app-users-page',
  imports: [DatePipe, FormsModule, MatTableModule, MatPaginatorModule, MatCardModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatSlideToggleModule, MatButtonModule],
  template: `
    <h1>Users</h1>
    <mat-card class="create">
      <mat-card-header><mat-card-title>Add a user</mat-card-title></mat-card-header>
      <mat-card-content>
        <form #f="ngForm" (ngSubmit)="create(f)" class="form" aria-label="Add a user">
          <mat-form-field appearance="outline">
            <mat-label>User name</mat-label>
            <input matInput [(ngModel)]="draft.username" name="username" required minlength="3" maxlength="150" pattern="[A-Za-z0-9_.@+\\-]+" autocomplete="off" />
          </mat-form-field>
          <mat-form-field appearance="outline">
            <mat-label>E-mail (optional)</mat-label>
            <input matInput type="email" [(ngModel)]="draft.email" name="email" />
          </mat-form-field>
          <mat-form-field appearance="outline">
            <mat-label>Initial password</mat-label>
            <input matInput type="password" [(ngModel)]="draft.password" name="password" required autocomplete="new-password" />
          </mat-form-field>
          <mat-form-field appearance="outline">
            <mat-label>Role</mat-label>
            <mat-select [(ngModel)]="draft.role" name="role">
              @for (r of roles; track r) { <mat-option [value]="r">{{ r }}</mat-option> }
            </mat-select>
          </mat-form-field>
          <button mat-flat-button type="submit" [disabled]="f.invalid">Add user</button>
        </form>
      </mat-card-content>
    </mat-card>
    <table mat-table [dataSource]="items()" aria-label="Users">
      <ng-container matColumnDef="username"><th mat-header-cell *matHeaderCellDef>User name</th><td mat-cell *matCellDef="let u">{{ u.username }}</td></ng-container>
      <ng-container matColumnDef="email"><th mat-header-cell *matHeaderCellDef>E-mail</th><td mat-cell *matCellDef="let u">{{ u.email ?? '–' }}</td></ng-container>
      <ng-container matColumnDef="role">
        <th mat-header-cell *matHeaderCellDef>Role</th>
        <td mat-cell *matCellDef="let u">
          <mat-form-field appearance="outline" subscriptSizing="dynamic" class="role">
            <mat-select [value]="u.role" (selectionChange)="update(u, { role: $event.value })" [attr.aria-label]="'Role of ' + u.username">
              @for (r of roles; track r) { <mat-option [value]="r">{{ r }}</mat-option> }
            </mat-select>
          </mat-form-field>
        </td>
      </ng-container>
      <ng-container matColumnDef="is_active">
        <th mat-header-cell *matHeaderCellDef>Active</th>
        <td mat-cell *matCellDef="let u"><mat-slide-toggle [checked]="u.is_active" (change)="update(u, { is_active: $event.checked })" [aria-label]="'Account of ' + u.username + ' active'" /></td>
      </ng-container>
      <ng-container matColumnDef="last_login_at"><th mat-header-cell *matHeaderCellDef>Last sign-in</th><td mat-cell *matCellDef="let u">{{ (u.last_login_at | date: 'medium') ?? 'never' }}</td></ng-container>
      <ng-container matColumnDef="actions">
        <th mat-header-cell *matHeaderCellDef><span class="sr-only">Actions</span></th>
        <td mat-cell *matCellDef="let u">
          @if (u.id !== me()?.id) { <button mat-button type="button" class="danger" (click)="remove(u)" [attr.aria-label]="'Delete ' + u.username">Delete</button> }
        </td>
      </ng-container>
      <tr mat-header-row *matHeaderRowDef="columns"></tr>
      <tr mat-row *matRowDef="let row; columns: columns"></tr>
    </table>
    <mat-paginator [length]="total()" [pageSize]="50" [pageSizeOptions]="[50, 100]" (page)="paged($event)" aria-label="Pages of users" />
  `,
  styles: `
    .create { margin-bottom: 1rem; }
    .form { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: baseline; }
    table { width: 100%; }
    .role { width: 120px; }
    .danger { color: #b00020; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  `,
})
export class UsersPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  readonly me = inject(Store).selectSignal(authFeature.selectUser);
  readonly columns = ['username', 'email', 'role', 'is_active', 'last_login_at', 'actions'];
  readonly roles: Role[] = ['viewer', 'user', 'admin'];
  readonly items = signal<UserOut[]>([]);
  readonly total = signal(0);
  draft = { username: '', email: '', password: '', role: 'user' as Role };
  private page = 1;
  private perPage = 50;

  ngOnInit(): void {
    this.load();
  }

  paged(e: PageEvent): void {
    this.page = e.pageIndex + 1;
    this.perPage = e.pageSize;
    this.load();
  }

  load(): void {
    usersList(this.http, '', { page: this.page, per_page: this.perPage }).subscribe({
      next: (r) => {
        this.items.set(r.body.items);
        this.total.set(r.body.total);
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  create(f: NgForm): void {
    const d = this.draft;
    usersCreate(this.http, '', { body: { username: d.username.trim(), password: d.password, role: d.role, email: d.email.trim() || null } }).subscribe({
      next: (r) => {
        this.notifier.info(`User ${r.body.username} added`);
        f.resetForm({ role: 'user' });
        this.draft = { username: '', email: '', password: '', role: 'user' };
        this.load();
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  update(u: UserOut, change: UserUpdate): void {
    usersUpdate(this.http, '', { user_id: u.id, body: change }).subscribe({
      next: (r) => {
        this.items.update((xs) => xs.map((x) => (x.id === u.id ? r.body : x)));
        this.notifier.info(`${u.username} updated`);
      },
      error: (e: unknown) => {
        this.notifier.error(e);
        this.load(); // put the controls back to what the server holds
      },
    });
  }

  remove(u: UserOut): void {
    if (!confirm(`Delete user ${u.username}? Their datasets and jobs go with them.`)) return;
    usersDelete(this.http, '', { user_id: u.id }).subscribe({
      next: () => {
        this.notifier.info(`Deleted ${u.username}`);
        this.load();
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }
}
