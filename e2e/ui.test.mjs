// Browser tests of the web UI: headless Debian chromium driven by playwright-core.
// Run by the JUnit test BrowserUiTest (which starts a server with a slowed tiny model) or by hand:
//   UNIMATTE_URL=http://127.0.0.1:8080 node --test e2e/ui.test.mjs
// Screenshots of each tab at 1280×800 (desktop-*.png) and 390×844 (phone-*.png) go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
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
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Jobs made for the paging test: more than one page of the history (10). */
const PAGED_JOBS = 12;

let browser;
let page;
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'grace_hopper.jpg'].map(f => join(PHOTOS, f));
const tmp = mkdtempSync(join(tmpdir(), 'unimatte-e2e-'));
let matteRequests = 0;
let singleJobId;
let batchJobId;
let cancelledJobId;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: DESKTOP, acceptDownloads: true });
  page.setDefaultTimeout(TIMEOUT);
  page.on('request', r => { if (r.url().includes('/api/v1/matte')) matteRequests++; });
});

after(async () => { if (browser) await browser.close(); });

const isMatte = r => r.url().includes('/api/v1/matte') && r.request().method() === 'POST';

/** Whether the element is wholly inside the window as it is, without scrolling. */
async function inView(selector) {
  const box = await page.locator(selector).boundingBox();
  const vp = page.viewportSize();
  const scrolled = await page.evaluate(() => window.scrollY);
  return !!box && scrolled === 0 && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width + 0.5
    && box.y + box.height <= vp.height + 0.5;
}

async function resultShown() {
  await page.waitForFunction(() => {
    const img = document.getElementById('single-after');
    return document.getElementById('view-single').dataset.state === 'result' && img.complete && img.naturalWidth > 0;
  });
}

/** A flat PNG made by the browser's canvas, written to a file: mid-grey is a photo the tiny model is unsure of. */
async function flatPng(name, colour, size) {
  const b64 = await page.evaluate(([c, s]) => {
    const cv = document.createElement('canvas'); cv.width = s; cv.height = s;
    const g = cv.getContext('2d'); g.fillStyle = c; g.fillRect(0, 0, s, s);
    return cv.toDataURL('image/png').split(',')[1];
  }, [colour, size]);
  const path = join(tmp, name);
  writeFileSync(path, Buffer.from(b64, 'base64'));
  return path;
}

/** Photos never seen before (random noise): the result cache cannot answer them, so the model works on each. */
async function freshPhotos(prefix, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const b64 = await page.evaluate(() => {
      const cv = document.createElement('canvas'); cv.width = 160; cv.height = 120;
      const g = cv.getContext('2d'); const img = g.createImageData(160, 120);
      for (let k = 0; k < img.data.length; k++) img.data[k] = k % 4 === 3 ? 255 : Math.random() * 256;
      g.putImageData(img, 0, 0);
      return cv.toDataURL('image/png').split(',')[1];
    });
    const path = join(tmp, `${prefix}-${i + 1}.png`);
    writeFileSync(path, Buffer.from(b64, 'base64'));
    out.push(path);
  }
  return out;
}

