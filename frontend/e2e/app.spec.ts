import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const USER = process.env['E2E_USERNAME'] ?? 'e2e-admin';
const PASSWORD = process.env['E2E_PASSWORD'] ?? 'e2e-password-long-enough';
const SHARED = process.env['E2E_SEGY'] ?? '../../shared/data/segy/seisplot_31_81_PR.sgy';
const ART = 'test-artefacts';
mkdirSync(ART, { recursive: true });

const figures: Record<string, number | string> = {};

interface Violation {
  id: string;
  impact: string | null;
  nodes: number;
  first: string;
}
const accessibility: Record<string, { rulesPassed: number; violations: Violation[] }> = {};
const AXE = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');

/** axe-core's WCAG 2 A/AA checks (labels, names, contrast, ...) on the screen as it is. */
async function audit(page: Page, name: string): Promise<void> {
  // Material's snack bar keeps its message aria-hidden for its first 150 ms, then moves it into a live
  // region, and fades in and out: audit the settled screen (contrast is measured through opacity).
  await page.waitForTimeout(250);
  await page.evaluate(() => Promise.race([Promise.all(document.getAnimations().filter((x) => Number.isFinite(Number(x.effect?.getComputedTiming().endTime))).map((x) => x.finished.catch(() => undefined))), new Promise((r) => setTimeout(r, 2000))]));
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE); // CSP forbids a script tag
  accessibility[name] = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ passes: unknown[]; violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return { rulesPassed: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, first: String(v.nodes[0]?.target ?? '') })) };
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
  await audit(page, name);
}

async function login(page: Page): Promise<void> {
  await page.goto('/datasets');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('User name').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await shot(page, '01-login');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/datasets$/); // back to the deep link asked for
  await expect(page.getByText(`${USER} (admin)`)).toBeVisible();
}

/** Non-background pixels in the canvas's plot area. */
async function paintedFraction(page: Page): Promise<number> {
  return page.getByTestId('viewer-canvas').evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const ctx = c.getContext('2d');
    if (!ctx) return 0;
    const d = ctx.getImageData(70, 40, c.width - 90, c.height - 60).data;
    let painted = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) painted++;
    return painted / (d.length / 4);
  });
}

