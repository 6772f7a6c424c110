'use strict';
// Unimatte web UI: single cutouts over HTTP, batches over the WebSocket API, history from /api/v1/jobs.
const $ = id => document.getElementById(id);
const HEALTH_POLL_MS = 5000;
const HISTORY_PAGE = 10;
const HISTORY_REFRESH_MS = 5000;
/** How long a Delete waits for its confirmation before it resets. */
const CONFIRM_MS = 5000;
/** The server's default imaging.maxBytes: bigger files are refused here, before a long upload. */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/bmp', 'image/gif', 'image/tiff'];
const PHOTO_EXT = /\.(jpe?g|png|webp|bmp|gif|tiff?)$/i;
/** Share of an image's work done when it reaches each stage: the batch bar moves with every stage. */
const STAGE_WEIGHT = { queued: 0, decoded: 0.2, inferring: 0.45, encoded: 0.85, done: 1, failed: 1 };
const STAGE_LABEL = { queued: 'Waiting', decoded: 'Preparing', inferring: 'Cutting out', encoded: 'Saving',
  done: 'Done', failed: 'Failed', cancelled: 'Cancelled' };
/** Base64 sends 3 bytes as 4 characters: the share of a message that a photo's bytes become. */
const BASE64_RATIO = 4 / 3;
const RECONNECT_TRIES = 3;
const RECONNECT_MS = 1000;

function setMessage(id, text, isError) {
  $(id).textContent = text || '';
  $(id).className = 'message' + (isError ? ' error' : '');
}

/** An error of the API, with its stable code. */
class ApiError extends Error {
  constructor(code, message, status) { super(message); this.code = code; this.status = status; }
}

async function apiError(r) {
  try {
    const j = await r.json();
    return new ApiError(j.error.code, j.error.message, r.status);
  } catch (e) { return new ApiError('http_' + r.status, `the server answered ${r.status}`, r.status); }
}

/** What went wrong, in words a user can act on; names the file when there is one. */
function friendly(err, name) {
  const f = name ? `“${name}”` : 'This photo';
  switch (err && err.code) {
    case 'unsupported_format': case 'unsupported_media_type':
      return `${f} is not a photo Unimatte can read. Use JPEG, PNG, WebP, BMP, GIF or TIFF.`;
    case 'corrupt_image': case 'invalid_dimensions': return `${f} looks damaged or incomplete. Try exporting it again.`;
    case 'empty_input': return `${f} is empty (0 bytes).`;
    case 'image_too_large': case 'payload_too_large': case 'too_many_frames':
      return `${f} is too large for this server: ${err.message}.`;
    case 'queue_full': case 'queue_timeout': case 'model_not_ready': case 'shutting_down': case 'rate_limited':
    case 'server_busy': case 'too_many_jobs':
      return `The server is busy right now. Try ${name ? f : 'again'} in a moment.`;
    case 'missing_api_key': case 'invalid_api_key': return 'Your session has ended. Log in again at /login.html.';
    case 'storage_full': return 'The server has no room for more jobs. Delete some in History, or wait.';
    case 'too_many_items': return `That is more photos than one batch takes: ${err.message}.`;
    case 'message_too_large': return 'These photos are too large to send as one batch. Choose fewer at a time.';
    case 'network': return `Could not reach the server${name ? ` to cut out ${f}` : ''}. Check the connection.`;
    default: return `Could not cut out ${name ? f : 'the photo'}: ${err && err.message ? err.message : 'unknown error'}.`;
  }
}

/** Why a file cannot be sent, checked here before uploading; null when it may go. */
function checkFile(file) {
  const isPhoto = PHOTO_TYPES.includes(file.type) || (!file.type && PHOTO_EXT.test(file.name))
    || (file.type === 'application/octet-stream' && PHOTO_EXT.test(file.name));
  if (!isPhoto) return `“${file.name}” is not a photo. Use JPEG, PNG, WebP, BMP, GIF or TIFF.`;
  if (file.size === 0) return `“${file.name}” is empty (0 bytes).`;
  if (file.size > MAX_UPLOAD_BYTES) return `“${file.name}” is ${mb(file.size)}; the limit is ${mb(MAX_UPLOAD_BYTES)}.`;
  return null;
}

function mb(bytes) { return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0) + ' MB'; }
function seconds(ms) { return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 1000) + ' s'; }
function percent(x) { return Math.round(100 * x) + ' %'; }

/** Runs fn with the button marked busy (disabled, spinner), so work started once is not started twice. */
async function busy(button, fn) {
  if (button.getAttribute('aria-busy') === 'true') return undefined;
  button.setAttribute('aria-busy', 'true'); button.disabled = true;
  try { return await fn(); } finally { button.removeAttribute('aria-busy'); button.disabled = false; }
}

function download(href, name) { const a = document.createElement('a'); a.href = href; a.download = name; a.click(); }
function baseName(name) { return (name || 'image').replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, ''); }

function when(ms) {
  const d = new Date(ms);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today ' + time;
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday ' + time;
  return d.toLocaleDateString([], { day: 'numeric', month: 'short', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' })
    + ' ' + time;
}

// ---- tabs -------------------------------------------------------------------------------
const tabs = ['single', 'batch', 'history'];
function showTab(name) {
  for (const t of tabs) {
    $('tab-' + t).setAttribute('aria-selected', String(t === name));
    $('tab-' + t).tabIndex = t === name ? 0 : -1;
    $('view-' + t).hidden = t !== name;
  }
  if (name === 'history') loadHistory();
  if (name === 'single') fitCompare();
  history.replaceState(null, '', '#' + name);
}
tabs.forEach((t, i) => {
  $('tab-' + t).addEventListener('click', () => showTab(t));
  $('tab-' + t).addEventListener('keydown', e => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      showTab(next); $('tab-' + next).focus();
    }
  });
});

// ---- server status ------------------------------------------------------------------------
let modelsSeen = null;
let lastHealth = null;
// the queue depth /health reports is the default model's: shown only while that model is picked
function showStatus() {
  const j = lastHealth;
  if (!j) { $('status').textContent = 'starting: loading the model…'; return; }
  const model = chosenModel() || j.model;
  $('status').textContent = `model ${model} · ${String(j.device).toUpperCase()}`
    + (model === j.model ? ` · queue ${j.queueDepth}` : '');
}

