#!/usr/bin/env node
// Competitor baseline for Unimatte benchmarks: @imgly/background-removal-node@1.4.5
// (ISNet on ONNX Runtime node), run the way a shop script would: one image after
// the other, in one process.
//
// Usage: node peer.mjs INPUT_DIR OUTPUT_DIR [--model medium|small] [--alpha] [--rounds N] [--limit N]
//
//   default   writes OUTPUT_DIR/<base>.png: the RGBA cutout, encoded by the library
//             itself (removeBackground(..., {output: {format: 'image/png'}})).
//   --alpha   writes OUTPUT_DIR/<base>.png: the 8-bit grey matte instead (one
//             inference per image as well: removeBackground with raw RGBA output,
//             alpha channel taken out and PNG-encoded with sharp), ready for
//             ../shared/tools/matte_eval.py.
//   --model   'medium' (default: fp16 ISNet, ~88 MB, same weights as Unimatte's) or
//             'small' (uint8-quantised ISNet). 1.4.5 ships no 'large'.
//   --rounds  passes over the image set in the same process (default 1; outputs are
//             overwritten), to get more warm samples from a small set.
//   --limit   at most N images from INPUT_DIR (sorted by name).
//
// Per image the time is end to end: read file -> decode -> infer -> encode -> bytes
// written. The first image also pays for loading the model and creating the ONNX
// session (the library does that lazily, memoised per config). At the end one
// JSON line is printed on stdout (progress goes to stderr).
//
// Notes on the 1.4.5 API (read from dist/index.mjs):
//  - there is no `output.type`; the mask API is segmentForeground(), whose RGB is
//    scrambled (its loop writes at 4*i+3..4*i+6) and whose 'image/x-alpha8' path
//    throws ("Only 4-channel images are supported"), hence --alpha's raw-RGBA route.
//  - a Buffer input becomes a Blob with an empty type, which the decoder rejects:
//    the input must be a Blob typed image/png|jpeg|webp (or application/octet-stream).
//  - publicPath must be a file:// URL of the package's dist/ with a trailing slash,
//    else the model is fetched from the vendor's CDN (no network here).
//  - grey (1-channel) or grey+alpha inputs crash its encoder; such images are
//    converted to RGB with sharp first (counted in "normalized").

import { readFile, writeFile, readdir, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const USAGE =
  'usage: node peer.mjs INPUT_DIR OUTPUT_DIR [--model medium|small] [--alpha] [--rounds N] [--limit N]';
const PEER = '@imgly/background-removal-node';
const EXT_MIME = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};
const EXTRA_EXT = ['.tif', '.tiff', '.gif', '.avif', '.bmp'];

function die(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opt = { model: 'medium', alpha: false, limit: 10000, rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--alpha') {
      opt.alpha = true;
    } else if (a === '--model' || a.startsWith('--model=')) {
      opt.model = a.includes('=') ? a.slice(8) : argv[++i];
    } else if (a === '--rounds' || a.startsWith('--rounds=')) {
      opt.rounds = Number(a.includes('=') ? a.slice(9) : argv[++i]);
    } else if (a === '--limit' || a.startsWith('--limit=')) {
      opt.limit = Number(a.includes('=') ? a.slice(8) : argv[++i]);
    } else if (a.startsWith('--')) {
      die(`unknown option ${a}`);
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== 2) die('need INPUT_DIR and OUTPUT_DIR');
  if (!['small', 'medium'].includes(opt.model)) die(`unsupported --model ${opt.model}`);
  if (!Number.isInteger(opt.limit) || opt.limit < 1) die('--limit must be a positive integer');
  if (!Number.isInteger(opt.rounds) || opt.rounds < 1 || opt.rounds > 100) die('--rounds must be 1..100');
  return { inDir: pos[0], outDir: pos[1], ...opt };
}

const args = parseArgs(process.argv.slice(2));
const require = createRequire(import.meta.url);
let distDir; // the package's "exports" hide package.json: resolve its entry (dist/index.cjs)
try {
  distDir = path.dirname(require.resolve(PEER));
} catch {
  die(`${PEER} is not installed: run bench/peer/setup.sh first`);
}
const pkgVersion = JSON.parse(await readFile(path.join(distDir, '..', 'package.json'), 'utf8')).version;
const publicPath = pathToFileURL(distDir + path.sep).href; // trailing slash matters
const { removeBackground } = await import(PEER);
const sharp = (await import('sharp')).default;

