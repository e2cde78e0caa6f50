import { DatePipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnDestroy, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatSortModule, Sort } from '@angular/material/sort';
import { MatTableModule } from '@angular/material/table';
import { RouterLink } from '@angular/router';
import { Subscription } from 'rxjs';
import { datasetsList } from '../../api/fn/datasets/datasets-list';
import { DatasetOut } from '../../api/models/dataset-out';
import { Notifier } from '../../core/errors';
import { bytes } from '../../core/format';
import { UploadProgress, Uploader } from './uploader';

/** Still on its way to `ready` (uploaded, ingesting, processing): the list keeps refreshing. */
export function isBusy(status: string): boolean {
  return status !== 'ready' && status !== 'failed';
}

@Component({
  selector: 'app-datasets-page',
  imports: [DatePipe, FormsModule, RouterLink, MatTableModule, MatSortModule, MatPaginatorModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatButtonModule, MatProgressBarModule],
  template: `
    <h1>Datasets</h1>
    <section class="upload" aria-label="Upload a dataset">
      <label for="file">Upload a SEG-Y, SU, miniSEED or SAC file:</label>
      <input id="file" type="file" data-testid="file-input" (change)="pick($event)" [disabled]="!!uploading()" />
      @if (progress(); as p) {
        <div class="progress">
          <mat-progress-bar [mode]="p.phase === 'hashing' || p.phase === 'finalizing' ? 'indeterminate' : 'determinate'" [value]="(100 * p.sent) / p.total" aria-label="Upload progress" />
          <span data-testid="upload-phase">{{ p.phase }} · {{ size(p.sent) }} of {{ size(p.total) }}</span>
          @if (uploading()) {
            <button mat-button type="button" (click)="cancel()">Cancel upload</button>
          }
        </div>
      }
    </section>
    <section class="filters" aria-label="Filters">
      <mat-form-field appearance="outline">
        <mat-label>Name contains</mat-label>
        <input matInput [(ngModel)]="q" (keyup.enter)="reload(1)" name="q" />
      </mat-form-field>
      <mat-form-field appearance="outline">
        <mat-label>Status</mat-label>
        <mat-select [(ngModel)]="status" (selectionChange)="reload(1)" name="status">
          <mat-option [value]="null">Any</mat-option>
          @for (s of statuses; track s) {
            <mat-option [value]="s">{{ s }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      <button mat-stroked-button type="button" (click)="reload(1)">Apply</button>
    </section>
    <table mat-table [dataSource]="items()" matSort (matSortChange)="sortBy($event)" aria-label="Datasets">
      <ng-container matColumnDef="name">
        <th mat-header-cell *matHeaderCellDef mat-sort-header>Name</th>
        <td mat-cell *matCellDef="let d"><a [routerLink]="['/datasets', d.id]">{{ d.name }}</a></td>
      </ng-container>
      <ng-container matColumnDef="status">
        <th mat-header-cell *matHeaderCellDef mat-sort-header>Status</th>
        <td mat-cell *matCellDef="let d">
          <span [class]="'status ' + d.status">{{ d.status }}</span>
          @if (busy(d.status)) { <mat-progress-bar class="mini" mode="indeterminate" [attr.aria-label]="'Ingesting ' + d.name" /> }
        </td>
      </ng-container>
      <ng-container matColumnDef="format">
        <th mat-header-cell *matHeaderCellDef mat-sort-header>Format</th>
        <td mat-cell *matCellDef="let d">{{ d.format ?? '–' }}</td>
      </ng-container>
      <ng-container matColumnDef="size_bytes">
        <th mat-header-cell *matHeaderCellDef mat-sort-header>Size</th>
        <td mat-cell *matCellDef="let d">{{ size(d.size_bytes) }}</td>
      </ng-container>
      <ng-container matColumnDef="created_at">
        <th mat-header-cell *matHeaderCellDef mat-sort-header>Created</th>
        <td mat-cell *matCellDef="let d">{{ d.created_at | date: 'medium' }}</td>
      </ng-container>
      <tr mat-header-row *matHeaderRowDef="columns"></tr>
      <tr mat-row *matRowDef="let row; columns: columns"></tr>
      <tr class="mat-row" *matNoDataRow><td class="mat-cell" [attr.colspan]="columns.length">No datasets match.</td></tr>
    </table>
    <mat-paginator [length]="total()" [pageIndex]="page() - 1" [pageSize]="perPage()" [pageSizeOptions]="[10, 20, 50, 100]" (page)="paged($event)" aria-label="Pages of datasets" />
  `,
  styles: `
    .upload { margin-bottom: 1rem; display: flex; flex-direction: column; gap: 0.5rem; }
    .progress { display: flex; align-items: center; gap: 1rem; }
    .progress mat-progress-bar { width: 300px; }
    .filters { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
    table { width: 100%; }
    .mini { width: 80px; display: inline-block; vertical-align: middle; margin-left: 0.5rem; }
    .status.failed { color: #b00020; font-weight: 600; }
    .status.ready { color: #1b5e20; }
  `,
})
export class DatasetsPage implements OnInit, OnDestroy {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  private readonly uploader = inject(Uploader);
  readonly columns = ['name', 'status', 'format', 'size_bytes', 'created_at'];
  readonly statuses = ['uploaded', 'ingesting', 'processing', 'ready', 'failed'];
  readonly busy = isBusy;
  readonly items = signal<DatasetOut[]>([]);
  readonly total = signal(0);
  readonly page = signal(1);
  readonly perPage = signal(20);
  readonly progress = signal<UploadProgress | null>(null);
  readonly uploading = signal<Subscription | null>(null);
  readonly size = bytes;
  q = '';
  status: string | null = null;
  sort = '-created_at';
  private poll: ReturnType<typeof setInterval> | null = null;

  ngOnInit(): void {
    this.reload(1);
    // Ingestion runs as a job: refresh while a listed dataset is still being processed.
    this.poll = setInterval(() => {
      if (this.items().some((d) => isBusy(d.status))) this.reload(this.page());
    }, 2000);
  }

  ngOnDestroy(): void {
    if (this.poll) clearInterval(this.poll);
    this.uploading()?.unsubscribe();
  }

  reload(page: number): void {
    datasetsList(this.http, '', { page, per_page: this.perPage(), sort: this.sort, q: this.q || null, status: this.status }).subscribe({
      next: (r) => {
        this.items.set(r.body.items);
        this.total.set(r.body.total);
        this.page.set(page);
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  sortBy(s: Sort): void {
    this.sort = s.direction ? `${s.direction === 'desc' ? '-' : ''}${s.active}` : '-created_at';
    this.reload(1);
  }

  paged(e: PageEvent): void {
    this.perPage.set(e.pageSize);
    this.reload(e.pageIndex + 1);
  }

  pick(ev: Event): void {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    const sub = this.uploader.upload(file, null).subscribe({
      next: (p) => this.progress.set(p),
      error: (e: unknown) => {
        this.uploading.set(null);
        this.progress.set(null);
        input.value = '';
        this.notifier.error(e);
      },
      complete: () => {
        this.uploading.set(null);
        input.value = '';
        this.notifier.info(`Uploaded ${file.name}; ingestion has started`);
        this.reload(1);
      },
    });
    this.uploading.set(sub);
  }

  cancel(): void {
    this.uploading()?.unsubscribe();
    this.uploading.set(null);
    this.progress.set(null);
    this.notifier.info('Upload cancelled');
  }
}