async function health() {
  try {
    const r = await fetch('/health'); const j = await r.json();
    const ready = Object.entries(j.models || {}).filter(([, m]) => m.status === 'ready').map(([n]) => n).join(',');
    if (ready !== modelsSeen) { modelsSeen = ready; loadModels(); }
    lastHealth = r.ok ? j : null;
    showStatus();
  } catch (e) { lastHealth = null; $('status').textContent = 'server unreachable'; }
  setTimeout(health, HEALTH_POLL_MS);
}

// ---- drop zones -----------------------------------------------------------------------------
function dropZone(zone, input, onFiles) {
  zone.addEventListener('click', e => { if (e.target.tagName !== 'A') input.click(); });
  zone.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  input.addEventListener('change', () => { if (input.files.length) onFiles([...input.files]); input.value = ''; });
  acceptDrops(zone, onFiles);
}

function acceptDrops(el, onFiles) {
  el.addEventListener('dragover', e => { e.preventDefault(); el.classList.add('over'); });
  el.addEventListener('dragleave', () => el.classList.remove('over'));
  el.addEventListener('drop', async e => {
    e.preventDefault(); el.classList.remove('over');
    onFiles(await filesFromDrop(e.dataTransfer));
  });
}

// folders dropped on the page: walk them (webkitGetAsEntry) and keep the files
async function filesFromDrop(dt) {
  const entries = [...dt.items].map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dt.files];
  const out = [];
  async function walk(entry) {
    if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batchOfEntries;
      do {
        batchOfEntries = await new Promise((res, rej) => reader.readEntries(res, rej));
        for (const e of batchOfEntries) await walk(e);
      } while (batchOfEntries.length);
    }
  }
  for (const e of entries) await walk(e);
  return out;
}

// ---- model picker: shown when the server serves more than one model ----------------------------
function chosenModel() { return $('model-picker').hidden ? '' : $('model').value; }

async function loadModels() {
  try {
    const r = await fetch('/api/v1/models');
    if (!r.ok) return;
    const j = await r.json();
    const ready = j.models.filter(m => m.status === 'ready');
    const sel = $('model');
    const keep = sel.value;
    sel.replaceChildren(...ready.map(m => {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = m.name + (m.purpose ? ' — ' + m.purpose : '');
      o.title = (m.purpose || m.name) + (m.license ? ' · ' + Object.entries(m.license).map(([k, v]) => k + ': ' + v).join('; ') : '');
      return o;
    }));
    sel.value = ready.some(m => m.name === keep) ? keep : j.default;
    sel.title = sel.selectedOptions[0] ? sel.selectedOptions[0].title : '';
    $('model-picker').hidden = ready.length < 2;
  } catch (e) { /* the picker stays hidden; requests use the default model */ }
}

// ---- single image ---------------------------------------------------------------------------
/** The result on screen: kept when a later photo fails, so an error never costs the last cutout. */
let single = null;
let bgChoice = 'transparent';
let bgImage = null;
let comparePos = 50;
let afterUrl = null;

// "product layout": the server scales and places the subject on the canvas (scale=, position=); with a layout
// the crop is the server's too, since cropping the laid-out image here would undo the layout
function layout() { const [scale, position] = $('layout').value.split('|'); return scale ? { scale, position } : null; }

async function matte(file, params) {
  const fd = new FormData(); fd.append('image', file, file.name);
  const q = new URLSearchParams(params || {});
  if (chosenModel()) q.set('model', chosenModel());
  const l = layout();
  if (l) { q.set('scale', l.scale); q.set('position', l.position); if ($('crop').checked) q.set('crop', 'true'); }
  let r;
  try {
    r = await fetch('/api/v1/matte' + (q.toString() ? '?' + q : ''), { method: 'POST', body: fd });
  } catch (e) { throw new ApiError('network', e.message, 0); }
  if (!r.ok) throw await apiError(r);
  return r;
}

function setSingleState(state) { $('view-single').dataset.state = state; }

/** Shows the photo at once, dimmed under a spinner, while the server works on it. */
function showWorking(file, beforeUrl) {
  setSingleState('working');
  delete $('compare').dataset.ratio;
  $('compare').hidden = false;
  $('compare').classList.add('busy');
  $('compare').classList.remove('no-before');
  $('single-before').style.visibility = 'visible';
  $('single-before').src = beforeUrl;
  $('single-working').hidden = false;
  $('single-working-text').textContent = `Cutting out ${file.name}…`;
  setMessage('single-message', '');
  fitCompare();
}

async function processSingle(files) {
  const file = files[0];
  if (!file) return;
  const problem = checkFile(file);
  if (problem) { setMessage('single-message', problem, true); return; }
  const beforeUrl = URL.createObjectURL(file);
  const previous = single;
  showWorking(file, beforeUrl);
  const t0 = performance.now();
  try {
    const r = await matte(file, { record: 'true' });
    const blob = await r.blob();
    const cutoutUrl = URL.createObjectURL(blob);
    const cutout = await loadImage(cutoutUrl);
    const h = name => r.headers.get(name);
    // a browser that cannot show the original (TIFF) still shows the cutout
    const hasBefore = await loadImage(beforeUrl).then(() => true, () => false);
    single = { file, name: file.name, cutout, blob, beforeUrl: hasBefore ? beforeUrl : null, jobId: h('X-Job-Id'),
      width: h('X-Width'), height: h('X-Height'), model: h('X-Model'), elapsed: performance.now() - t0,
      cached: h('X-Cache') === 'hit', timing: h('X-Timing'), confidence: parseFloat(h('X-Matte-Confidence')),
      review: h('X-Matte-Review') === 'true' };
    if (previous && previous.beforeUrl && previous.beforeUrl !== beforeUrl) URL.revokeObjectURL(previous.beforeUrl);
    remember(single);
    await renderSingle();
  } catch (e) {
    URL.revokeObjectURL(beforeUrl);
    single = previous;
    await renderSingle();
    setMessage('single-message', friendly(e, file.name), true);
  }
}