test('single photo at 1280×800: cutout, before/after handle and Download all in view', async () => {
  await page.goto(URL_BASE + '/');
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('model'));
  await page.screenshot({ path: join(SHOTS, 'desktop-single-empty.png') });
  const answered = page.waitForResponse(isMatte);
  await page.setInputFiles('#file-single', photos[0]);
  // while the model works: the photo itself, under a spinner that names it
  await page.waitForSelector('#single-working:not([hidden])');
  assert.match(await page.textContent('#single-working'), /astronaut\.png/);
  await page.screenshot({ path: join(SHOTS, 'desktop-single-working.png') });
  singleJobId = (await answered).headers()['x-job-id'];
  await page.waitForSelector('#single-result:not([hidden])');
  await resultShown();
  assert.ok(await inView('#dl-png'), 'Download PNG in view at 1280×800');
  assert.ok(await inView('#compare'), 'the whole photo in view at 1280×800');
  const meta = await page.textContent('#single-meta');
  assert.match(meta, /\d+(\.\d)? s/, 'timing in seconds: ' + meta);
  assert.doesNotMatch(meta, /decode=|infer=/, 'no raw timing header');
  assert.equal(await page.textContent('.tag-before'), 'Before');
  assert.equal(await page.textContent('.tag-after'), 'After');
  // the handle follows a drag, and the keyboard
  const box = await page.locator('#compare').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  assert.ok(Math.abs(Number(await page.getAttribute('#compare-handle', 'aria-valuenow')) - 20) <= 2);
  await page.focus('#compare-handle');
  await page.keyboard.press('End');
  assert.equal(await page.getAttribute('#compare-handle', 'aria-valuenow'), '100');
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#compare-handle', 'aria-valuenow'), '50');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-png')]);
  assert.equal(download.suggestedFilename(), 'astronaut.png');
  assert.ok(await download.path(), 'the PNG was downloaded');
  await page.screenshot({ path: join(SHOTS, 'desktop-single.png') });
});

test('background swatches and Download matte work without a second run of the model', async () => {
  const before = matteRequests;
  await page.click('.swatch[data-bg="#3157d5"]');
  await page.waitForFunction(() => !document.getElementById('single-after-wrap').classList.contains('checker'));
  const [jpg] = await Promise.all([page.waitForEvent('download'), page.click('#dl-jpg')]);
  assert.equal(jpg.suggestedFilename(), 'astronaut.jpg');
  const [matte] = await Promise.all([page.waitForEvent('download'), page.click('#dl-alpha')]);
  assert.equal(matte.suggestedFilename(), 'astronaut.matte.png');
  assert.equal(matteRequests, before, 'the matte comes from the cutout on screen');
  await page.click('.swatch[data-bg="transparent"]');
});

test('a text file is refused in the browser, before any upload', async () => {
  const txt = join(tmp, 'notes.txt');
  writeFileSync(txt, 'this is not a photo\n');
  const before = matteRequests;
  await page.setInputFiles('#file-single', txt);
  await page.waitForSelector('#single-message.error');
  assert.match(await page.textContent('#single-message'), /notes\.txt/);
  assert.equal(matteRequests, before, 'nothing was uploaded');
  assert.equal(await page.textContent('#single-name'), 'astronaut.png', 'the last result stays');
});

test('an error names the file and keeps the previous result', async () => {
  const bad = join(tmp, 'notes.jpg');
  writeFileSync(bad, 'this is not a photo either\n');
  await Promise.all([page.waitForResponse(isMatte), page.setInputFiles('#file-single', bad)]);
  await page.waitForFunction(() => /notes\.jpg/.test(document.getElementById('single-message').textContent));
  const text = await page.textContent('#single-message');
  assert.match(text, /“notes\.jpg” is not a photo/);
  assert.doesNotMatch(text, /unsupported_format|\(\w+_\w+\)/, 'no raw code');
  await resultShown();
  assert.equal(await page.textContent('#single-name'), 'astronaut.png');
  assert.ok(await page.getAttribute('#single-after', 'src'), 'a cutout is still shown');
  await page.screenshot({ path: join(SHOTS, 'desktop-single-error.png') });
});

