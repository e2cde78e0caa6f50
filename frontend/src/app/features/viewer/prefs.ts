import { Injectable, signal } from '@angular/core';
import { ColormapName } from './render';

/** Display defaults of the viewers, kept in localStorage (per browser, across sessions). */
export interface DisplayPrefs {
  colormap: ColormapName;
  clipPct: number;
  gain: number;
  mode: 'auto' | 'density' | 'wiggle';
}

export const DEFAULT_PREFS: DisplayPrefs = { colormap: 'grey', clipPct: 99, gain: 1, mode: 'auto' };
const KEY = 'promethium.display';

/** Parse stored preferences, keeping only valid values (anything else falls back to the default). */
export function parsePrefs(raw: string | null): DisplayPrefs {
  let o: Partial<Record<keyof DisplayPrefs, unknown>> = {};
  try {
    const v: unknown = raw ? JSON.parse(raw) : {};
    if (v && typeof v === 'object') o = v as typeof o;
  } catch {
    o = {};
  }
  const num = (x: unknown, lo: number, hi: number, d: number): number => (typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi ? x : d);
  return {
    colormap: o.colormap === 'seismic' || o.colormap === 'grey' ? o.colormap : DEFAULT_PREFS.colormap,
    clipPct: num(o.clipPct, 50, 100, DEFAULT_PREFS.clipPct),
    gain: num(o.gain, 0.1, 100, DEFAULT_PREFS.gain),
    mode: o.mode === 'density' || o.mode === 'wiggle' || o.mode === 'auto' ? o.mode : DEFAULT_PREFS.mode,
  };
}

@Injectable({ providedIn: 'root' })
export class DisplayPrefsStore {
  readonly prefs = signal<DisplayPrefs>(parsePrefs(this.read()));

  private read(): string | null {
    try {
      return localStorage.getItem(KEY);
    } catch {
      return null;
    }
  }

  save(p: DisplayPrefs): void {
    const clean = parsePrefs(JSON.stringify(p));
    this.prefs.set(clean);
    try {
      localStorage.setItem(KEY, JSON.stringify(clean));
    } catch {
      /* storage full or disabled: kept for this page only */
    }
  }

  reset(): void {
    this.save(DEFAULT_PREFS);
  }
}