/** The last cutout's job, so a reload shows it again (it is kept in History). */
function remember(s) {
  try { sessionStorage.setItem('unimatte.lastSingle', JSON.stringify({ jobId: s.jobId, name: s.name })); } catch (e) { /* private mode */ }
}

async function restoreLastSingle() {
  let last;
  try { last = JSON.parse(sessionStorage.getItem('unimatte.lastSingle') || 'null'); } catch (e) { last = null; }
  if (!last || !last.jobId || single) return;
  try {
    const r = await fetch(`/api/v1/jobs/${last.jobId}`);
    if (!r.ok) return;
    const job = await r.json();
    const item = job.items[0];
    if (!item || item.stage !== 'done' || single) return;
    const ir = await fetch(item.url);
    if (!ir.ok || single) return;
    const blob = await ir.blob();
    single = { file: null, name: item.name, cutout: await loadImage(URL.createObjectURL(blob)), blob, beforeUrl: null,
      jobId: job.id, width: item.width, height: item.height, model: item.model, elapsed: null, cached: false,
      timing: null, confidence: item.confidence, review: item.review };
    await renderSingle();
  } catch (e) { /* nothing to restore */ }
}

function loadImage(src) {
  return new Promise((res, rej) => { const i = new Image(); i.onload = () => res(i); i.onerror = rej; i.src = src; });
}

/** Readable timing: the time the user waited; the server's breakdown in the tooltip. */
function timingText(s) {
  if (s.elapsed == null) return '';
  return seconds(s.elapsed) + (s.cached ? ' · cached' : '');
}

function timingTitle(s) {
  if (!s.timing) return '';
  const names = { decode: 'decode', queue: 'queue', infer: 'model', encode: 'encode' };
  const parts = s.timing.split(';').map(p => p.split('=')).filter(([k, v]) => names[k] && v !== undefined)
    .map(([k, v]) => `${names[k]} ${+v < 1000 ? v + ' ms' : seconds(+v)}`);
  return (s.cached ? 'From the cache; the first run took: ' : 'On the server: ') + parts.join(' · ');
}

async function renderSingle() {
  const s = single;
  $('compare').classList.remove('busy');
  $('single-working').hidden = true;
  if (!s) {
    setSingleState('empty');
    $('compare').hidden = true;
    $('single-result').hidden = true;
    return;
  }
  setSingleState('result');
  $('compare').hidden = false;
  $('single-result').hidden = false;
  $('single-name').textContent = s.name;
  $('single-name').title = s.name;
  const meta = [`${s.width}×${s.height}`, s.model, timingText(s)];
  if (!s.review && !Number.isNaN(s.confidence)) meta.push('confidence ' + percent(s.confidence));
  $('single-meta').textContent = meta.filter(Boolean).join(' · ');
  $('single-meta').title = timingTitle(s);
  $('single-review').hidden = !s.review;
  $('single-review').textContent = s.review
    ? `The model was unsure about this photo (confidence ${percent(s.confidence || 0)}). Check the edges before using it.` : '';
  const crop = $('crop').checked;
  const before = s.beforeUrl && !crop && !layout();
  $('compare').classList.toggle('no-before', !before);
  if (s.beforeUrl) $('single-before').src = s.beforeUrl;
  else $('single-before').removeAttribute('src');
  const canvas = composeSingle(false);
  const blob = await new Promise(res => canvas.toBlob(res, 'image/png'));
  if (single !== s) return; // a newer photo meanwhile
  if (afterUrl) URL.revokeObjectURL(afterUrl);
  afterUrl = URL.createObjectURL(blob);
  $('single-after').src = afterUrl;
  $('single-after-wrap').classList.toggle('checker', bgChoice === 'transparent');
  $('compare').dataset.ratio = canvas.width / canvas.height;
  fitCompare();
  setCompare(comparePos);
}

/** Sizes the viewer to the photo and to the window, so the whole photo is in view without scrolling. */
function fitCompare() {
  const c = $('compare');
  if (c.hidden || $('view-single').hidden) return;
  const img = single && $('view-single').dataset.state !== 'working' ? single.cutout : $('single-before');
  const ratio = parseFloat(c.dataset.ratio) || (img.naturalWidth ? img.naturalWidth / img.naturalHeight : 4 / 3);
  const phone = window.matchMedia('(max-width: 760px)').matches;
  const width = c.parentElement.clientWidth;
  const top = c.parentElement.getBoundingClientRect().top + window.scrollY;
  const height = phone ? window.innerHeight * 0.5 : Math.max(240, window.innerHeight - top - 24);
  const w = Math.min(width, height * ratio);
  c.style.width = Math.round(w) + 'px';
  c.style.height = Math.round(w / ratio) + 'px';
}

function setCompare(pos) {
  comparePos = Math.max(0, Math.min(100, pos));
  $('compare').style.setProperty('--pos', comparePos + '%');
  $('compare-handle').setAttribute('aria-valuenow', String(Math.round(comparePos)));
  $('compare-handle').setAttribute('aria-valuetext', `${Math.round(comparePos)} % original, the rest cutout`);
}

// the handle follows the pointer anywhere on the photo; arrows move it from the keyboard
function wireCompare() {
  const c = $('compare');
  let dragging = false;
  const follow = e => { const r = c.getBoundingClientRect(); setCompare(100 * (e.clientX - r.left) / r.width); };
  c.addEventListener('pointerdown', e => {
    if ($('compare').classList.contains('no-before')) return;
    dragging = true; c.setPointerCapture(e.pointerId); follow(e);
  });
  c.addEventListener('pointermove', e => { if (dragging) follow(e); });
  c.addEventListener('pointerup', () => { dragging = false; });
  c.addEventListener('pointercancel', () => { dragging = false; });
  $('compare-handle').addEventListener('keydown', e => {
    const step = { ArrowLeft: -5, ArrowRight: 5, PageDown: -20, PageUp: 20 }[e.key];
    if (step) { e.preventDefault(); setCompare(comparePos + step); }
    if (e.key === 'Home') { e.preventDefault(); setCompare(0); }
    if (e.key === 'End') { e.preventDefault(); setCompare(100); }
  });
}

