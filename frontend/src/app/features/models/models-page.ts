import { DatePipe, JsonPipe } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { Component, OnInit, computed, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCardModule } from '@angular/material/card';
import { MatExpansionModule } from '@angular/material/expansion';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSelectModule } from '@angular/material/select';
import { Store } from '@ngrx/store';
import { modelsDelete } from '../../api/fn/models/models-delete';
import { modelsList } from '../../api/fn/models/models-list';
import { modelsSetDefault } from '../../api/fn/models/models-set-default';
import { modelsUpload } from '../../api/fn/models/models-upload';
import { ModelOut } from '../../api/models/model-out';
import { authFeature } from '../../core/auth.store';
import { Notifier } from '../../core/errors';
import { cell, metricLabel } from '../results/compare';

type Task = 'reconstruction' | 'denoising';

/** Scalar entries of a model's metrics, for a short summary line. */
export function metricSummary(m: Record<string, unknown>): { label: string; value: string }[] {
  return Object.entries(m)
    .filter(([, v]) => typeof v === 'number' || (typeof v === 'string' && v.length < 30))
    .slice(0, 6)
    .map(([k, v]) => ({ label: metricLabel(k), value: cell(v as number | string) }));
}

@Component({
  selector: 'app-models-page',
  imports: [DatePipe, JsonPipe, FormsModule, MatCardModule, MatButtonModule, MatExpansionModule, MatFormFieldModule, MatInputModule, MatSelectModule, MatProgressBarModule],
  template: `
    <h1>Model registry</h1>
    @if (canWrite()) {
      <mat-card class="upload">
        <mat-card-header><mat-card-title>Upload weights</mat-card-title></mat-card-header>
        <mat-card-content>
          <form (ngSubmit)="upload()" class="form" aria-label="Upload model weights">
            <label>Weights (.pt) <input type="file" accept=".pt,.pth" (change)="weights = file($event)" data-testid="model-weights" required /></label>
            <label>JSON sidecar <input type="file" accept=".json,application/json" (change)="sidecar = file($event)" data-testid="model-sidecar" required /></label>
            <mat-form-field appearance="outline">
              <mat-label>Name (optional)</mat-label>
              <input matInput [(ngModel)]="name" name="name" maxlength="255" />
            </mat-form-field>
            <button mat-flat-button type="submit" [disabled]="uploading()">Upload</button>
          </form>
          @if (uploading()) { <mat-progress-bar mode="indeterminate" aria-label="Uploading and validating the weights" /> }
          <p class="note">The weights are loaded with <code>weights_only</code> and checked against the sidecar's constructor arguments before they are stored.</p>
        </mat-card-content>
      </mat-card>
    }
    <p role="status">{{ loaded() ? total() + ' model(s).' : 'Loading…' }}</p>
    <mat-accordion multi>
      @for (m of items(); track m.id) {
        <mat-expansion-panel>
          <mat-expansion-panel-header>
            <mat-panel-title>{{ m.name }} <span class="ver">v{{ m.version }}</span></mat-panel-title>
            <mat-panel-description>
              {{ m.architecture ?? 'unknown architecture' }} · {{ m.n_parameters !== null ? (m.n_parameters.toLocaleString() + ' parameters') : '' }}
              @if (m.default_for) { <strong class="default" data-testid="model-default">default for {{ m.default_for }}</strong> }
            </mat-panel-description>
          </mat-expansion-panel-header>
          <div class="detail">
            <section>
              <h3>Metrics</h3>
              @if (summary(m).length) {
                <dl>@for (s of summary(m); track s.label) { <dt>{{ s.label }}</dt><dd>{{ s.value }}</dd> }</dl>
              }
              <pre tabindex="0" role="region" [attr.aria-label]="'Metrics of ' + m.name">{{ m.metrics | json }}</pre>
            </section>
            <section><h3>Architecture arguments</h3><pre tabindex="0" role="region" [attr.aria-label]="'Architecture arguments of ' + m.name">{{ m.args | json }}</pre></section>
            <section><h3>Training configuration</h3><pre tabindex="0" role="region" [attr.aria-label]="'Training configuration of ' + m.name">{{ m.training | json }}</pre></section>
          </div>
          <p class="meta">Status {{ m.status }} · added {{ m.created_at | date: 'medium' }} · {{ m.owner_id ? 'uploaded' : 'shipped with Promethium' }}</p>
          <div class="actions">
            @if (isAdmin()) {
              <mat-form-field appearance="outline" subscriptSizing="dynamic">
                <mat-label>Task</mat-label>
                <mat-select [(ngModel)]="task[m.id]" [name]="'task-' + m.id">
                  <mat-option value="reconstruction">reconstruction</mat-option>
                  <mat-option value="denoising">denoising</mat-option>
                </mat-select>
              </mat-form-field>
              <button mat-stroked-button type="button" (click)="setDefault(m)" [disabled]="!task[m.id]">Make default</button>
            }
            @if (canDelete(m)) {
              <button mat-button type="button" class="danger" (click)="remove(m)">Delete</button>
            }
          </div>
        </mat-expansion-panel>
      } @empty {
        @if (loaded()) { <p>No models registered.</p> }
      }
    </mat-accordion>
  `,
  styles: `
    .upload { margin-bottom: 1rem; }
    .form { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
    .note, .meta { color: #444; font-size: 0.85rem; }
    .ver { margin-left: 0.5rem; color: #555; font-size: 0.85rem; }
    .default { margin-left: 0.75rem; color: #1b5e20; }
    .detail { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
    pre { white-space: pre-wrap; font-size: 0.8rem; background: #f6f6f6; padding: 0.5rem; max-height: 260px; overflow: auto; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
    dd { margin: 0; }
    .actions { display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }
    .danger { color: #b00020; }
  `,
})
export class ModelsPage implements OnInit {
  private readonly http = inject(HttpClient);
  private readonly notifier = inject(Notifier);
  private readonly user = inject(Store).selectSignal(authFeature.selectUser);
  readonly isAdmin = computed(() => this.user()?.role === 'admin');
  readonly canWrite = computed(() => this.user()?.role === 'admin' || this.user()?.role === 'user');
  readonly items = signal<ModelOut[]>([]);
  readonly total = signal(0);
  readonly loaded = signal(false);
  readonly uploading = signal(false);
  readonly summary = (m: ModelOut) => metricSummary(m.metrics);
  task: Record<string, Task> = {};
  weights: File | null = null;
  sidecar: File | null = null;
  name = '';

