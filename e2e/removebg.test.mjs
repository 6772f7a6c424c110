// A real remove.bg client against Unimatte: the `remove.bg` npm package (1.3.0), used as a shop script
// uses it, with scale, position, roi and bg_image_url. Run by RemoveBgClientTest, which starts the
// server, writes the photos and decodes what this script saves:
//   UNIMATTE_URL=http://127.0.0.1:PORT UNIMATTE_RBG_DIR=DIR node --test e2e/removebg.test.mjs
// DIR holds product.png and bg.png; the answers go to DIR/out/*.png, their headers to DIR/out/*.json.
//
// The package has no setting for its API address: it posts to a constant endpoint with `unirest.post`
// (dist/index.js, API_ENDPOINT). So, as a user of the package would, this script points the client at
// the server by wrapping unirest.post to keep the package's own path on Unimatte's origin. Nothing else
// of the client is touched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const unirest = require('unirest'); // the one instance the package requires (a single copy in node_modules)
const removeBg = require('remove.bg');

const BASE = process.env.UNIMATTE_URL;
const DIR = process.env.UNIMATTE_RBG_DIR;
assert.ok(BASE && DIR, 'set UNIMATTE_URL and UNIMATTE_RBG_DIR');
const OUT = join(DIR, 'out');
mkdirSync(OUT, { recursive: true });

const post = unirest.post;
unirest.post = (url, ...rest) => post(new URL(new URL(url).pathname, BASE).toString(), ...rest);

// serves the background (and the product, for image URLs) the way a shop's CDN would
let origin;
let originUrl;
before(async () => {
  origin = createServer((req, res) => {
    const file = req.url.startsWith('/bg') ? 'bg.png' : 'product.png';
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(readFileSync(join(DIR, file)));
  });
  await new Promise(resolve => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${origin.address().port}`;
});
after(() => new Promise(resolve => origin.close(resolve)));

const KEY = 'any-key';

function save(name, result) {
  writeFileSync(join(OUT, name + '.png'), Buffer.from(result.base64img, 'base64'));
  writeFileSync(join(OUT, name + '.json'), JSON.stringify(result));
  assert.equal(result.creditsCharged, '0');
  assert.ok(Number(result.resultWidth) > 0, 'X-Width');
  return result;
}

test('file upload with scale and position', async () => {
  const r = await removeBg.removeBackgroundFromImageFile({
    path: join(DIR, 'product.png'), apiKey: KEY, size: 'full', type: 'product', scale: '50%', position: 'center',
  });
  save('scale', r);
  assert.equal(r.detectedType, 'product');
  assert.equal(r.resultWidth, '400');
});

test('base64 with roi', async () => {
  const r = await removeBg.removeBackgroundFromImageBase64({
    base64img: readFileSync(join(DIR, 'product.png')).toString('base64'), apiKey: KEY, size: 'full',
    roi: '0% 0% 25% 100%',
  });
  save('roi', r);
});

test('image URL with bg_image_url and crop', async () => {
  const r = await removeBg.removeBackgroundFromImageUrl({
    url: `${originUrl}/product.png`, apiKey: KEY, size: 'full', bg_image_url: `${originUrl}/bg.png`,
    outputFile: join(OUT, 'bg-file.jpg'),
  });
  save('bg', r);
  const cropped = await removeBg.removeBackgroundFromImageUrl({
    url: `${originUrl}/product.png`, apiKey: KEY, size: 'full', crop: true, crop_margin: '10px',
  });
  save('crop', cropped);
});

test('errors come back in remove.bg\'s shape', async () => {
  await assert.rejects(removeBg.removeBackgroundFromImageUrl({ url: 'http://169.254.169.254/x', apiKey: KEY }),
    errors => Array.isArray(errors) && errors[0].code === 'url_forbidden');
});