// bounding box of pixels with alpha above a small threshold
function subjectBox(img) {
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let x0 = c.width, y0 = c.height, x1 = -1, y1 = -1;
  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
    if (d[(y * c.width + x) * 4 + 3] > 8) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  }
  return x1 < 0 ? { x: 0, y: 0, w: c.width, h: c.height } : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// the cutout composed on the chosen background (and crop), as a canvas
function composeSingle(forceOpaque) {
  const img = single.cutout;
  const box = $('crop').checked && !layout() ? subjectBox(img) : { x: 0, y: 0, w: img.naturalWidth, h: img.naturalHeight };
  const c = document.createElement('canvas'); c.width = box.w; c.height = box.h;
  const g = c.getContext('2d');
  if (bgChoice === 'photo' && bgImage) {
    // cover: the background fills the frame without being stretched
    const s = Math.max(c.width / bgImage.naturalWidth, c.height / bgImage.naturalHeight);
    const w = bgImage.naturalWidth * s, h = bgImage.naturalHeight * s;
    g.drawImage(bgImage, (c.width - w) / 2, (c.height - h) / 2, w, h);
  } else if (bgChoice !== 'transparent' || forceOpaque) {
    g.fillStyle = bgChoice.startsWith('#') ? bgChoice : '#ffffff'; g.fillRect(0, 0, c.width, c.height);
  }
  g.drawImage(img, box.x, box.y, box.w, box.h, 0, 0, box.w, box.h);
  return c;
}

/** The grey matte, read from the cutout's alpha: no second run of the model. */
function matteCanvas() {
  const img = single.cutout;
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const data = g.getImageData(0, 0, c.width, c.height);
  const d = data.data;
  for (let i = 0; i < d.length; i += 4) { d[i] = d[i + 1] = d[i + 2] = d[i + 3]; d[i + 3] = 255; }
  g.putImageData(data, 0, 0);
  return c;
}

function canvasBlob(canvas, type, quality) { return new Promise(res => canvas.toBlob(res, type, quality)); }