const config = {
  publicPath,
  model: args.model,
  debug: false,
  output: { format: args.alpha ? 'image/x-rgba8' : 'image/png', quality: 0.8 },
};

if (!(await stat(args.inDir).catch(() => null))?.isDirectory()) die(`not a directory: ${args.inDir}`);
await mkdir(args.outDir, { recursive: true });
const files = (await readdir(args.inDir))
  .filter((f) => {
    const e = path.extname(f).toLowerCase();
    return e in EXT_MIME || EXTRA_EXT.includes(e);
  })
  .sort()
  .slice(0, args.limit);
if (files.length === 0) die(`no images in ${args.inDir}`);

async function toBlob(buf, ext) {
  // The library only copes with 3- or 4-channel inputs.
  const meta = await sharp(buf).metadata();
  if ((meta.channels ?? 3) < 3 || !(ext in EXT_MIME)) {
    const png = await sharp(buf).toColourspace('srgb').png({ compressionLevel: 1 }).toBuffer();
    return { blob: new Blob([png], { type: 'image/png' }), normalized: true };
  }
  return { blob: new Blob([buf], { type: EXT_MIME[ext] }), normalized: false };
}

const perImageMs = [];
const normalized = [];
const failed = [];
const t0 = performance.now();
const work = Array.from({ length: args.rounds }, () => files).flat();
for (const f of work) {
  const ext = path.extname(f).toLowerCase();
  const base = path.basename(f, path.extname(f));
  const outPath = path.join(args.outDir, `${base}.png`);
  const ts = performance.now();
  try {
    const buf = await readFile(path.join(args.inDir, f));
    const { blob, normalized: norm } = await toBlob(buf, ext);
    if (norm && !normalized.includes(f)) normalized.push(f);
    const result = await removeBackground(blob, config);
    let bytes;
    if (args.alpha) {
      // result: raw RGBA, type 'image/x-rgba8;width=W;height=H'
      const params = Object.fromEntries(
        result.type.split(';').slice(1).map((kv) => kv.split('=').map((s) => s.trim())),
      );
      const width = Number(params.width);
      const height = Number(params.height);
      const rgba = Buffer.from(await result.arrayBuffer());
      bytes = await sharp(rgba, { raw: { width, height, channels: 4 } })
        .extractChannel(3)
        .toColourspace('b-w')
        .png()
        .toBuffer();
    } else {
      bytes = Buffer.from(await result.arrayBuffer());
    }
    await writeFile(outPath, bytes);
  } catch (e) {
    failed.push({ file: f, error: String(e?.message ?? e) });
    process.stderr.write(`peer: ${f}: FAILED ${e?.message ?? e}\n`);
    continue;
  }
  const ms = performance.now() - ts;
  perImageMs.push(Math.round(ms * 10) / 10);
  process.stderr.write(`peer: ${f} -> ${outPath} ${ms.toFixed(0)} ms\n`);
}
const seconds = (performance.now() - t0) / 1000;
const n = perImageMs.length;
const warm = perImageMs.slice(1);
const warmSec = warm.reduce((a, b) => a + b, 0) / 1000;
const sorted = [...perImageMs].sort((a, b) => a - b);
const r3 = (x) => Math.round(x * 1000) / 1000;
const summary = {
  peer: `${PEER}@${pkgVersion}`,
  model: args.model,
  output: args.alpha ? 'alpha' : 'cutout',
  rounds: args.rounds,
  images: n,
  seconds: r3(seconds),
  imagesPerSec: seconds > 0 ? r3(n / seconds) : null,
  warmImagesPerSec: warm.length && warmSec > 0 ? r3(warm.length / warmSec) : null,
  firstImageMs: n ? perImageMs[0] : null,
  medianMs: n ? sorted[Math.floor((n - 1) / 2)] : null,
  perImageMs,
  files: files.filter((f) => !failed.some((x) => x.file === f)),
};
if (normalized.length) summary.normalized = normalized;
if (failed.length) summary.failed = failed;
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(failed.length && !n ? 1 : 0);