test('log in, upload a real SEG-Y, view it, reconstruct it', async ({ page }) => {
  test.skip(!existsSync(SHARED), `${SHARED} is absent`);
  await login(page);

  // Upload through the chunked API with the progress bar; ingestion finishes in finalize.
  await page.getByTestId('file-input').setInputFiles(SHARED);
  await expect(page.getByText('Uploaded seisplot_31_81_PR.sgy')).toBeVisible({ timeout: 120_000 });
  const row = page.getByRole('row', { name: /seisplot_31_81_PR/ });
  await expect(row).toContainText('ready', { timeout: 60_000 });
  await shot(page, '02-datasets');

  await row.getByRole('link').click();
  await expect(page.getByTestId('dataset-status')).toHaveText('ready');
  await expect(page.getByAltText('Preview image of the section')).toBeVisible();
  await shot(page, '03-dataset-detail');

  await page.getByTestId('open-viewer').click();
  await page.waitForFunction(() => (window.promethiumViewer?.stats.fetches ?? 0) > 0 && window.promethiumViewer?.stats.nonBlank);
  await page.waitForTimeout(300);
  expect(await paintedFraction(page)).toBeGreaterThan(0.5);
  await shot(page, '04-viewer-grey');
  await page.getByLabel('Colormap').click();
  await page.getByRole('option', { name: 'Seismic (diverging)' }).click();
  await page.waitForTimeout(200);
  await shot(page, '05-viewer-seismic');
  // Zoom into a narrow window: wiggles.
  const canvas = page.getByTestId('viewer-canvas');
  await canvas.focus();
  for (let i = 0; i < 12; i++) await page.keyboard.press('+');
  await page.waitForTimeout(600);
  expect(await paintedFraction(page)).toBeGreaterThan(0.01);
  await canvas.hover({ position: { x: 400, y: 300 } });
  await expect(page.getByTestId('readout')).toContainText('trace');
  await canvas.hover({ position: { x: 402, y: 300 } });
  await expect(page.getByTestId('header-readout')).toContainText(/\w+ -?\d/); // header fields of that trace
  await shot(page, '06-viewer-wiggle');

  // Reconstruct with a form generated from the workflow schema; status pushed over the WebSocket.
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    if (ws.url().includes('/api/v1/ws')) ws.on('framereceived', (f) => frames.push(String(f.payload)));
  });
  const datasetId = page.url().split('/viewer/')[1];
  await page.goto(`/datasets/${datasetId}`);
  await page.getByRole('link', { name: 'Run a job on it' }).click();
  await expect(page.getByTestId('job-dataset')).toContainText('seisplot_31_81_PR');
  await page.getByTestId('job-method').click();
  await page.getByRole('option', { name: 'linear', exact: true }).click();
  await shot(page, '07-job-form');
  await page.getByTestId('job-submit').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('job-status')).toHaveText('succeeded', { timeout: 150_000 });
  await expect(page.getByTestId('job-log')).not.toContainText('No events yet');
  await page.waitForTimeout(600); // the progress bar animates
  await shot(page, '08-job-detail');
  expect(frames.some((f) => f.includes('"type": "ready"') || f.includes('"type":"ready"'))).toBe(true);
  expect(frames.some((f) => f.includes('subscribed'))).toBe(true);

  // The result viewer: input, result and difference painted with one clip; metrics; download.
  await page.getByTestId('open-result').click();
  await expect(page).toHaveURL(/\/results\/[0-9a-f-]{36}$/);
  await page.waitForFunction(() => {
    const s = window.promethiumResult?.stats;
    return !!s && s.fetches > 0 && s.painted[0] > 0.5 && s.painted[1] > 0.5;
  });
  await expect(page.getByTestId('metrics-table')).toContainText('Run time (s)');
  await expect(page.getByTestId('metrics-table')).toContainText('534'); // traces of the output
  await expect(page.getByTestId('change-summary')).toContainText('traces in view changed');
  await page.getByTestId('panel-1').hover({ position: { x: 150, y: 150 } });
  await expect(page.getByTestId('result-readout')).toContainText('difference');
  await shot(page, '09-result-viewer');
  const before = await page.evaluate(() => window.promethiumResult?.view());
  // Down to a small laptop screen: the three sections stay side by side and nothing scrolls sideways.
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => { const m = document.querySelector('mat-sidenav-content') as HTMLElement; return m.scrollWidth <= m.clientWidth + 1; })).toBe(true);
  await shot(page, '09b-result-viewer-1024');
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.getByTestId('panel-2').focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('+');
  const after = await page.evaluate(() => window.promethiumResult?.view());
  expect(after!.t1 - after!.t0).toBeLessThan(before!.t1 - before!.t0); // one view for the three panels
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-result').click()]);
  expect(download.suggestedFilename()).toMatch(/^result-[0-9a-f-]{36}\.sgy$/);
  const saved = join(ART, 'downloaded-result.sgy');
  await download.saveAs(saved);
  const { statSync } = await import('node:fs');
  expect(statSync(saved).size).toBeGreaterThan(3600 + 534 * 240);
  await expect(page.getByRole('status').filter({ hasText: 'Downloaded result-' })).toBeVisible();

  // A comparison of methods on the same hidden traces.
  await page.goto(`/jobs?dataset=${datasetId}&kind=compare`);
  await expect(page.getByTestId('job-dataset')).toContainText('seisplot_31_81_PR');
  await page.getByLabel('Methods').fill('["linear", "pocs"]');
  await shot(page, '10-compare-form');
  await page.getByTestId('job-submit').click();
  await expect(page.getByTestId('job-status')).toHaveText('succeeded', { timeout: 150_000 });
  await page.getByTestId('open-result').click();
  const table = page.getByTestId('comparison-table');
  await expect(table.getByRole('row')).toHaveCount(3);
  await expect(table).toContainText('linear');
  await expect(table).toContainText('pocs');
  await expect(page.getByTestId('best-method')).toHaveText(/linear|pocs/);
  await page.waitForFunction(() => (window.promethiumResult?.stats.painted[0] ?? 0) > 0.5);
  await table.scrollIntoViewIfNeeded();
  await shot(page, '11-compare-result');

  // Cancel a slower job from its page; the log shows it.
  await page.goto(`/jobs?dataset=${datasetId}&kind=compare`);
  await expect(page.getByTestId('job-dataset')).toContainText('seisplot_31_81_PR');
  await page.getByLabel('Methods').fill('["drr", "pocs", "drr"]');
  await page.getByTestId('job-submit').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await page.getByTestId('job-cancel').click();
  await expect(page.getByTestId('job-status')).toHaveText('cancelled', { timeout: 30_000 });
  await expect(page.getByTestId('job-log')).toContainText('cancelled', { timeout: 10_000 });
  await shot(page, '11b-job-cancelled');

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('health-status')).toContainText('ok');
  await expect(page.getByTestId('system-status')).toContainText('the API process');
  await expect(page.getByTestId('storage-used')).toContainText('dataset');
  await shot(page, '12-dashboard');
  await page.getByRole('link', { name: 'Models' }).click();
  await expect(page.getByText('3 model(s).')).toBeVisible(); // the three shipped networks
  await expect(page.getByTestId('model-default')).toHaveCount(2); // one default per task; the 3D is not
  const shipped = page.locator('mat-expansion-panel', { hasText: 'unet-reconstruct' });
  await shipped.locator('mat-expansion-panel-header').click(); // its architecture, training and metrics
  await expect(shipped.getByText('Training configuration')).toBeVisible();
  // Upload weights with their sidecar (the shipped denoiser under another name) and make it the default.
  const pretrained = '../src/promethium/ml/pretrained';
  await page.getByTestId('model-weights').setInputFiles(`${pretrained}/unet-denoise.pt`);
  await page.getByTestId('model-sidecar').setInputFiles(`${pretrained}/unet-denoise.json`);
  await page.getByLabel('Name (optional)').fill('e2e-denoiser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByText('4 model(s).')).toBeVisible({ timeout: 30_000 });
  const panel = page.locator('mat-expansion-panel', { hasText: 'e2e-denoiser' });
  await panel.locator('mat-expansion-panel-header').click();
  await panel.getByRole('combobox', { name: 'Task' }).click();
  await page.getByRole('option', { name: 'denoising' }).click();
  await panel.getByRole('button', { name: 'Make default' }).click();
  await expect(panel.getByTestId('model-default')).toHaveText('default for denoising');
  await expect(page.getByTestId('model-default')).toHaveCount(2); // the shipped denoiser is no longer
  await shot(page, '13-models');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Colormap').click();
  await page.getByRole('option', { name: 'Seismic (diverging)' }).click();
  await page.getByRole('button', { name: 'Save display defaults' }).click();
  expect(await page.evaluate(() => localStorage.getItem('promethium.display'))).toContain('seismic');
  await shot(page, '14-settings');
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('cell', { name: USER, exact: true })).toBeVisible();
  await page.getByLabel('User name').fill('e2e-viewer');
  await page.getByLabel('Initial password').fill('viewer-password-long-enough');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('cell', { name: 'e2e-viewer', exact: true })).toBeVisible();
  await shot(page, '15-users');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  writeFileSync(join(ART, 'accessibility.json'), JSON.stringify(accessibility, null, 2) + '\n');
  expect(Object.values(accessibility).every((a) => a.rulesPassed >= 10)).toBe(true); // axe really ran
  const serious = Object.entries(accessibility).flatMap(([screen, a]) => a.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${screen}: ${v.id} (${v.first})`));
  expect(serious).toEqual([]);
});

test('viewer figures: first paint of 1000x1000, panning a 5000-trace section', async ({ page, request }) => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-section-'));
  const file = join(dir, 'section5000.sgy');
  const python = process.env['E2E_PYTHON'] ?? '../.venv/bin/python';
  execFileSync(python, ['e2e/make_section.py', file], { env: { ...process.env, PYTHONPATH: '../src' } });
  const tok = await request.post('/api/v1/auth/login', { form: { username: USER, password: PASSWORD } });
  const access = ((await tok.json()) as { access_token: string }).access_token;
  const up = await request.post('/api/v1/datasets', {
    headers: { Authorization: `Bearer ${access}` },
    multipart: { file: { name: 'section5000.sgy', mimeType: 'application/octet-stream', buffer: readFileSync(file) } },
    timeout: 120_000,
  });
  expect([201, 202]).toContain(up.status()); // 202 once ingestion runs as a job
  const id = ((await up.json()) as { id: string }).id;

  await login(page);
  // A 1000 x 1000 canvas plot area: the whole-section view fetches a 1000 x 1000 window (5000 traces / 5).
  await page.setViewportSize({ width: 1300, height: 1340 });
  await page.goto(`/viewer/${id}`);
  await page.getByTestId('viewer-canvas').waitFor();
  await page.evaluate(() => {
    const stage = document.querySelector('.stage') as HTMLElement;
    stage.style.width = `${1000 + 70}px`;
    stage.style.height = `${1000 + 40}px`;
  });
  await page.waitForFunction(() => window.promethiumViewer?.stats.lastWindow === '1000x1000', null, { timeout: 60_000 });
  const paint = await page.evaluate(() => window.promethiumViewer?.stats.lastRenderMs ?? -1);
  figures['first_paint_ms_1000x1000'] = Number(paint.toFixed(1));
  expect(paint).toBeLessThan(300);
  await shot(page, '16-viewer-5000');

  // Zoom to 1000 of the 5000 traces, then pan one frame per animation frame for 3 s.
  await page.getByTestId('viewer-canvas').focus();
  for (let i = 0; i < 7; i++) await page.keyboard.press('+');
  await page.waitForTimeout(800);
  const fps = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const v = window.promethiumViewer;
        if (!v) return resolve(0);
        let frames = 0;
        let dir = 1;
        const t0 = performance.now();
        const step = (): void => {
          v.panBy(dir * 15);
          frames++;
          if (frames % 60 === 0) dir = -dir;
          if (performance.now() - t0 < 3000) requestAnimationFrame(step);
          else resolve((frames * 1000) / (performance.now() - t0));
        };
        requestAnimationFrame(step);
      }),
  );
  figures['pan_fps_5000_traces'] = Number(fps.toFixed(1));
  expect(fps).toBeGreaterThanOrEqual(30);
  await shot(page, '17-viewer-panned');
  writeFileSync(join(ART, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
});

test('3D data: inline, crossline and time-slice sections with trace headers', async ({ page, request }) => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-cube-'));
  const file = join(dir, 'cube.sgy');
  const python = process.env['E2E_PYTHON'] ?? '../.venv/bin/python';
  execFileSync(python, ['e2e/make_cube.py', file], { env: { ...process.env, PYTHONPATH: '../src' } });
  const tok = await request.post('/api/v1/auth/login', { form: { username: USER, password: PASSWORD } });
  const access = ((await tok.json()) as { access_token: string }).access_token;
  const up = await request.post('/api/v1/datasets', {
    headers: { Authorization: `Bearer ${access}` },
    multipart: { file: { name: 'cube.sgy', mimeType: 'application/octet-stream', buffer: readFileSync(file) } },
  });
  expect([201, 202]).toContain(up.status()); // 202 once ingestion runs as a job
  const id = ((await up.json()) as { id: string }).id;
  await login(page);
  await page.goto(`/datasets/${id}`);
  await expect(page.getByTestId('dataset-status')).toHaveText('ready', { timeout: 60_000 }); // ready in the UI first
  await page.getByTestId('open-viewer').click();
  await page.waitForFunction(() => (window.promethiumViewer?.stats.fetches ?? 0) > 0);
  await page.getByRole('combobox', { name: 'Display' }).click(); // 32 traces would be drawn as wiggles
  await page.getByRole('option', { name: 'Variable density' }).click();
  const sections: [string, string, RegExp][] = [
    ['Inline', '5', /inline 5 · crossline \d+/],
    ['Crossline', '7', /inline \d+ · crossline 7/],
    ['Time slice', '120', /crossline \d+ · inline \d+/],
  ];
  for (const [kind, index, readout] of sections) {
    const before = await page.evaluate(() => window.promethiumViewer?.stats.fetches ?? 0);
    await page.getByTestId('section-kind').click();
    await page.getByRole('option', { name: kind, exact: true }).click();
    await page.getByTestId('section-index').fill(index);
    await page.getByTestId('section-index').press('Enter');
    await page.getByTestId('section-index').blur();
    await page.waitForFunction((n) => (window.promethiumViewer?.stats.fetches ?? 0) > n, before);
    await page.waitForTimeout(300);
    expect(await paintedFraction(page)).toBeGreaterThan(0.5);
    await page.getByTestId('viewer-canvas').hover({ position: { x: 500, y: 250 } });
    await page.getByTestId('viewer-canvas').hover({ position: { x: 502, y: 252 } });
    await expect(page.getByTestId('readout')).toContainText(readout);
    await expect(page.getByTestId('header-readout')).toContainText('inline');
    await shot(page, `18-viewer-3d-${kind.toLowerCase().replace(' ', '-')}`);
  }
});

declare global {
  interface Window {
    promethiumViewer?: { stats: { lastRenderMs: number; lastWindow: string; fetches: number; nonBlank: boolean }; panBy(traces: number): void };
    promethiumResult?: { stats: { fetches: number; painted: number[]; clip: number; window: string }; view(): { t0: number; t1: number; s0: number; s1: number } };
  }
}