async function saveAs(button, make, type, ext, quality) {
  if (!single) return;
  await busy(button, async () => {
    const blob = await canvasBlob(make(), type, quality);
    const url = URL.createObjectURL(blob);
    download(url, baseName(single.name) + ext);
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
}

function chooseBackground(value) {
  bgChoice = value;
  document.querySelectorAll('.swatches [role=radio]').forEach(b => b.setAttribute('aria-checked', String(b.dataset.bg === value)));
  document.querySelector('.swatch.custom').classList.toggle('chosen', value === $('bg-color').value);
  document.querySelector('.swatch.photo').classList.toggle('chosen', value === 'photo');
  renderSingle();
}

// ---- batch over the WebSocket ----------------------------------------------------------------
let batch = null;
let batchSeq = 0;

function wsUrl() { return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws'; }

function readBase64(file) {
  return new Promise((res, rej) => {
    const r = new FileReader();
    r.onload = () => res(String(r.result).split(',')[1] || '');
    r.onerror = () => rej(r.error); r.readAsDataURL(file);
  });
}

/** The photos of a drop or pick that can go, and a sentence about those that cannot. */
function sortFiles(files) {
  const ok = [];
  const notPhotos = [];
  const empty = [];
  const large = [];
  for (const f of files) {
    const problem = checkFile(f);
    if (!problem) ok.push(f);
    else if (f.size === 0 && (PHOTO_TYPES.includes(f.type) || PHOTO_EXT.test(f.name))) empty.push(f.name);
    else if (f.size > MAX_UPLOAD_BYTES) large.push(f.name);
    else notPhotos.push(f.name);
  }
  const list = names => names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
  const notes = [];
  if (notPhotos.length) notes.push(`Skipped ${notPhotos.length} file(s) that are not photos: ${list(notPhotos)}.`);
  if (empty.length) notes.push(`Skipped ${empty.length} empty file(s): ${list(empty)}.`);
  if (large.length) notes.push(`Skipped ${large.length} file(s) over ${mb(MAX_UPLOAD_BYTES)}: ${list(large)}.`);
  return { ok, note: notes.join(' ') };
}

async function startBatch(files) {
  const { ok, note } = sortFiles(files);
  if (!ok.length) {
    setMessage('batch-message', note || 'No photos found there.', true);
    return;
  }
  if (batch && batch.ws) { batch.closing = true; batch.ws.close(); }
  const seq = ++batchSeq;
  batch = { seq, ws: null, jobId: null, total: ok.length, rows: new Map(), ended: false, note, tries: 0,
    names: ok.map(f => f.webkitRelativePath || f.name) };
  $('batch-rows').replaceChildren();
  batch.names.forEach((name, i) => addRow(i, name));
  $('batch-panel').hidden = false;
  $('batch-retry').hidden = true;
  $('batch-title').textContent = `Batch of ${ok.length} photo${ok.length === 1 ? '' : 's'}`;
  setZip(null);
  $('batch-cancel').disabled = true;
  $('batch-review-only').checked = false;
  $('view-batch').classList.remove('review-only');
  updateBatchProgress();
  setMessage('batch-message', `Uploading ${ok.length} photo${ok.length === 1 ? '' : 's'}…` + (note ? ' ' + note : ''));
  const images = [];
  for (const f of ok) images.push({ name: f.webkitRelativePath || f.name, data: await readBase64(f) });
  if (seq !== batchSeq) return; // another batch started meanwhile
  openBatchSocket(Object.assign({ type: 'submit', ref: 'ui-' + seq, output: 'rgba', results: false, images },
    chosenModel() ? { model: chosenModel() } : {}));
}

/** A socket for the current batch that sends `first` once the server said hello (submit, retry or subscribe). */
function openBatchSocket(first) {
  const b = batch;
  const ws = new WebSocket(wsUrl());
  b.ws = ws;
  const text = JSON.stringify(first);
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if (m.type === 'hello') {
      // the server's limit on one message: a batch over it is refused here with a clear reason
      const size = new Blob([text]).size;
      if (m.maxMessageBytes && size > m.maxMessageBytes) {
        failBatch(b, `These photos add up to ${mb(size / BASE64_RATIO)}; one batch takes at most about`
          + ` ${mb(m.maxMessageBytes / BASE64_RATIO)}. Choose fewer at a time.`);
        ws.close();
        return;
      }
      ws.send(text);
      return;
    }
    if (b === batch) onBatchMessage(m);
  };
  ws.onclose = ev => {
    if (b !== batch || b.ended || b.closing || ws !== b.ws) return;
    if (ev.code === 1009) { failBatch(b, friendly({ code: 'message_too_large' })); return; }
    // the job goes on without the socket: follow it again
    if (b.jobId && b.tries < RECONNECT_TRIES) {
      b.tries++;
      setMessage('batch-message', 'Connection lost; reconnecting… (the batch goes on)');
      setTimeout(() => { if (b === batch && !b.ended) openBatchSocket({ type: 'subscribe', ref: 'ui-follow', jobId: b.jobId }); },
        RECONNECT_MS);
    } else {
      failBatch(b, b.jobId ? 'Lost the connection. The batch goes on: find it under History.'
        : 'Could not reach the server to send the batch. Check the connection and try again.');
    }
  };
}

function failBatch(b, text) {
  if (b !== batch) return;
  b.ended = true;
  setMessage('batch-message', text, true);
  $('batch-cancel').disabled = true;
  if (!b.jobId) for (const i of b.rows.keys()) setStage(i, 'failed', 'not sent');
}

// the server kept the images that failed for a passing reason (busy, a failed model call): run them again
function retryBatch() {
  if (!batch || !batch.jobId) return;
  $('batch-retry').hidden = true;
  batch.ended = false;
  batch.tries = 0;
  setMessage('batch-message', 'Retrying the failed images…');
  openBatchSocket({ type: 'retry', ref: 'ui-retry', jobId: batch.jobId, results: false });
}

function addRow(index, name) {
  const tr = document.createElement('tr');
  tr.dataset.index = index;
  tr.innerHTML = '<td class="thumb"><div class="thumb-placeholder" aria-hidden="true">…</div></td><td class="name"></td>'
    + '<td class="stage"></td><td class="get"></td>';
  tr.querySelector('.name').textContent = name;
  $('batch-rows').appendChild(tr);
  batch.rows.set(index, { tr, stage: 'queued', item: null });
  setStage(index, 'queued');
}

function setStage(index, stage, detail) {
  const row = batch && batch.rows.get(index);
  if (!row) return;
  const cancelled = detail === 'cancelled';
  row.stage = stage;
  const holder = row.tr.querySelector('.thumb-placeholder');
  if (holder) holder.textContent = cancelled ? '–' : stage === 'failed' ? '!' : '…';
  const td = row.tr.querySelector('.stage');
  td.className = 'stage ' + (cancelled ? 'stage-cancelled' : ['done', 'failed'].includes(stage) ? 'stage-' + stage
    : stage === 'queued' ? 'stage-queued' : 'stage-work');
  td.textContent = STAGE_LABEL[cancelled ? 'cancelled' : stage] || stage;
  if (detail && !cancelled) {
    const d = document.createElement('span'); d.className = 'detail'; d.textContent = detail; td.appendChild(d);
  }
  row.tr.dataset.stage = cancelled ? 'cancelled' : stage;
  updateBatchProgress();
}

function itemDone(it) {
  const row = batch.rows.get(it.index);
  if (!row) return;
  row.item = it;
  setStage(it.index, 'done');
  const img = document.createElement('img');
  img.src = it.url; img.alt = 'Cutout of ' + it.name; img.className = 'checker'; img.loading = 'lazy';
  const file = baseName(it.name) + (it.contentType === 'image/jpeg' ? '.jpg' : '.png');
  const link = document.createElement('a');
  link.href = it.url; link.download = file; link.title = 'Download ' + file; link.appendChild(img);
  row.tr.querySelector('.thumb').replaceChildren(link);
  if (it.review) {
    row.tr.classList.add('review');
    const badge = document.createElement('span');
    badge.className = 'badge review'; badge.textContent = 'Check';
    badge.title = `The model was unsure (confidence ${percent(it.confidence || 0)})`;
    row.tr.querySelector('.stage').append(' ', badge);
  }
  const a = document.createElement('a');
  a.className = 'button small'; a.href = it.url; a.textContent = 'Download'; a.download = file;
  row.tr.querySelector('.get').replaceChildren(a);
}

/** The bar counts each image's stage, failed ones in red: it moves with every stage, not only at the end of each image. */
function updateBatchProgress() {
  if (!batch) return;
  let done = 0, failed = 0, work = 0, flagged = 0, cancelled = 0;
  for (const r of batch.rows.values()) {
    if (r.stage === 'done') { done++; if (r.item && r.item.review) flagged++; }
    else if (r.stage === 'failed') { failed++; if (r.tr.dataset.stage === 'cancelled') cancelled++; }
    else work += STAGE_WEIGHT[r.stage] || 0;
  }
  const total = batch.total || 1;
  const value = (done + failed + work) / total;
  $('bar-done').style.width = (100 * done / total) + '%';
  $('bar-work').style.width = (100 * work / total) + '%';
  $('bar-failed').style.width = (100 * (failed - cancelled) / total) + '%';
  $('bar-cancelled').style.width = (100 * cancelled / total) + '%';
  const bar = $('batch-progress');
  bar.setAttribute('aria-valuenow', String(Math.round(100 * value)));
  bar.dataset.value = String(value);
  bar.dataset.done = String(done);
  const parts = [`${done} of ${batch.total} done`];
  if (failed - cancelled) parts.push(`${failed - cancelled} failed`);
  if (cancelled) parts.push(`${cancelled} cancelled`);
  if (flagged) parts.push(`${flagged} to check`);
  $('batch-count').textContent = parts.join(' · ');
  $('batch-flagged').textContent = String(flagged);
  $('batch-filter').hidden = flagged === 0;
  bar.setAttribute('aria-valuetext', parts.join(', '));
}

function setZip(jobId) {
  const a = $('batch-zip');
  if (jobId) { a.href = `/api/v1/jobs/${jobId}/archive`; a.setAttribute('aria-disabled', 'false'); a.tabIndex = 0; }
  else { a.removeAttribute('href'); a.setAttribute('aria-disabled', 'true'); a.tabIndex = -1; }
}

function applySnapshot(job) {
  for (const it of job.items) {
    if (it.stage === 'done') itemDone(Object.assign({ url: `/api/v1/jobs/${job.id}/items/${it.index}` }, it));
    else if (it.stage === 'failed') failedItem(it);
    else setStage(it.index, it.stage);
  }
}

function failedItem(it) {
  setStage(it.index, 'failed', it.code === 'cancelled' ? 'cancelled' : friendly(it, it.name));
}

function onBatchMessage(m) {
  switch (m.type) {
    case 'accepted':
      batch.jobId = m.job.id;
      $('batch-cancel').disabled = false;
      setMessage('batch-message', `Cutting out ${m.job.total} photo${m.job.total === 1 ? '' : 's'}…`
        + (batch.note ? ' ' + batch.note : ''));
      break;
    case 'subscribed':
      setMessage('batch-message', 'Reconnected.');
      applySnapshot(m.job);
      break;
    case 'retried':
      setMessage('batch-message', `${m.retried} image(s) queued again.`);
      $('batch-cancel').disabled = false;
      break;
    case 'requeued':
      if (m.jobId === batch.jobId) for (const i of m.items) setStage(i, 'queued');
      break;
    case 'progress':
      if (m.jobId === batch.jobId && m.stage !== 'done' && m.stage !== 'failed') setStage(m.index, m.stage);
      break;
    case 'item':
      if (m.jobId !== batch.jobId) break;
      if (m.item.stage === 'done') itemDone(m.item);
      else failedItem(m.item);
      break;
    case 'cancelled':
      setMessage('batch-message', `Stopped. ${m.job.done} finished photo${m.job.done === 1 ? ' is' : 's are'} kept;`
        + ` ${m.cancelled} cancelled.`);
      break;
    case 'job_done': {
      batch.ended = true;
      const b = batch;
      $('batch-cancel').disabled = true;
      const allFailed = m.done === 0;
      const cancelled = [...b.rows.values()].filter(r => r.tr.dataset.stage === 'cancelled').length;
      let text = allFailed ? (cancelled === b.total ? 'Cancelled before any photo was finished.'
        : `All ${b.total} photos failed.`) : `Finished: ${m.done} of ${b.total} done`
        + (m.failed - cancelled > 0 ? `, ${m.failed - cancelled} failed` : '') + (cancelled ? `, ${cancelled} cancelled` : '') + '.';
      if (m.flagged) text += ` ${m.flagged} to check by eye (marked “Check”).`;
      if (m.retryable) text += ` ${m.retryable} can be retried.`;
      if (b.note) text += ' ' + b.note;
      setMessage('batch-message', text, allFailed && !cancelled);
      $('batch-retry').hidden = !m.retryable;
      setZip(m.done > 0 ? b.jobId : null);
      b.closing = true;
      b.ws.close();
      break;
    }
    case 'job_deleted':
      batch.ended = true;
      $('batch-cancel').disabled = true;
      setMessage('batch-message', 'This batch was deleted.', true);
      break;
    case 'error':
      if (m.ref && String(m.ref).startsWith('ui')) {
        if (!batch.jobId) failBatch(batch, friendly(m));
        else setMessage('batch-message', friendly(m), true);
      }
      break;
    default:
  }
}

async function cancelBatch() {
  const b = batch;
  if (!b || !b.jobId || b.ended) return;
  await busy($('batch-cancel'), async () => {
    try {
      const r = await fetch(`/api/v1/jobs/${b.jobId}/cancel`, { method: 'POST' });
      if (!r.ok) throw await apiError(r);
      // the socket then brings the cancelled images and job_done
    } catch (e) { setMessage('batch-message', friendly(e), true); }
  });
  // job_done may have come while the request was out: the batch is over, nothing left to cancel
  if (b === batch && b.ended) $('batch-cancel').disabled = true;
}

// ---- history ---------------------------------------------------------------------------------
const hist = { offset: 0, open: new Map(), confirming: null, loading: false, timer: null, shown: '' };

function statusBadge(j) {
  const b = document.createElement('span');
  b.className = 'badge';
  if (j.cancelled) { b.textContent = 'Cancelled'; }
  else if (j.status === 'done') { b.textContent = 'Done'; b.classList.add('done'); }
  else if (j.status === 'failed') { b.textContent = 'Failed'; b.classList.add('failed'); }
  else if (j.status === 'partial') { b.textContent = `${j.failed} failed`; b.classList.add('failed'); }
  else { b.textContent = j.done + j.failed > 0 ? `Working · ${j.done + j.failed} of ${j.total}` : 'Waiting'; b.classList.add('running'); }
  return b;
}

function jobTitle(j) {
  const names = (j.names || []).map(n => n.replace(/^.*\//, ''));
  const more = j.total - names.length;
  return names.join(', ') + (more > 0 ? ` +${more} more` : '') || `${j.total} photos`;
}

function placeholder(j) {
  const p = document.createElement('div');
  p.className = 'thumb-placeholder';
  p.setAttribute('aria-hidden', 'true');
  p.textContent = j.cancelled ? '–' : j.status === 'failed' ? '!' : '…';
  return p;
}

async function loadHistory(opts) {
  if (hist.loading) return;
  hist.loading = true;
  const quiet = opts && opts.quiet;
  try {
    const q = new URLSearchParams({ limit: HISTORY_PAGE, offset: hist.offset });
    if ($('history-review-only').checked) q.set('review', 'true');
    const r = await fetch('/api/v1/jobs?' + q);
    if (!r.ok) throw await apiError(r);
    const page = await r.json();
    if (!page.jobs.length && hist.offset > 0) {
      hist.offset = Math.max(0, hist.offset - HISTORY_PAGE);
      hist.loading = false;
      return loadHistory(opts);
    }
    if (hist.confirming && quiet) return; // a Delete waits for its confirmation: leave the list as it is
    const seen = JSON.stringify(page);
    // nothing changed: the list stays as it is, with the focus and any open job where they are
    if (quiet && seen === hist.shown && !page.jobs.some(j => hist.open.has(j.id) && (j.status === 'running' || j.status === 'queued'))) return;
    hist.shown = seen;
    renderHistory(page);
    if (!quiet) setMessage('history-message', '');
  } catch (e) {
    if (!quiet) setMessage('history-message', friendly(e), true);
  } finally { hist.loading = false; }
}

function renderHistory(page) {
  const list = $('history-list');
  const items = page.jobs.map(historyItem);
  list.replaceChildren(...items);
  if (!page.total) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = $('history-review-only').checked ? 'No jobs with images to check.'
      : 'Nothing yet: your cutouts and batches appear here.';
    list.appendChild(li);
  }
  $('history-pager').hidden = page.total <= HISTORY_PAGE;
  $('history-range').textContent = page.jobs.length
    ? `${page.offset + 1}–${page.offset + page.jobs.length} of ${page.total}` : '';
  $('history-prev').disabled = page.offset === 0;
  $('history-next').disabled = page.offset + page.jobs.length >= page.total;
}

function historyItem(j) {
  const li = document.createElement('li');
  li.dataset.jobId = j.id;
  if (j.thumb) {
    const img = document.createElement('img');
    img.className = 'thumb checker'; img.src = j.thumb; img.alt = ''; img.loading = 'lazy';
    li.appendChild(img);
  } else li.appendChild(placeholder(j));
  const info = document.createElement('div'); info.className = 'info';
  const title = document.createElement('span'); title.className = 'title ellipsis'; title.textContent = jobTitle(j);
  title.title = (j.names || []).join('\n');
  const meta = document.createElement('span'); meta.className = 'meta';
  const kind = j.source === 'single' ? 'Single photo' : `Batch · ${j.done} of ${j.total} done`;
  meta.append(`${when(j.createdAt)} · ${kind} · ${j.model || ''} `, statusBadge(j));
  if (j.flagged) {
    const b = document.createElement('span'); b.className = 'badge review';
    b.textContent = `${j.flagged} to check`; meta.append(' ', b);
  }
  info.append(title, meta);
  const actions = document.createElement('div'); actions.className = 'actions';
  const open = document.createElement('button'); open.type = 'button'; open.className = 'open';
  open.setAttribute('aria-expanded', 'false'); open.textContent = 'Open';
  open.addEventListener('click', () => toggleJob(li, j, open));
  actions.appendChild(open);
  if (j.done > 0) {
    const dl = document.createElement('a'); dl.className = 'button download';
    if (j.total === 1) {
      dl.href = j.thumb; dl.textContent = 'Download';
      dl.download = baseName((j.names || [])[0]) + (j.format === 'jpg' ? '.jpg' : '.png');
    } else {
      dl.href = `/api/v1/jobs/${j.id}/archive`; dl.textContent = 'Download zip'; dl.setAttribute('download', '');
    }
    actions.appendChild(dl);
  }
  if (j.retryable > 0) {
    const retry = document.createElement('button'); retry.type = 'button'; retry.className = 'retry';
    retry.textContent = `Retry ${j.retryable} failed`;
    retry.addEventListener('click', () => busy(retry, () => retryJob(j.id)));
    actions.appendChild(retry);
  }
  const del = document.createElement('button'); del.type = 'button'; del.className = 'delete'; del.textContent = 'Delete';
  del.addEventListener('click', () => deleteJob(j, del, actions));
  actions.appendChild(del);
  li.append(info, actions);
  if (hist.open.has(j.id)) toggleJob(li, j, open, true);
  return li;
}

/** Opens (or closes) a job: each image with its status, review mark and download. */
async function toggleJob(li, j, button, reopen) {
  const shown = li.querySelector('.history-detail');
  if (shown && !reopen) {
    shown.remove(); hist.open.delete(j.id); button.setAttribute('aria-expanded', 'false'); button.textContent = 'Open';
    return;
  }
  hist.open.set(j.id, true);
  button.setAttribute('aria-expanded', 'true'); button.textContent = 'Close';
  const ul = document.createElement('ul'); ul.className = 'history-detail';
  ul.classList.toggle('review-only', $('history-review-only').checked);
  li.appendChild(ul);
  try {
    const r = await fetch(`/api/v1/jobs/${j.id}`);
    if (!r.ok) throw await apiError(r);
    const job = await r.json();
    ul.replaceChildren(...job.items.map(it => detailItem(job, it)));
  } catch (e) {
    const err = document.createElement('li'); err.textContent = friendly(e); ul.replaceChildren(err);
  }
}

function detailItem(job, it) {
  const li = document.createElement('li');
  li.dataset.index = it.index;
  if (it.stage === 'done') {
    const img = document.createElement('img'); img.className = 'checker'; img.src = it.url; img.alt = 'Cutout of ' + it.name;
    img.loading = 'lazy'; li.appendChild(img);
  } else li.appendChild(placeholder({ status: it.stage === 'failed' ? 'failed' : 'running', cancelled: it.code === 'cancelled' }));
  const name = document.createElement('span'); name.className = 'name ellipsis'; name.textContent = it.name; name.title = it.name;
  const status = document.createElement('span'); status.className = 'stage';
  if (it.stage === 'done') {
    status.textContent = `${it.width}×${it.height}`;
    if (it.review) {
      li.classList.add('review');
      const b = document.createElement('span'); b.className = 'badge review'; b.textContent = 'Check';
      b.title = `The model was unsure (confidence ${percent(it.confidence || 0)})`; status.append(' ', b);
    }
  } else if (it.stage === 'failed') {
    status.className = 'stage ' + (it.code === 'cancelled' ? 'stage-cancelled' : 'stage-failed');
    status.textContent = it.code === 'cancelled' ? 'Cancelled' : friendly(it, it.name);
  } else status.textContent = STAGE_LABEL[it.stage] || it.stage;
  li.append(name, status);
  if (it.stage === 'done') {
    const a = document.createElement('a'); a.className = 'button small'; a.href = it.url; a.textContent = 'Download';
    a.download = baseName(it.name) + (it.contentType === 'image/jpeg' ? '.jpg' : '.png');
    li.appendChild(a);
  }
  return li;
}

/** Delete asks first: the button turns into a confirmation for a few seconds. */
async function deleteJob(j, del, actions) {
  if (del.dataset.confirm !== 'true') {
    del.dataset.confirm = 'true';
    del.textContent = 'Delete for good?';
    del.classList.add('danger');
    const keep = document.createElement('button'); keep.type = 'button'; keep.className = 'keep'; keep.textContent = 'Keep';
    const reset = () => {
      del.dataset.confirm = ''; del.textContent = 'Delete'; del.classList.remove('danger'); keep.remove();
      if (hist.confirming === del) hist.confirming = null;
    };
    keep.addEventListener('click', reset);
    actions.appendChild(keep);
    hist.confirming = del;
    setTimeout(() => { if (del.dataset.confirm === 'true') reset(); }, CONFIRM_MS);
    return;
  }
  hist.confirming = null;
  await busy(del, async () => {
    const r = await fetch('/api/v1/jobs/' + j.id, { method: 'DELETE' });
    hist.open.delete(j.id);
    setMessage('history-message', r.ok || r.status === 404 ? `Deleted “${jobTitle(j)}”.` : friendly(await apiError(r)), !r.ok && r.status !== 404);
  });
  await loadHistory({ quiet: true });
}

async function retryJob(id) {
  let text = '';
  let isError = false;
  try {
    const r = await fetch(`/api/v1/jobs/${id}/retry`, { method: 'POST' });
    if (!r.ok) throw await apiError(r);
    const job = await r.json();
    text = `${job.retried} image(s) queued again.`;
  } catch (e) { text = friendly(e); isError = true; }
  await loadHistory({ quiet: true });
  setMessage('history-message', text, isError);
}

// the history follows running jobs by itself while it is on screen
function refreshHistory() {
  if (!$('view-history').hidden && document.visibilityState === 'visible') loadHistory({ quiet: true });
}

// ---- wiring ----------------------------------------------------------------------------------
dropZone($('drop-single'), $('file-single'), processSingle);
acceptDrops($('compare'), processSingle);
dropZone($('drop-batch'), $('file-batch'), startBatch);
$('single-new').addEventListener('click', () => $('file-single').click());
$('pick-folder').addEventListener('click', e => { e.preventDefault(); $('folder-batch').click(); });
$('folder-batch').addEventListener('change', () => { startBatch([...$('folder-batch').files]); $('folder-batch').value = ''; });
window.addEventListener('paste', e => {
  const f = [...(e.clipboardData ? e.clipboardData.files : [])][0];
  if (f) { showTab('single'); processSingle([f]); }
});
wireCompare();
window.addEventListener('resize', fitCompare);
$('single-before').addEventListener('load', () => { if ($('view-single').dataset.state === 'working') fitCompare(); });
document.querySelectorAll('.swatches [role=radio]').forEach(b => b.addEventListener('click', () => chooseBackground(b.dataset.bg)));
$('bg-color').addEventListener('input', () => chooseBackground($('bg-color').value));
$('bg-photo').addEventListener('change', async () => {
  const f = $('bg-photo').files[0];
  if (!f) return;
  try { bgImage = await loadImage(URL.createObjectURL(f)); chooseBackground('photo'); }
  catch (e) { setMessage('single-message', `“${f.name}” cannot be used as a background: it is not a photo this browser can show.`, true); }
});
$('crop').addEventListener('change', () => { if (layout() && single && single.file) processSingle([single.file]); else renderSingle(); });
$('layout').addEventListener('change', () => { if (single && single.file) processSingle([single.file]); });
$('dl-png').addEventListener('click', e => saveAs(e.currentTarget, () => composeSingle(false), 'image/png', '.png'));
$('dl-jpg').addEventListener('click', e => saveAs(e.currentTarget, () => composeSingle(true), 'image/jpeg', '.jpg', 0.92));
$('dl-alpha').addEventListener('click', e => saveAs(e.currentTarget, matteCanvas, 'image/png', '.matte.png'));
$('batch-cancel').addEventListener('click', cancelBatch);
$('batch-retry').addEventListener('click', retryBatch);
$('batch-zip').addEventListener('click', e => { if ($('batch-zip').getAttribute('aria-disabled') === 'true') e.preventDefault(); });
$('batch-review-only').addEventListener('change', () => $('view-batch').classList.toggle('review-only', $('batch-review-only').checked));
$('history-refresh').addEventListener('click', e => busy(e.currentTarget, () => loadHistory()));
$('history-review-only').addEventListener('change', () => { hist.offset = 0; loadHistory(); });
$('history-prev').addEventListener('click', () => { hist.offset = Math.max(0, hist.offset - HISTORY_PAGE); loadHistory(); });
$('history-next').addEventListener('click', () => { hist.offset += HISTORY_PAGE; loadHistory(); });
hist.timer = setInterval(refreshHistory, HISTORY_REFRESH_MS);

$('model').addEventListener('change', () => {
  $('model').title = $('model').selectedOptions[0] ? $('model').selectedOptions[0].title : '';
  showStatus();
  if (single && single.file) processSingle([single.file]);
});

// ---- session: a "Log out" button when the page was opened through the login page -----------------
async function showLogout() {
  try {
    const r = await fetch('/api/v1/session');
    $('logout').hidden = !(r.ok && (await r.json()).via === 'session');
  } catch (e) { /* no button */ }
}
$('logout').addEventListener('click', async () => {
  try { await fetch('/api/v1/logout', { method: 'POST' }); } finally { location.replace('/login.html'); }
});

showTab(tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'single');
health();
showLogout();
restoreLastSingle();
