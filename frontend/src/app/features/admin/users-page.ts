import { DatePipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatTableModule } from '@angular/material/table';
import { usersList } from '../../api/fn/users/users-list';
import { UserOut } from '../../api/models/user-out';
import { Notifier } from '../../core/errors';

@Component({
  selector: 'app-users-page',
  imports: [DatePipe, MatTableModule, MatPaginatorModule],
  template: `
    <h1>Users</h1>
    <table mat-table [dataSource]="items()" aria-label="Users">
      <ng-container matColumnDef="username"><th mat-header-cell *matHeaderCellDef>User name</th><td mat-cell *matCellDef="let u">{{ u.username }}</td></ng-container>
      <ng-container matColumnDef="email"><th mat-header-cell *matHeaderCellDef>E-mail</th><td mat-cell *matCellDef="let u">{{ u.email ?? '–' }}</td></ng-container>
      <ng-container matColumnDef="role"><th mat-header-cell *matHeaderCellDef>Role</th><td mat-cell *matCellDef="let u">{{ u.role }}</td></ng-container>
      <ng-container matColumnDef="is_active"><th mat-header-cell *matHeaderCellDef>Active</th><td mat-cell *matCellDef="let u">{{ u.is_active ? 'yes' : 'no' }}</td></ng-container>
      <ng-container matColumnDef="last_login_at"><th mat-header-cell *matHeaderCellDef>Last sign-in</th><td mat-cell *matCellDef="let u">{{ (u.last_login_at | date: 'medium') ?? 'never' }}</td></ng-container>
      <tr mat-header-row *matHeaderRowDef="columns"></tr>
      <tr mat-row *matRowDef="let row; columns: columns"></tr>
    </table>
    <mat-paginator [length]="total()" [pageSize]="50" [pageSizeOptions]="[50, 100]" (page)="paged($event)" aria-label="Pages of users" />
  `,
  styles: `table { width: 100%; }`,
})
export class UsersPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  readonly columns = ['username', 'email', 'role', 'is_active', 'last_login_at'];
  readonly items = signal<UserOut[]>([]);
  readonly total = signal(0);

  ngOnInit(): void {
    this.load(1, 50);
  }

  paged(e: PageEvent): void {
    this.load(e.pageIndex + 1, e.pageSize);
  }

  private load(page: number, perPage: number): void {
    usersList(this.http, '', { page, per_page: perPage }).subscribe({
      next: (r) => {
        this.items.set(r.body.items);
        this.total.set(r.body.total);
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }
}