test('with two models served, the picker redoes the cutout with the chosen model', async () => {
  await page.waitForSelector('#model-picker:not([hidden])');
  const names = await page.$$eval('#model option', os => os.map(o => o.value));
  assert.deepEqual(names.sort(), ['tiny', 'tiny2']);
  const [first] = await Promise.all([page.waitForResponse(isMatte), page.setInputFiles('#file-single', photos[1])]);
  assert.equal(first.headers()['x-model'], 'tiny');
  await resultShown();
  const [again] = await Promise.all([page.waitForResponse(isMatte), page.selectOption('#model', 'tiny2')]);
  assert.equal(again.status(), 200);
  assert.equal(again.headers()['x-model'], 'tiny2');
  assert.match(await page.textContent('#status'), /^model tiny2 · CPU$/, 'the header names the picked model');
  await resultShown();
  await page.waitForFunction(() => document.getElementById('single-meta').textContent.includes('tiny2'));
  await page.screenshot({ path: join(SHOTS, 'desktop-model-picker.png') });
  await page.selectOption('#model', 'tiny');
  await page.waitForResponse(isMatte);
  await resultShown();
});

test('a page single appears in History after a reload, and the last cutout comes back', async () => {
  assert.match(singleJobId, /^[0-9a-f-]{36}$/);
  await page.reload();
  await page.waitForSelector('#single-result:not([hidden])');
  await resultShown();
  assert.equal(await page.textContent('#single-name'), 'chelsea.png', 'the last cutout is shown again');
  await page.click('#tab-history');
  const li = `#history-list li[data-job-id="${singleJobId}"]`;
  await page.waitForSelector(li);
  const text = await page.textContent(li);
  assert.match(text, /astronaut\.png/);
  assert.match(text, /Single photo/);
  assert.equal(await page.locator(`${li} img.thumb`).count(), 1, 'a thumbnail of the cutout');
});

test('the product layout control asks the server to scale and centre the subject', async () => {
  // after the reload the cutout on screen came from History, without its photo: pick one again
  await page.click('#tab-single');
  await Promise.all([page.waitForResponse(isMatte), page.setInputFiles('#file-single', photos[0])]);
  await resultShown();
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
  await resultShown();
  await page.screenshot({ path: join(SHOTS, 'desktop-layout.png') });
  const [back] = await Promise.all([page.waitForResponse(isMatte), page.selectOption('#layout', '')]);
  assert.equal(new URL(back.url()).searchParams.get('scale'), null, 'as photographed: no layout sent');
  await resultShown();
});

test('the batch bar moves between "done" events, and doubtful images are marked', async () => {
  await page.click('#tab-batch');
  // a white sheet is a sure subject for the tiny model, a grey wall one it finds nothing in
  const six = [...await freshPhotos('street', 4), await flatPng('white-sheet.png', '#ffffff', 64),
    await flatPng('grey-wall.png', '#808080', 64)];
  await page.evaluate(() => {
    window.barLog = [];
    const bar = document.getElementById('batch-progress');
    new MutationObserver(() => window.barLog.push({ value: Number(bar.dataset.value), done: Number(bar.dataset.done),
      failed: document.querySelectorAll('#batch-rows tr[data-stage=failed], #batch-rows tr[data-stage=cancelled]').length }))
      .observe(bar, { attributes: true, attributeFilter: ['data-value'] });
  });
  await page.setInputFiles('#file-batch', six);
  await page.waitForFunction(() => document.querySelectorAll('#batch-rows .stage-done').length === 6);
  await page.waitForFunction(() => document.getElementById('batch-progress').getAttribute('aria-valuenow') === '100');
  await page.waitForFunction(() => document.getElementById('batch-zip').getAttribute('aria-disabled') === 'false');
  const log = await page.evaluate(() => window.barLog);
  const between = log.filter(r => r.value > (r.done + r.failed) / 6 + 0.01);
  assert.ok(between.length >= 3, 'the bar moved while images were worked on: ' + JSON.stringify(log));
  for (let i = 1; i < log.length; i++) assert.ok(log[i].value >= log[i - 1].value - 1e-9, 'never backwards');
  await page.waitForFunction(() => [...document.querySelectorAll('#batch-rows img')].every(i => i.complete && i.naturalWidth > 0));
  batchJobId = await page.evaluate(() => new URL(document.getElementById('batch-zip').href).pathname.split('/')[4]);
  assert.match(batchJobId, /^[0-9a-f-]{36}$/);
  // the grey wall: the model found no subject, the row says so and the filter shows only it
  const greyRow = page.locator('#batch-rows tr', { hasText: 'grey-wall.png' });
  assert.match(await greyRow.getAttribute('class'), /review/);
  assert.match(await greyRow.textContent(), /Check/);
  const whiteRow = page.locator('#batch-rows tr', { hasText: 'white-sheet.png' });
  assert.doesNotMatch(await whiteRow.getAttribute('class') || '', /review/);
  const flagged = await page.locator('#batch-rows tr.review').count();
  assert.match(await page.textContent('#batch-message'), new RegExp(`${flagged} to check`));
  await page.check('#batch-review-only');
  const visible = await page.$$eval('#batch-rows tr', rows => rows.filter(r => r.offsetParent !== null).length);
  assert.equal(visible, flagged, 'only the flagged rows');
  assert.ok(!(await whiteRow.isVisible()));
  await page.uncheck('#batch-review-only');
  assert.ok(await inView('#batch-zip'), 'the zip link is in view');
  await page.waitForTimeout(500); // the bar's last step is animated
  await page.screenshot({ path: join(SHOTS, 'desktop-batch.png') });
});

