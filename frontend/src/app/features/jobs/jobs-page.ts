import { DatePipe, PercentPipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnDestroy, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatPaginatorModule, PageEvent } from '@angular/material/paginator';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { MatTableModule } from '@angular/material/table';
import { Router, RouterLink } from '@angular/router';
import { Store } from '@ngrx/store';
import { datasetsList } from '../../api/fn/datasets/datasets-list';
import { jobsCreate } from '../../api/fn/jobs/jobs-create';
import { workflowsDescribe } from '../../api/fn/workflows/workflows-describe';
import { DatasetOut } from '../../api/models/dataset-out';
import { JobCreate } from '../../api/models/job-create';
import { Notifier } from '../../core/errors';
import { Field, JsonSchema, defaultText, fields, overrides, variants } from './schema-form';
import { JobsActions, jobsFeature } from './jobs.store';

type Kind = JobCreate['kind'];
const FORM_KINDS: Kind[] = ['reconstruct', 'denoise', 'compare'];
/** The workflow operation whose schema makes a kind's form, when it is not the kind's own name. */
const OP_OF: Partial<Record<Kind, string>> = { compare: 'evaluate' };
/** The preset of a kind that has no default pipeline on the server. */
const PIPELINE_OF: Partial<Record<Kind, string>> = { compare: 'compare-methods' };
const KIND_LABEL: Partial<Record<string, string>> = { reconstruct: 'reconstruct', denoise: 'denoise', compare: 'compare methods (score on hidden traces)' };

@Component({
  selector: 'app-jobs-page',
  imports: [DatePipe, PercentPipe, FormsModule, RouterLink, MatTableModule, MatPaginatorModule, MatCardModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatButtonModule, MatProgressBarModule],
  template: `
    <h1>Jobs</h1>
    <mat-card class="submit">
      <mat-card-header><mat-card-title>Submit a job</mat-card-title></mat-card-header>
      <mat-card-content>
        <form (ngSubmit)="submit()" class="form" aria-label="Submit a job">
          <mat-form-field appearance="outline">
            <mat-label>Kind</mat-label>
            <mat-select [(ngModel)]="kind" name="kind" (selectionChange)="pickKind()" data-testid="job-kind">
              @for (k of kinds; track k) { <mat-option [value]="k">{{ kindLabel[k] ?? k }}</mat-option> }
            </mat-select>
          </mat-form-field>
          <mat-form-field appearance="outline" class="wide">
            <mat-label>Dataset</mat-label>
            <mat-select [(ngModel)]="datasetId" name="dataset" required data-testid="job-dataset">
              @for (d of datasets(); track d.id) { <mat-option [value]="d.id">{{ d.name }}</mat-option> }
            </mat-select>
          </mat-form-field>
          @if (methods().length) {
            <mat-form-field appearance="outline">
              <mat-label>Method</mat-label>
              <mat-select [(ngModel)]="method" name="method" (selectionChange)="pickMethod()" data-testid="job-method">
                @for (m of methods(); track m) { <mat-option [value]="m">{{ m }}</mat-option> }
              </mat-select>
            </mat-form-field>
          }
          @if (notReady()) { <p class="desc" role="status" data-testid="dataset-not-ready">The dataset asked for is not ready yet (still being ingested, or failed): jobs run on ready datasets only.</p> }
          @if (description()) { <p class="desc">{{ description() }}</p> }
          <div class="fields">
            @for (f of formFields(); track f.name) {
              <mat-form-field appearance="outline" subscriptSizing="dynamic">
                <mat-label>{{ f.label }}</mat-label>
                @if (f.kind === 'boolean') {
                  <mat-select [(ngModel)]="texts[f.name]" [name]="f.name">
                    <mat-option value="true">true</mat-option>
                    <mat-option value="false">false</mat-option>
                  </mat-select>
                } @else if (f.kind === 'enum') {
                  <mat-select [(ngModel)]="texts[f.name]" [name]="f.name">
                    @for (o of f.options ?? []; track o) { <mat-option [value]="'' + o">{{ o }}</mat-option> }
                  </mat-select>
                } @else {
                  <input matInput [(ngModel)]="texts[f.name]" [name]="f.name" [placeholder]="f.nullable ? 'default' : ''" />
                }
                @if (f.description) { <mat-hint>{{ f.description }}</mat-hint> }
              </mat-form-field>
            }
          </div>
          <button mat-flat-button type="submit" [disabled]="!datasetId" data-testid="job-submit">Submit</button>
        </form>
      </mat-card-content>
    </mat-card>

    <h2>All jobs</h2>
    <table mat-table [dataSource]="jobs()" aria-label="Jobs">
      <ng-container matColumnDef="kind"><th mat-header-cell *matHeaderCellDef>Kind</th><td mat-cell *matCellDef="let j"><a [routerLink]="['/jobs', j.id]">{{ j.kind }}</a>@if (j.status === 'succeeded') { · <a [routerLink]="['/results', j.id]">result</a> }</td></ng-container>
      <ng-container matColumnDef="status"><th mat-header-cell *matHeaderCellDef>Status</th><td mat-cell *matCellDef="let j">{{ j.status }}</td></ng-container>
      <ng-container matColumnDef="progress"><th mat-header-cell *matHeaderCellDef>Progress</th><td mat-cell *matCellDef="let j">{{ j.progress | percent }}</td></ng-container>
      <ng-container matColumnDef="pipeline"><th mat-header-cell *matHeaderCellDef>Pipeline</th><td mat-cell *matCellDef="let j">{{ j.pipeline ?? '–' }}</td></ng-container>
      <ng-container matColumnDef="created_at"><th mat-header-cell *matHeaderCellDef>Created</th><td mat-cell *matCellDef="let j">{{ j.created_at | date: 'medium' }}</td></ng-container>
      <tr mat-header-row *matHeaderRowDef="columns"></tr>
      <tr mat-row *matRowDef="let row; columns: columns"></tr>
      <tr class="mat-row" *matNoDataRow><td class="mat-cell" [attr.colspan]="columns.length">No jobs yet.</td></tr>
    </table>
    <mat-paginator [length]="total()" [pageSize]="20" [pageSizeOptions]="[20, 50, 100]" (page)="paged($event)" aria-label="Pages of jobs" />
  `,
  styles: `
    .submit { margin-bottom: 1.5rem; }
    .form { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: baseline; }
    .wide { min-width: 280px; }
    .fields { display: flex; flex-wrap: wrap; gap: 0.75rem; width: 100%; }
    .fields mat-form-field { width: 220px; }
    .desc { width: 100%; color: #444; }
    table { width: 100%; }
  `,
})
export class JobsPage implements OnInit, OnDestroy {
  readonly dataset = input<string>();
  readonly kindParam = input<string | undefined>(undefined, { alias: 'kind' });
  readonly kindLabel = KIND_LABEL;
  private readonly store = inject(Store);
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  private readonly router = inject(Router);
  readonly jobs = this.store.selectSignal(jobsFeature.selectItems);
  readonly total = this.store.selectSignal(jobsFeature.selectTotal);
  readonly datasets = signal<DatasetOut[]>([]);
  readonly methods = signal<string[]>([]);
  readonly formFields = signal<Field[]>([]);
  readonly description = signal('');
  readonly notReady = signal(false);
  readonly columns = ['kind', 'status', 'progress', 'pipeline', 'created_at'];
  readonly kinds = FORM_KINDS;
  kind: Kind = 'reconstruct';
  datasetId = '';
  method = '';
  texts: Record<string, string> = {};
  private ops: Record<string, JsonSchema> = {};
  private discriminator: string | null = null;
  private page = 1;
  private timer: ReturnType<typeof setInterval> | null = null;

