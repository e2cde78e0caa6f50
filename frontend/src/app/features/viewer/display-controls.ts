import { Component, model, output } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { ColormapName } from './render';

/** The settings the display controls edit. */
export interface DisplaySettings {
  colormap: ColormapName;
  clipPct: number;
  gain: number;
}

/** Colormap, clip percentile and gain of a section display (the seismic viewer and the result viewer).
 * The three values are two-way bound (`[(colormap)]`, `[(clipPct)]`, `[(gain)]`); `changed` fires, with
 * the new settings, when the colormap is picked or a number is committed (the input's change event),
 * i.e. when the image must be rebuilt. The host lays its fields out in the parent's flex row
 * (display: contents); the field width is `--display-controls-field-width` (170px by default). */
@Component({
  selector: 'app-display-controls',
  imports: [FormsModule, MatFormFieldModule, MatInputModule, MatSelectModule],
  template: `
    <mat-form-field appearance="outline">
      <mat-label>Colormap</mat-label>
      <mat-select [(ngModel)]="colormap" (selectionChange)="emit()" name="cmap">
        <mat-option value="grey">Grey</mat-option>
        <mat-option value="seismic">Seismic (diverging)</mat-option>
      </mat-select>
    </mat-form-field>
    <mat-form-field appearance="outline">
      <mat-label>Clip percentile</mat-label>
      <input matInput type="number" min="50" max="100" step="0.5" [(ngModel)]="clipPct" (change)="emit()" name="clip" />
    </mat-form-field>
    <mat-form-field appearance="outline">
      <mat-label>Gain</mat-label>
      <input matInput type="number" min="0.1" max="100" step="0.1" [(ngModel)]="gain" (change)="emit()" name="gain" />
    </mat-form-field>
  `,
  styles: `
    :host { display: contents; }
    mat-form-field { width: var(--display-controls-field-width, 170px); }
  `,
})
export class DisplayControls {
  readonly colormap = model.required<ColormapName>();
  readonly clipPct = model.required<number>();
  readonly gain = model.required<number>();
  readonly changed = output<DisplaySettings>();

  emit(): void {
    this.changed.emit({ colormap: this.colormap(), clipPct: this.clipPct(), gain: this.gain() });
  }
}
