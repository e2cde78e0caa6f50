import { TestBed } from '@angular/core/testing';
import { DEFAULT_PREFS, DisplayPrefsStore, parsePrefs } from './prefs';

describe('display defaults', () => {
  beforeEach(() => localStorage.removeItem('promethium.display'));

  it('parse keeps valid values and replaces the rest with defaults', () => {
    expect(parsePrefs(null)).toEqual(DEFAULT_PREFS);
    expect(parsePrefs('not json')).toEqual(DEFAULT_PREFS);
    expect(parsePrefs(JSON.stringify({ colormap: 'seismic', clipPct: 97.5, gain: 2, mode: 'wiggle' }))).toEqual({ colormap: 'seismic', clipPct: 97.5, gain: 2, mode: 'wiggle' });
    expect(parsePrefs(JSON.stringify({ colormap: 'jet', clipPct: 12, gain: -1, mode: 'x' }))).toEqual(DEFAULT_PREFS);
  });

  it('the store saves to localStorage and a new store reads them back', () => {
    const a = TestBed.inject(DisplayPrefsStore);
    a.save({ colormap: 'seismic', clipPct: 98, gain: 3, mode: 'density' });
    expect(JSON.parse(localStorage.getItem('promethium.display') ?? '{}')).toEqual({ colormap: 'seismic', clipPct: 98, gain: 3, mode: 'density' });
    const b = new DisplayPrefsStore();
    expect(b.prefs().colormap).toBe('seismic');
    b.reset();
    expect(b.prefs()).toEqual(DEFAULT_PREFS);
  });
});