  ngOnInit(): void {
    this.load();
  }

  canDelete(m: ModelOut): boolean {
    return this.isAdmin() || (!!m.owner_id && m.owner_id === this.user()?.id);
  }

  file(ev: Event): File | null {
    return (ev.target as HTMLInputElement).files?.[0] ?? null;
  }

  load(): void {
    modelsList(this.http, '', { per_page: 200 }).subscribe({
      next: (r) => {
        this.items.set(r.body.items);
        this.total.set(r.body.total);
        this.loaded.set(true);
        for (const m of r.body.items) if (m.default_for && !this.task[m.id]) this.task[m.id] = m.default_for as Task;
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  upload(): void {
    if (!this.weights || !this.sidecar) {
      this.notifier.error(new Error('Choose the weights file and its JSON sidecar'));
      return;
    }
    this.uploading.set(true);
    modelsUpload(this.http, '', { body: { weights: this.weights as unknown as string, sidecar: this.sidecar as unknown as string, name: this.name || undefined } }).subscribe({
      next: (r) => {
        this.uploading.set(false);
        this.notifier.info(`Model ${r.body.name} registered`);
        this.load();
      },
      error: (e: unknown) => {
        this.uploading.set(false);
        this.notifier.error(e);
      },
    });
  }

  setDefault(m: ModelOut): void {
    const task = this.task[m.id];
    if (!task) return;
    modelsSetDefault(this.http, '', { model_id: m.id, body: { task } }).subscribe({
      next: () => {
        this.notifier.info(`${m.name} is now the default for ${task}`);
        this.load();
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }

  remove(m: ModelOut): void {
    if (!confirm(`Delete model ${m.name} v${m.version}?`)) return;
    modelsDelete(this.http, '', { model_id: m.id }).subscribe({
      next: () => {
        this.notifier.info(`Deleted ${m.name}`);
        this.load();
      },
      error: (e: unknown) => this.notifier.error(e),
    });
  }
}
