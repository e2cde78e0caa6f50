import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { DisplayControls, DisplaySettings } from './display-controls';
import { ColormapName } from './render';

/** A page as the viewers use the controls: plain fields, two-way bound, and a rebuild on change. */
@Component({
  imports: [DisplayControls],
  template: `<section class="controls" aria-label="Display settings">
    <app-display-controls [(colormap)]="cmap" [(clipPct)]="clipPct" [(gain)]="gain" (changed)="rebuilds.push($event)" />
  </section>`,
})
class Host {
  cmap: ColormapName = 'grey';
  clipPct = 99;
  gain = 1;
  readonly rebuilds: DisplaySettings[] = [];
}

describe('display controls', () => {
  it('renders the colormap, clip and gain fields with their labels and the values given', async () => {
    const fixture = TestBed.createComponent(Host);
    fixture.componentInstance.cmap = 'seismic';
    fixture.componentInstance.clipPct = 97.5;
    fixture.componentInstance.gain = 2;
    fixture.detectChanges();
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const labels = [...el.querySelectorAll('mat-label')].map((l) => l.textContent?.trim());
    expect(labels).toEqual(['Colormap', 'Clip percentile', 'Gain']);
    const env = TestbedHarnessEnvironment.loader(fixture);
    const select = await env.getHarness(MatSelectHarness);
    expect(await select.getValueText()).toBe('Seismic (diverging)');
    const clip = await env.getHarness(MatInputHarness.with({ selector: '[name="clip"]' }));
    const gain = await env.getHarness(MatInputHarness.with({ selector: '[name="gain"]' }));
    expect(await clip.getValue()).toBe('97.5');
    expect(await gain.getValue()).toBe('2');
    expect(await clip.getType()).toBe('number');
    const clipInput = el.querySelector<HTMLInputElement>('input[name="clip"]');
    expect([clipInput?.min, clipInput?.max, clipInput?.step]).toEqual(['50', '100', '0.5']);
    const gainInput = el.querySelector<HTMLInputElement>('input[name="gain"]');
    expect([gainInput?.min, gainInput?.max, gainInput?.step]).toEqual(['0.1', '100', '0.1']);
    // The fields are labelled for assistive technology (the e2e tests find them by label).
    expect(clipInput?.labels?.[0]?.textContent).toContain('Clip percentile');
    expect(el.querySelector('mat-select')?.getAttribute('aria-labelledby')).toBeTruthy();
  });

  it('writes picked and typed values back to the page and emits a change for each commit', async () => {
    const fixture = TestBed.createComponent(Host);
    fixture.detectChanges();
    await fixture.whenStable();
    const host = fixture.componentInstance;
    const env = TestbedHarnessEnvironment.loader(fixture);

    const select = await env.getHarness(MatSelectHarness);
    await select.open();
    const names = await Promise.all((await select.getOptions()).map((o) => o.getText()));
    expect(names).toEqual(['Grey', 'Seismic (diverging)']);
    await select.clickOptions({ text: 'Seismic (diverging)' });
    expect(host.cmap).toBe('seismic');
    expect(host.rebuilds).toEqual([{ colormap: 'seismic', clipPct: 99, gain: 1 }]);

    const clip = await env.getHarness(MatInputHarness.with({ selector: '[name="clip"]' }));
    await clip.setValue('95'); // typing updates the value but is not a commit yet
    expect(host.clipPct).toBe(95);
    expect(host.rebuilds.length).toBe(1);
    await clip.blur();
    (fixture.nativeElement as HTMLElement).querySelector('input[name="clip"]')?.dispatchEvent(new Event('change'));
    expect(host.rebuilds.at(-1)).toEqual({ colormap: 'seismic', clipPct: 95, gain: 1 });

    const gain = await env.getHarness(MatInputHarness.with({ selector: '[name="gain"]' }));
    await gain.setValue('3.5');
    (fixture.nativeElement as HTMLElement).querySelector('input[name="gain"]')?.dispatchEvent(new Event('change'));
    expect(host.gain).toBe(3.5);
    expect(host.rebuilds.at(-1)).toEqual({ colormap: 'seismic', clipPct: 95, gain: 3.5 });
  });

  it('shows values the page sets later', async () => {
    const fixture = TestBed.createComponent(Host);
    fixture.detectChanges();
    await fixture.whenStable();
    fixture.componentInstance.gain = 4;
    fixture.componentInstance.cmap = 'seismic';
    fixture.detectChanges();
    await fixture.whenStable();
    const env = TestbedHarnessEnvironment.loader(fixture);
    expect(await (await env.getHarness(MatInputHarness.with({ selector: '[name="gain"]' }))).getValue()).toBe('4');
    expect(await (await env.getHarness(MatSelectHarness)).getValueText()).toBe('Seismic (diverging)');
    expect(fixture.componentInstance.rebuilds).toEqual([]); // only the user's commits ask for a rebuild
  });
});
