// Browser tests of the web UI: headless Debian chromium driven by playwright-core.
// Run by the JUnit test BrowserUiTest (which starts a server) or by hand:
//   UNIMATTE_URL=http://127.0.0.1:8080 node --test e2e/ui.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { copyFileSync, mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const URL_BASE = process.env.UNIMATTE_URL || 'http://127.0.0.1:8080';
// the repository's own fixture photos (licences in their README), so a fresh clone needs nothing beside it
const PHOTOS = resolve(process.env.UNIMATTE_PHOTOS
  || join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'test', 'resources', 'photos'));
const SHOTS = resolve(process.env.UNIMATTE_SCREENSHOTS || 'target/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = 60_000;

let browser;
let page;
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'grace_hopper.jpg'].map(f => join(PHOTOS, f));

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  page.setDefaultTimeout(TIMEOUT);
});

after(async () => { if (browser) await browser.close(); });

test('single photo: the cutout is shown and downloadable', async () => {
  await page.goto(URL_BASE + '/');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('model'));
  await page.setInputFiles('#file-single', photos[0]);
  await page.waitForSelector('#single-result:not([hidden])');
  await page.waitForFunction(() => {
    const img = document.getElementById('single-after');
    return img.complete && img.naturalWidth > 0;
  });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-png')]);
  assert.match(download.suggestedFilename(), /\.png$/);
  const path = await download.path();
  assert.ok(path, 'the PNG was downloaded');
  await page.screenshot({ path: join(SHOTS, 'single.png'), fullPage: true });
});

test('a text file named .jpg gets a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'unimatte-e2e-'));
  const bad = join(dir, 'notes.jpg');
  writeFileSync(bad, 'this is not a photo\n');
  await page.setInputFiles('#file-single', bad);
  await page.waitForSelector('#single-message.error');
  const text = await page.textContent('#single-message');
  assert.match(text, /unsupported_format/);
  await page.screenshot({ path: join(SHOTS, 'single-error.png'), fullPage: true });
});

test('with two models served, the picker redoes the cutout with the chosen model', async () => {
  await page.waitForSelector('#model-picker:not([hidden])');
  const names = await page.$$eval('#model option', os => os.map(o => o.value));
  assert.deepEqual(names.sort(), ['tiny', 'tiny2']);
  const isMatte = r => r.url().includes('/api/v1/matte') && r.request().method() === 'POST';
  const [first] = await Promise.all([page.waitForResponse(isMatte), page.setInputFiles('#file-single', photos[1])]);
  assert.equal(first.headers()['x-model'], 'tiny');
  const [again] = await Promise.all([page.waitForResponse(isMatte), page.selectOption('#model', 'tiny2')]);
  assert.equal(again.status(), 200);
  assert.equal(again.headers()['x-model'], 'tiny2');
  assert.match(await page.textContent('#status'), /^model tiny2 · CPU$/, 'the header names the picked model');
  await page.waitForSelector('#single-result:not([hidden])');
  await page.screenshot({ path: join(SHOTS, 'model-picker.png'), fullPage: true });
});

test('the product layout control asks the server to scale and centre the subject', async () => {
  const isMatte = r => r.url().includes('/api/v1/matte') && r.request().method() === 'POST';
  const [r] = await Promise.all([page.waitForResponse(isMatte), page.selectOption('#layout', '60%|center')]);
  assert.equal(r.status(), 200);
  const q = new URL(r.url()).searchParams;
  assert.equal(q.get('scale'), '60%');
  assert.equal(q.get('position'), 'center');
  const w = Number(r.headers()['x-width']);
  const h = Number(r.headers()['x-height']);
  const fw = Number(r.headers()['x-foreground-width']);
  const fh = Number(r.headers()['x-foreground-height']);
  assert.ok(Math.abs(Math.max(fw, fh) - 0.6 * Math.max(w, h)) <= 4, `subject ${fw}x${fh} on ${w}x${h}`);
  await page.waitForSelector('#single-result:not([hidden])');
  await page.screenshot({ path: join(SHOTS, 'layout.png'), fullPage: true });
  const [back] = await Promise.all([page.waitForResponse(isMatte), page.selectOption('#layout', '')]);
  assert.equal(new URL(back.url()).searchParams.get('scale'), null, 'as photographed: no layout sent');
});

let jobId;
test('a batch of 5 photos reaches 100% with 5 done rows', async () => {
  // the repository holds four photos: the fifth is the first again, under its own name so rows and zip entries differ
  const dir = mkdtempSync(join(tmpdir(), 'unimatte-e2e-'));
  const fifth = join(dir, 'astronaut-copy.png');
  copyFileSync(photos[0], fifth);
  const five = [...photos, fifth];
  assert.equal(five.length, 5);
  await page.click('#tab-batch');
  await page.setInputFiles('#file-batch', five);
  await page.waitForFunction(() => document.getElementById('batch-progress').value === 100);
  await page.waitForFunction(() => document.querySelectorAll('#batch-rows .stage-done').length === 5);
  await page.waitForFunction(() => [...document.querySelectorAll('#batch-rows img')].every(i => i.complete && i.naturalWidth > 0));
  assert.equal(await page.locator('#batch-rows tr').count(), 5);
  jobId = await page.evaluate(() => new URL(document.getElementById('batch-zip').href).pathname.split('/')[4]);
  assert.match(jobId, /^[0-9a-f-]{36}$/);
  await page.screenshot({ path: join(SHOTS, 'batch.png'), fullPage: true });
});

test('after a reload the job is in the history', async () => {
  await page.reload();
  await page.click('#tab-history');
  await page.waitForSelector(`#history-list li[data-job-id="${jobId}"]`);
  const text = await page.textContent(`#history-list li[data-job-id="${jobId}"]`);
  assert.match(text, /5\/5 done/);
  await page.screenshot({ path: join(SHOTS, 'history.png'), fullPage: true });
});

test('a job with failed images offers Retry in the history, which finishes them', async t => {
  const partial = process.env.UNIMATTE_PARTIAL_JOB;
  if (!partial) { t.skip('no UNIMATTE_PARTIAL_JOB (BrowserUiTest prepares one)'); return; }
  await page.click('#tab-history');
  const li = `#history-list li[data-job-id="${partial}"]`;
  await page.waitForSelector(`${li} button.retry`);
  assert.match(await page.textContent(li), /0\/2 done, 2 failed/);
  await page.screenshot({ path: join(SHOTS, 'history-retry.png'), fullPage: true });
  await page.click(`${li} button.retry`);
  await page.waitForFunction(() => /queued again/.test(document.getElementById('history-message').textContent));
  const deadline = Date.now() + TIMEOUT;
  while (!/2\/2 done/.test(await page.textContent(li))) {
    assert.ok(Date.now() < deadline, 'the retried images finish');
    await page.waitForTimeout(200);
    await page.click('#history-refresh');
    await page.waitForSelector(li);
  }
  assert.equal(await page.locator(`${li} button.retry`).count(), 0, 'nothing left to retry');
});

test('narrow phone-width window still shows every tab', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  for (const tab of ['single', 'batch', 'history']) {
    await page.click('#tab-' + tab);
    assert.ok(await page.isVisible('#view-' + tab));
    await page.screenshot({ path: join(SHOTS, `narrow-${tab}.png`), fullPage: true });
  }
});