test('a batch names the files it leaves out: not photos, empty', async () => {
  const txt = join(tmp, 'prices.txt');
  writeFileSync(txt, 'not a photo\n');
  const empty = join(tmp, 'empty.jpg');
  writeFileSync(empty, '');
  await page.setInputFiles('#file-batch', [txt, empty, ...await freshPhotos('kept', 1)]);
  await page.waitForFunction(() => /Skipped/.test(document.getElementById('batch-message').textContent));
  const text = await page.textContent('#batch-message');
  assert.match(text, /prices\.txt/);
  assert.match(text, /empty\.jpg/);
  assert.equal(await page.locator('#batch-rows tr').count(), 1);
  await page.waitForFunction(() => document.getElementById('batch-zip').getAttribute('aria-disabled') === 'false');
});

test('Cancel stops the rest of a batch and keeps the finished images', async () => {
  const files = await freshPhotos('shop', 6);
  await page.setInputFiles('#file-batch', files);
  // a new batch: the zip link is off until this batch ends, never the previous one's
  assert.equal(await page.getAttribute('#batch-zip', 'aria-disabled'), 'true');
  assert.equal(await page.getAttribute('#batch-zip', 'href'), null);
  await page.waitForSelector('#batch-rows tr[data-stage=done]');
  await page.waitForFunction(() => !document.getElementById('batch-cancel').disabled);
  await page.click('#batch-cancel');
  await page.waitForFunction(() => /Finished|Cancelled/.test(document.getElementById('batch-message').textContent)
    && document.getElementById('batch-cancel').disabled);
  const done = await page.locator('#batch-rows tr[data-stage=done]').count();
  const cancelled = await page.locator('#batch-rows tr[data-stage=cancelled]').count();
  assert.ok(done >= 1, 'finished images kept');
  assert.ok(cancelled >= 1, 'the rest cancelled');
  assert.equal(done + cancelled, 6);
  assert.ok(await page.isDisabled('#batch-cancel'), 'nothing left to cancel');
  assert.equal(await page.getAttribute('#batch-zip', 'aria-disabled'), 'false');
  cancelledJobId = await page.evaluate(() => new URL(document.getElementById('batch-zip').href).pathname.split('/')[4]);
  assert.notEqual(cancelledJobId, batchJobId, 'the zip is this batch’s');
  const job = await page.evaluate(id => fetch('/api/v1/jobs/' + id).then(r => r.json()), cancelledJobId);
  assert.equal(job.done, done);
  assert.ok(job.cancelledAt > 0);
  const zip = await page.evaluate(id => fetch(`/api/v1/jobs/${id}/archive`).then(r => r.arrayBuffer()).then(b => b.byteLength),
    cancelledJobId);
  assert.ok(zip > 5000, 'the zip holds the finished cutouts, not only job.json');
  await page.waitForTimeout(500); // the bar's last step is animated
  await page.screenshot({ path: join(SHOTS, 'desktop-batch-cancelled.png') });
  await page.reload();
  await page.click('#tab-history');
  const li = `#history-list li[data-job-id="${cancelledJobId}"]`;
  await page.waitForSelector(li);
  assert.match(await page.textContent(li), new RegExp(`Cancelled`));
  assert.match(await page.textContent(li), new RegExp(`${done} of 6 done`));
});

