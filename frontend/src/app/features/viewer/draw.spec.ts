import { densityImage, drawWindowImage, holds, plotRect, sampleTime, windowLabel, windowQuery } from './draw';
import { TraceWindow } from './trace-window';

function win(over: Partial<TraceWindow> = {}): TraceWindow {
  return { values: new Float32Array(0), nTraces: 0, nSamples: 0, traceStart: 0, traceStep: 1, sampleStart: 0, sampleStep: 1, sampleInterval: 4, timeStart: 0, ...over };
}

describe('viewer drawing helpers', () => {
  it('plots inside the margins, at least 10 pixels either way', () => {
    const m = { left: 60, top: 30, right: 10, bottom: 10 };
    expect(plotRect({ width: 500, height: 400 }, m)).toEqual({ x: 60, y: 30, w: 430, h: 360 });
    expect(plotRect({ width: 50, height: 20 }, m)).toEqual({ x: 60, y: 30, w: 10, h: 10 });
  });

  it('asks for the view plus half a view either side in traces, about one value per pixel, within the data', () => {
    const p = { x: 0, y: 0, w: 100, h: 50 };
    expect(windowQuery({ t0: 400, t1: 600, s0: 10.5, s1: 310.2 }, p, 1000, 500)).toEqual({
      traceStart: 300,
      traceStop: 700,
      traceStep: 2,
      sampleStart: 10,
      sampleStop: 311,
      sampleStep: 5,
    });
    const whole = windowQuery({ t0: 0, t1: 50, s0: 0, s1: 20 }, p, 50, 20);
    expect([whole.traceStart, whole.traceStop, whole.traceStep, whole.sampleStop, whole.sampleStep]).toEqual([0, 50, 1, 20, 1]);
  });

  it('knows when the window held covers the view at the wanted decimation', () => {
    const v = { t0: 100, t1: 200, s0: 0, s1: 100 };
    const q = windowQuery(v, { x: 0, y: 0, w: 100, h: 100 }, 1000, 100); // steps 1 and 1
    const d = win({ nTraces: 200, nSamples: 100, traceStart: 50 });
    expect(holds(d, v, q)).toBe(true);
    expect(holds(null, v, q)).toBe(false);
    expect(holds({ ...d, traceStep: 2 }, v, q)).toBe(false); // another decimation
    expect(holds({ ...d, traceStart: 101 }, v, q)).toBe(false); // starts right of the view
    expect(holds({ ...d, nTraces: 100 }, v, q)).toBe(false); // ends at 150, left of t1
    expect(holds({ ...d, nSamples: 50 }, v, q)).toBe(false); // too short in time
  });

  it('labels a window by its first and last trace and its steps', () => {
    expect(windowLabel(win({ traceStart: 10, nTraces: 5, traceStep: 3, sampleStep: 2 }))).toBe('traces 10–22 every 3, samples every 2');
  });

  it("times samples with the dataset's interval when known, else the window's undecimated one", () => {
    const d = win({ sampleStart: 10, sampleStep: 2, sampleInterval: 8, timeStart: 100 });
    expect(sampleTime(10, d, 4)).toBe(100);
    expect(sampleTime(25, d, 4)).toBe(160);
    expect(sampleTime(25, d, undefined)).toBe(160); // 8 ms every 2 samples: 4 ms a sample
    expect(sampleTime(25, null, undefined)).toBe(25);
    expect(sampleTime(25, null, 2)).toBe(50);
  });

  it('builds a one-pixel-per-value image, reuses the canvas given, and places it under the view', () => {
    const values = new Float32Array([-1, 1, 0, 0, 1, -1]); // 3 traces of 2 samples
    const img = densityImage(null, values, 3, 2, 1, 1, 'grey');
    expect(img).not.toBeNull();
    expect([img!.width, img!.height]).toEqual([3, 2]);
    const px = img!.getContext('2d')!.getImageData(0, 0, 3, 2).data;
    // x = trace, y = sample: (0, 0) is -clip (white), (2, 0) and (0, 1) +clip (black), (1, 0) zero (mid grey).
    expect([px[0], px[8], px[12]]).toEqual([255, 0, 0]);
    expect(Math.abs(px[4] - 127)).toBeLessThanOrEqual(1);
    expect(densityImage(img, new Float32Array(4), 2, 2, 1, 1, 'grey')).toBe(img);
    expect([img!.width, img!.height]).toEqual([2, 2]);

    const target = document.createElement('canvas');
    target.width = 40;
    target.height = 40;
    const ctx = target.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 40, 40);
    const black = densityImage(null, new Float32Array([1, 1, 1, 1]), 2, 2, 1, 1, 'grey')!;
    // Traces 2-3 of a 0-4 view, samples 0-2 of 0-4, in a 40 x 40 plot at (0, 0): x 20-40, y 0-20.
    drawWindowImage(ctx, black, win({ nTraces: 2, nSamples: 2, traceStart: 2 }), { x: 0, y: 0, w: 40, h: 40 }, { t0: 0, t1: 4, s0: 0, s1: 4 });
    const at = (x: number, y: number) => ctx.getImageData(x, y, 1, 1).data[0];
    expect([at(25, 5), at(39, 19), at(15, 5), at(25, 25)]).toEqual([0, 0, 255, 255]);
  });
});
