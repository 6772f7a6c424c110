#!/usr/bin/env node
// Tuned-runtime peer for Unimatte benchmarks: the same ISNet ONNX file Unimatte imports
// (models/.cache/isnet_medium.onnx) on onnxruntime-node with every core, and sharp (libvips) for
// decode, resize and PNG encode, one image after the other in one process, as a shop script
// written for speed would do it. No refinement, no colour estimation: the model's matte upscaled
// (bicubic) and joined to the photo as its alpha.
//
// Usage: node tuned.mjs INPUT_DIR OUTPUT_DIR [--model FILE] [--rounds N] [--limit N] [--threads N]
//                       [--png-level L]
//   --model      the ONNX file (default ../../../models/.cache/isnet_medium.onnx, beside the repo root)
//   --threads    intra-op threads (default: all cores)
//   --png-level  zlib level of sharp's PNG (default 4, Unimatte's imaging.pngCompressionLevel)
// Per image the time is end to end: read file -> decode -> resize -> infer -> upscale matte ->
// join alpha -> PNG -> bytes written. One JSON line at the end, like peer.mjs.

import { readFile, writeFile, readdir, mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import sharp from 'sharp';

const USAGE = 'usage: node tuned.mjs INPUT_DIR OUTPUT_DIR [--model FILE] [--rounds N] [--limit N] '
  + '[--threads N] [--png-level L]';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SIZE = 1024;          // ISNet's input side
const MEAN = 128;           // the model's normalisation: (v - 128) / 256, as models/isnet/model.json says
const STD = 256;

function die(msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opt = {
    model: path.resolve(HERE, '../../../models/.cache/isnet_medium.onnx'),
    rounds: 1, limit: 10000, threads: os.cpus().length, pngLevel: 4,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '-h' || a === '--help') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else if (a.startsWith('--model')) opt.model = val();
    else if (a.startsWith('--rounds')) opt.rounds = Number(val());
    else if (a.startsWith('--limit')) opt.limit = Number(val());
    else if (a.startsWith('--threads')) opt.threads = Number(val());
    else if (a.startsWith('--png-level')) opt.pngLevel = Number(val());
    else if (a.startsWith('--')) die(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 2) die('need INPUT_DIR and OUTPUT_DIR');
  for (const k of ['rounds', 'limit', 'threads']) {
    if (!Number.isInteger(opt[k]) || opt[k] < 1) die(`--${k} must be a positive integer`);
  }
  if (!Number.isInteger(opt.pngLevel) || opt.pngLevel < 0 || opt.pngLevel > 9) die('--png-level must be 0..9');
  return { inDir: pos[0], outDir: pos[1], ...opt };
}

const args = parseArgs(process.argv.slice(2));
if (!(await stat(args.model).catch(() => null))?.isFile()) {
  die(`no model file ${args.model}: start Unimatte once (it fetches the ONNX file) or pass --model`);
}
await mkdir(args.outDir, { recursive: true });
const files = (await readdir(args.inDir)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort().slice(0, args.limit);
if (files.length === 0) die(`no images in ${args.inDir}`);

sharp.concurrency(args.threads);
const tLoad = performance.now();
const session = await ort.InferenceSession.create(args.model, {
  intraOpNumThreads: args.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
});
const loadMs = performance.now() - tLoad;
const inName = session.inputNames[0];
const outName = session.outputNames[0];

async function cutout(buf) {
  const img = sharp(buf, { failOn: 'none' }).rotate(); // EXIF orientation, like Unimatte
  const { data: rgb, info } = await img.clone().removeAlpha().toColourspace('srgb').raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const small = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(SIZE, SIZE, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const plane = SIZE * SIZE;
  const x = new Float32Array(3 * plane);
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    x[i] = (small[j] - MEAN) / STD;
    x[plane + i] = (small[j + 1] - MEAN) / STD;
    x[2 * plane + i] = (small[j + 2] - MEAN) / STD;
  }
  const res = await session.run({ [inName]: new ort.Tensor('float32', x, [1, 3, SIZE, SIZE]) });
  const y = res[outName].data;
  const m = Buffer.allocUnsafe(plane);
  for (let i = 0; i < plane; i++) {
    const v = y[i] < 0 ? 0 : y[i] > 1 ? 1 : y[i];
    m[i] = Math.round(v * 255);
  }
  const alpha = await sharp(m, { raw: { width: SIZE, height: SIZE, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .joinChannel(alpha, { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: args.pngLevel, adaptiveFiltering: true })
    .toBuffer();
}

const perImageMs = [];
const failed = [];
const t0 = performance.now();
for (const f of Array.from({ length: args.rounds }, () => files).flat()) {
  const ts = performance.now();
  try {
    const out = await cutout(await readFile(path.join(args.inDir, f)));
    await writeFile(path.join(args.outDir, `${path.basename(f, path.extname(f))}.png`), out);
  } catch (e) {
    failed.push({ file: f, error: String(e?.message ?? e) });
    process.stderr.write(`tuned: ${f}: FAILED ${e?.message ?? e}\n`);
    continue;
  }
  const ms = performance.now() - ts;
  perImageMs.push(Math.round(ms * 10) / 10);
  process.stderr.write(`tuned: ${f} ${ms.toFixed(0)} ms\n`);
}
const seconds = (performance.now() - t0) / 1000;
const n = perImageMs.length;
const warm = perImageMs.slice(1);
const warmSec = warm.reduce((a, b) => a + b, 0) / 1000;
const sorted = [...perImageMs].sort((a, b) => a - b);
const r3 = (v) => Math.round(v * 1000) / 1000;
process.stdout.write(`${JSON.stringify({
  peer: `onnxruntime-node@${ort.env.versions?.common ?? '?'} + sharp@${sharp.versions.sharp}`,
  model: path.basename(args.model),
  output: 'cutout',
  threads: args.threads,
  pngLevel: args.pngLevel,
  rounds: args.rounds,
  images: n,
  seconds: r3(seconds),
  imagesPerSec: seconds > 0 ? r3(n / seconds) : null,
  warmImagesPerSec: warm.length && warmSec > 0 ? r3(warm.length / warmSec) : null,
  firstImageMs: n ? perImageMs[0] : null,
  medianMs: n ? sorted[Math.floor((n - 1) / 2)] : null,
  sessionLoadMs: Math.round(loadMs),
  perImageMs,
  ...(failed.length ? { failed } : {}),
})}\n`);
process.exit(failed.length && !n ? 1 : 0);
