import { colormap, percentileAbs, renderDensity } from './render';
import { ticks } from './viewer-page';

describe('viewer rendering', () => {
  it('grey maps -clip to white and +clip to black, seismic is white in the middle', () => {
    const grey = colormap('grey');
    expect(grey[0] & 0xffffff).toBe(0xffffff);
    expect(grey[255] & 0xffffff).toBe(0);
    const seis = colormap('seismic');
    const mid = seis[128];
    expect(mid & 0xff).toBeGreaterThan(250); // r
    expect((seis[255] & 0xff) > ((seis[255] >> 16) & 0xff)).toBe(true); // red end
    expect((seis[0] >> 16) & 0xff).toBeGreaterThan(seis[0] & 0xff); // blue end
  });

  it('clips symmetrically at a percentile of |amplitude|', () => {
    const v = new Float32Array(1001).map((_, i) => (i % 2 ? -1 : 1) * i);
    expect(percentileAbs(v, 100)).toBe(1000);
    expect(percentileAbs(v, 50)).toBeCloseTo(500, -1);
    expect(percentileAbs(new Float32Array(10), 99)).toBe(1); // all zeros: no division by zero
  });

  it('draws time downward: sample j of trace i lands in row j, column i', () => {
    const lut = new Uint32Array(256).map((_, i) => i);
    const values = new Float32Array([-1, 0, 1, 1, 0, -1]); // 2 traces x 3 samples, trace-major
    const out = new Uint32Array(6);
    renderDensity(values, 2, 3, 1, 1, lut, out);
    expect(Array.from(out)).toEqual([0, 255, 128, 128, 255, 0]);
  });

  it('gain saturates and NaN (dead traces) takes the middle colour', () => {
    const lut = new Uint32Array(256).map((_, i) => i);
    const out = new Uint32Array(2);
    renderDensity(new Float32Array([0.5, Number.NaN]), 1, 2, 1, 4, lut, out);
    expect(Array.from(out)).toEqual([255, 128]);
  });

  it('ticks are round numbers inside the range', () => {
    expect(ticks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(ticks(3, 3, 5)).toEqual([]);
  });

  it('a real canvas accepts the image (not possible in jsdom)', () => {
    const c = document.createElement('canvas');
    c.width = 2;
    c.height = 3;
    const ctx = c.getContext('2d');
    expect(ctx).not.toBeNull();
    const id = ctx!.createImageData(2, 3);
    renderDensity(new Float32Array([-1, 0, 1, 1, 0, -1]), 2, 3, 1, 1, colormap('grey'), new Uint32Array(id.data.buffer));
    ctx!.putImageData(id, 0, 0);
    const px = ctx!.getImageData(0, 0, 1, 1).data;
    expect(Array.from(px)).toEqual([255, 255, 255, 255]); // trace 0, first sample = -clip = white
  });
});
