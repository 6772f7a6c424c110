// Browser tests of the login page (security.protectUi with API keys): headless Debian chromium
// driven by playwright-core. Run by the JUnit test BrowserUiTest (which starts a protected server
// and passes its key in UNIMATTE_KEY) or by hand:
//   UNIMATTE_URL=http://127.0.0.1:8080 UNIMATTE_KEY=… node --test e2e/login.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const URL_BASE = process.env.UNIMATTE_URL || 'http://127.0.0.1:8080';
const KEY = process.env.UNIMATTE_KEY;
const PHOTOS = resolve(process.env.UNIMATTE_PHOTOS || '../shared/testdata/photos');
const SHOTS = resolve(process.env.UNIMATTE_SCREENSHOTS || 'target/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = 60_000;

let browser;
let context;
let page;
const photos = readdirSync(PHOTOS).filter(f => /\.(png|jpe?g)$/i.test(f)).sort().map(f => join(PHOTOS, f));

before(async () => {
  assert.ok(KEY, 'UNIMATTE_KEY must name the server key');
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
});

after(async () => { if (browser) await browser.close(); });

test('the protected page shows the login form and refuses a wrong key', async () => {
  const r = await page.goto(URL_BASE + '/');
  assert.equal(r.status(), 401);
  await page.waitForSelector('#login');
  await page.fill('#key', 'not-the-key');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#login-message.error');
  assert.match(await page.textContent('#login-message'), /did not work/);
  assert.deepEqual(await context.cookies(), [], 'no cookie for a wrong key');
  await page.screenshot({ path: join(SHOTS, 'login-wrong-key.png'), fullPage: true });
});

test('the right key opens the page with an HttpOnly session cookie, never the key', async () => {
  await page.fill('#key', KEY);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('model'));
  const cookies = await context.cookies();
  const session = cookies.find(c => c.name === 'unimatte_session');
  assert.ok(session, 'a session cookie: ' + JSON.stringify(cookies.map(c => c.name)));
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.ok(session.expires > Date.now() / 1000, 'the cookie expires');
  assert.ok(cookies.every(c => !c.value.includes(KEY)), 'no cookie holds the key');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
  assert.ok(await page.isVisible('#logout'), 'a Log out button');
  await page.screenshot({ path: join(SHOTS, 'login-done.png'), fullPage: true });
});

test('logged in, a cutout over HTTP and a batch over the WebSocket work', async () => {
  await page.setInputFiles('#file-single', photos[0]);
  await page.waitForSelector('#single-result:not([hidden])');
  await page.click('#tab-batch');
  await page.setInputFiles('#file-batch', photos.slice(0, 2));
  await page.waitForFunction(() => document.getElementById('batch-progress').getAttribute('aria-valuenow') === '100');
});

test('a page of another origin cannot open the WebSocket, even with the key', async () => {
  // localhost and 127.0.0.1 are different origins to the browser
  const other = await context.newPage();
  const port = new URL(URL_BASE).port;
  await other.goto(`http://localhost:${port}/login.html`);
  const opened = await other.evaluate(url => new Promise(res => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); res(true); };
    ws.onerror = () => res(false);
  }), `ws://127.0.0.1:${port}/api/v1/ws?api_key=${encodeURIComponent(KEY)}`);
  assert.equal(opened, false);
  const own = await page.evaluate(url => new Promise(res => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); res(true); };
    ws.onerror = () => res(false);
  }), `ws://127.0.0.1:${port}/api/v1/ws`);
  assert.equal(own, true, 'the page itself may, with its session cookie');
  await other.close();
});

test('Log out ends the session on the server', async () => {
  await Promise.all([page.waitForNavigation(), page.click('#logout')]);
  await page.waitForSelector('#login');
  assert.equal(await page.evaluate(() => location.pathname), '/login.html');
  const again = await page.goto(URL_BASE + '/');
  assert.equal(again.status(), 401, 'the login page again');
  const api = await page.evaluate(() => fetch('/api/v1/jobs').then(r => r.status));
  assert.equal(api, 401);
});