test('History comes in pages, refreshes by itself, opens a job and asks before deleting', async () => {
  await page.click('#tab-history');
  await page.evaluate(async n => {
    const c = document.createElement('canvas'); c.width = 24; c.height = 24;
    const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 24, 24);
    const blob = await new Promise(r => c.toBlob(r, 'image/png'));
    for (let i = 0; i < n; i++) {
      const fd = new FormData(); fd.append('image', blob, `paged-${i}.png`);
      const r = await fetch('/api/v1/jobs', { method: 'POST', body: fd });
      if (r.status !== 202) throw new Error(`job ${i}: ${r.status}`);
    }
  }, PAGED_JOBS);
  // no click: the open history picks the new jobs up
  await page.waitForFunction(() => /paged-11\.png/.test(document.getElementById('history-list').textContent), null,
    { timeout: 20_000 });
  assert.equal(await page.locator('#history-list > li').count(), 10);
  const total = await page.evaluate(() => fetch('/api/v1/jobs?limit=1').then(r => r.json()).then(j => j.total));
  assert.equal(await page.textContent('#history-range'), `1–10 of ${total}`);
  assert.ok(await page.isDisabled('#history-prev'));
  await page.click('#history-next');
  await page.waitForFunction(t => document.getElementById('history-range').textContent.startsWith('11–'), total);
  assert.equal(await page.locator('#history-list > li').count(), Math.min(10, total - 10));
  await page.click('#history-prev');
  await page.waitForFunction(() => document.getElementById('history-range').textContent.startsWith('1–'));
  // open the newest job: each image with its download
  await page.waitForFunction(() => /done/i.test(document.querySelector('#history-list > li').textContent));
  const first = page.locator('#history-list > li').first();
  await first.locator('button.open').click();
  await first.locator('.history-detail li a.button').waitFor();
  assert.match(await first.locator('.history-detail').textContent(), /paged-11\.png/);
  const [dl] = await Promise.all([page.waitForEvent('download'), first.locator('.history-detail li a.button').click()]);
  assert.equal(dl.suggestedFilename(), 'paged-11.png');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, 'desktop-history.png') });
  // delete asks first
  const id = await first.getAttribute('data-job-id');
  await first.locator('button.delete').click();
  assert.equal(await first.locator('button.delete').textContent(), 'Delete for good?');
  assert.equal((await page.evaluate(i => fetch('/api/v1/jobs/' + i).then(r => r.status), id)), 200, 'nothing deleted yet');
  await first.locator('button.delete').click();
  await page.waitForFunction(i => !document.querySelector(`#history-list li[data-job-id="${i}"]`), id);
  assert.equal((await page.evaluate(i => fetch('/api/v1/jobs/' + i).then(r => r.status), id)), 404);
});

