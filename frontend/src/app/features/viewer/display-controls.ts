import { Component, EventEmitter, Input, Output } from '@angular/core';
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
 * The three values are two-way bound (`[(colormap)]`, `[(clipPct)]`, `[(gain)]`, updated as the user
 * types or picks); `changed` fires, with the new settings, when the colormap is picked or a number is
 * committed (the input's change event), i.e. when the image must be rebuilt. The host lays its fields
 * out in the parent's flex row (display: contents); the field width is `--display-controls-field-width`
 * (170px by default).
 *
 * Decorator inputs and EventEmitter outputs on purpose: nothing else in the app uses model() or
 * output(), and their runtime would add about 1 kB to the initial bundle. */
@Component({
  selector: 'app-display-controls',
  imports: [FormsModule, MatFormFieldModule, MatInputModule, MatSelectModule],
  template: `
    <mat-form-field appearance="outline">
      <mat-label>Colormap</mat-label>
      <mat-select [(ngModel)]="colormap" (ngModelChange)="colormapChange.emit($event)" (selectionChange)="emit()" name="cmap">
        <mat-option value="grey">Grey</mat-option>
        <mat-option value="seismic">Seismic (diverging)</mat-option>
      </mat-select>
    </mat-form-field>
    <mat-form-field appearance="outline">
      <mat-label>Clip percentile</mat-label>
      <input matInput type="number" min="50" max="100" step="0.5" [(ngModel)]="clipPct" (ngModelChange)="clipPctChange.emit($event)" (change)="emit()" name="clip" />
    </mat-form-field>
    <mat-form-field appearance="outline">
      <mat-label>Gain</mat-label>
      <input matInput type="number" min="0.1" max="100" step="0.1" [(ngModel)]="gain" (ngModelChange)="gainChange.emit($event)" (change)="emit()" name="gain" />
    </mat-form-field>
  `,
  styles: `
    :host { display: contents; }
    mat-form-field { width: var(--display-controls-field-width, 170px); }
  `,
})
export class DisplayControls {
  @Input({ required: true }) colormap!: ColormapName;
  @Input({ required: true }) clipPct!: number;
  @Input({ required: true }) gain!: number;
  @Output() readonly colormapChange = new EventEmitter<ColormapName>();
  @Output() readonly clipPctChange = new EventEmitter<number>();
  @Output() readonly gainChange = new EventEmitter<number>();
  @Output() readonly changed = new EventEmitter<DisplaySettings>();

  emit(): void {
    this.changed.emit({ colormap: this.colormap, clipPct: this.clipPct, gain: this.gain });
  }
}