  ngOnInit(): void {
    this.reload();
    this.timer = setInterval(() => this.reload(), 3000);
    this.datasetId = this.dataset() ?? '';
    const k = this.kindParam();
    if (k && (FORM_KINDS as string[]).includes(k)) this.kind = k as Kind;
    datasetsList(this.http, '', { per_page: 200, status: 'ready' }).subscribe({
      next: (r) => {
        this.datasets.set(r.body.items);
        if (this.datasetId && !r.body.items.some((d) => d.id === this.datasetId)) {
          this.notReady.set(true); // jobs are only offered on ready datasets
          this.datasetId = '';
        }
      },
      error: (e: unknown) => this.notifier.error(e),
    });
    workflowsDescribe(this.http, '').subscribe({
      next: (r) => {
        this.ops = Object.fromEntries(Object.entries(r.body.operations).map(([k, v]) => [k, (v as { parameters: JsonSchema }).parameters]));
        this.pickKind();
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  ngOnDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  reload(): void {
    this.store.dispatch(JobsActions.load({ page: this.page, perPage: 20, status: null }));
  }

  paged(e: PageEvent): void {
    this.page = e.pageIndex + 1;
    this.reload();
  }

  pickKind(): void {
    const schema = this.ops[OP_OF[this.kind] ?? this.kind];
    if (!schema) return;
    const v = variants(schema);
    this.discriminator = v.discriminator;
    this.methods.set(v.discriminator ? Object.keys(v.schemas) : []);
    this.method = v.schemas['pocs'] ? 'pocs' : v.schemas['fx_decon'] ? 'fx_decon' : v.key;
    this.pickMethod();
  }

  pickMethod(): void {
    const v = variants(this.ops[OP_OF[this.kind] ?? this.kind]);
    const s = v.schemas[this.method];
    const fs = fields(s, this.discriminator);
    this.description.set(s.properties?.[this.discriminator ?? '']?.description ?? s.description ?? '');
    this.texts = Object.fromEntries(fs.map((f) => [f.name, defaultText(f)]));
    this.formFields.set(fs);
  }

  submit(): void {
    let params: Record<string, unknown>;
    try {
      params = overrides(this.kind, this.discriminator, this.method, this.formFields(), this.texts, this.kind in PIPELINE_OF);
    } catch (e: unknown) {
      this.notifier.error(e);
      return;
    }
    const pipeline = PIPELINE_OF[this.kind];
    jobsCreate(this.http, '', { body: { kind: this.kind, dataset_id: this.datasetId, params, ...(pipeline ? { pipeline } : {}) } }).subscribe({
      next: (r) => {
        this.notifier.info(`Job ${r.body.kind} queued`);
        void this.router.navigate(['/jobs', r.body.id]);
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }
}