test('History can show only the jobs with images to check', async () => {
  await page.check('#history-review-only');
  const li = `#history-list li[data-job-id="${batchJobId}"]`;
  await page.waitForSelector(li);
  const rows = await page.$$eval('#history-list > li', ls => ls.map(l => l.textContent));
  assert.ok(rows.every(t => /to check/.test(t)), rows.join('\n'));
  await page.locator(`${li} button.open`).click();
  await page.locator(`${li} .history-detail li.review`).first().waitFor();
  const shown = await page.$$eval(`${li} .history-detail li`, ls => ls.filter(l => l.offsetParent !== null).map(l => l.textContent));
  assert.ok(shown.some(t => /grey-wall\.png/.test(t)), shown.join('\n'));
  assert.ok(!shown.some(t => /white-sheet\.png/.test(t)), 'the sure cutout is not listed');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, 'desktop-history-review.png') });
  await page.uncheck('#history-review-only');
});

test('a job with failed images offers Retry in the history, which finishes them', async t => {
  const partial = process.env.UNIMATTE_PARTIAL_JOB;
  if (!partial) { t.skip('no UNIMATTE_PARTIAL_JOB (BrowserUiTest prepares one)'); return; }
  await page.click('#tab-history');
  const li = `#history-list li[data-job-id="${partial}"]`;
  // an old job: on a later page
  await page.waitForSelector('#history-list > li');
  while (!(await page.locator(li).count()) && !(await page.isDisabled('#history-next'))) {
    const range = await page.textContent('#history-range');
    await page.click('#history-next');
    await page.waitForFunction(r => document.getElementById('history-range').textContent !== r, range);
  }
  await page.waitForSelector(`${li} button.retry`);
  assert.match(await page.textContent(li), /0 of 2 done/);
  assert.match(await page.textContent(li), /Failed/);
  assert.equal(await page.locator(`${li} .thumb-placeholder`).count(), 1, 'no broken thumbnail for a job without results');
  await page.locator(li).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'desktop-history-retry.png') });
  await page.click(`${li} button.retry`);
  await page.waitForFunction(() => /queued again/.test(document.getElementById('history-message').textContent));
  const deadline = Date.now() + TIMEOUT;
  while (!/2 of 2 done/.test(await page.textContent(li))) {
    assert.ok(Date.now() < deadline, 'the retried images finish');
    await page.waitForTimeout(200);
    await page.click('#history-refresh');
    await page.waitForSelector(li);
  }
  assert.equal(await page.locator(`${li} button.retry`).count(), 0, 'nothing left to retry');
});

test('at 390×844 every tab works and Download stays in view', async () => {
  await page.setViewportSize(PHONE);
  await page.click('#tab-single');
  await page.evaluate(() => window.scrollTo(0, 0)); // the tab as it opens
  await resultShown();
  assert.ok(await inView('#dl-png'), 'Download PNG in view at 390×844');
  // a fresh cutout on the phone: the result and the Download button, without scrolling
  await Promise.all([page.waitForResponse(isMatte), page.setInputFiles('#file-single', photos[3])]);
  await resultShown();
  assert.ok(await inView('#dl-png'), 'Download PNG in view at 390×844 after a new photo');
  assert.ok(await inView('#compare'), 'the photo in view at 390×844');
  const box = await page.locator('.swatch[data-bg="#ffffff"]').boundingBox();
  assert.ok(box.width >= 40 && box.height >= 40, 'swatches big enough to tap');
  await page.screenshot({ path: join(SHOTS, 'phone-single.png') });
  await page.screenshot({ path: join(SHOTS, 'phone-single-full.png'), fullPage: true });
  await page.click('#tab-batch');
  await page.setInputFiles('#file-batch', [...await freshPhotos('phone', 3), await flatPng('grey-phone.png', '#808080', 48)]);
  await page.waitForFunction(() => document.getElementById('batch-zip').getAttribute('aria-disabled') === 'false');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500); // the bar's last step is animated
  await page.screenshot({ path: join(SHOTS, 'phone-batch.png') });
  await page.click('#tab-history');
  await page.waitForSelector('#history-list > li');
  if (!(await page.isDisabled('#history-prev'))) await page.click('#history-prev');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, 'phone-history.png') });
  await page.setViewportSize(DESKTOP);
});
