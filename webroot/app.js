'use strict';
// Unimatte web UI: single cutouts over HTTP, batches over the WebSocket API, history from /api/v1/jobs.
const $ = id => document.getElementById(id);
const HEALTH_POLL_MS = 5000;
const STAGE_LABEL = { queued: 'queued', decoded: 'decoding done', inferring: 'inferring', encoded: 'encoding',
  done: 'done', failed: 'failed' };

function setMessage(id, text, isError) {
  $(id).textContent = text || '';
  $(id).className = 'message' + (isError ? ' error' : '');
}

async function errorText(r) {
  let msg = `HTTP ${r.status}`;
  try { const j = await r.json(); msg = `${j.error.message} (${j.error.code})`; } catch (e) { /* not JSON */ }
  if (r.status === 503) msg = `The server is busy: ${msg}. Try again in a moment.`;
  if (r.status === 401) msg = `${msg}. Enter your key at /login.html`;
  return msg;
}

// ---- tabs -------------------------------------------------------------------------------
const tabs = ['single', 'batch', 'history'];
function showTab(name) {
  for (const t of tabs) {
    $('tab-' + t).setAttribute('aria-selected', String(t === name));
    $('view-' + t).hidden = t !== name;
  }
  if (name === 'history') loadHistory();
  location.hash = name;
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
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', async e => {
    e.preventDefault(); zone.classList.remove('over');
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
      let batch;
      do {
        batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        for (const e of batch) await walk(e);
      } while (batch.length);
    }
  }
  for (const e of entries) await walk(e);
  return out;
}

// ---- single image ---------------------------------------------------------------------------
let single = { file: null, cutout: null, bgImage: null };

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
      o.title = m.license ? Object.entries(m.license).map(([k, v]) => k + ': ' + v).join('; ') : '';
      return o;
    }));
    sel.value = ready.some(m => m.name === keep) ? keep : j.default;
    $('model-picker').hidden = ready.length < 2;
  } catch (e) { /* the picker stays hidden; requests use the default model */ }
}

// "product layout": the server scales and places the subject on the canvas (scale=, position=); with a layout
// the crop is the server's too, since cropping the laid-out image here would undo the layout
function layout() { const [scale, position] = $('layout').value.split('|'); return scale ? { scale, position } : null; }

async function matte(file, output) {
  const fd = new FormData(); fd.append('image', file);
  const q = new URLSearchParams();
  if (output) q.set('output', output);
  if (chosenModel()) q.set('model', chosenModel());
  const l = layout();
  if (l) { q.set('scale', l.scale); q.set('position', l.position); if ($('crop').checked) q.set('crop', 'true'); }
  const r = await fetch('/api/v1/matte' + (q.toString() ? '?' + q : ''), { method: 'POST', body: fd });
  if (!r.ok) throw new Error(await errorText(r));
  return r;
}

async function processSingle(files) {
  const file = files[0];
  if (!file) return;
  single.file = file;
  setMessage('single-message', 'Working…');
  $('single-result').hidden = true;
  try {
    const r = await matte(file);
    const blob = await r.blob();
    single.cutout = await loadImage(URL.createObjectURL(blob));
    $('single-before').src = URL.createObjectURL(file);
    $('single-meta').textContent = `${r.headers.get('X-Width')}×${r.headers.get('X-Height')} · ${r.headers.get('X-Model')}`
      + ` · ${r.headers.get('X-Timing') || ''}`;
    renderSingle();
    $('single-result').hidden = false;
    setMessage('single-message', '');
  } catch (e) {
    setMessage('single-message', e.message, true);
  }
}

function loadImage(src) {
  return new Promise((res, rej) => { const i = new Image(); i.onload = () => res(i); i.onerror = rej; i.src = src; });
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
  const bg = document.querySelector('input[name=bg]:checked').value;
  if (bg === 'color' || (forceOpaque && bg === 'transparent')) {
    g.fillStyle = bg === 'color' ? $('bg-color').value : '#ffffff'; g.fillRect(0, 0, c.width, c.height);
  } else if (bg === 'photo' && single.bgImage) {
    g.drawImage(single.bgImage, 0, 0, c.width, c.height);
  }
  g.drawImage(img, box.x, box.y, box.w, box.h, 0, 0, box.w, box.h);
  return c;
}

function renderSingle() {
  if (!single.cutout) return;
  const c = composeSingle(false);
  $('single-after').src = c.toDataURL('image/png');
  $('single-after-wrap').classList.toggle('checker', document.querySelector('input[name=bg]:checked').value === 'transparent');
  $('compare').style.aspectRatio = `${c.width} / ${c.height}`;
  $('single-before').style.visibility = $('crop').checked || layout() ? 'hidden' : 'visible';
  updateSlider();
}

function updateSlider() {
  $('single-after-wrap').style.clipPath = `inset(0 ${100 - $('slider').value}% 0 0)`;
}

function download(href, name) { const a = document.createElement('a'); a.href = href; a.download = name; a.click(); }
function baseName(f) { return (f && f.name ? f.name.replace(/\.[^.]+$/, '') : 'image'); }

// ---- batch over the WebSocket ----------------------------------------------------------------
let batch = null;

function wsUrl() { return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws'; }

function readBase64(file) {
  return new Promise((res, rej) => {
    const r = new FileReader();
    r.onload = () => res(String(r.result).split(',')[1] || '');
    r.onerror = () => rej(r.error); r.readAsDataURL(file);
  });
}

async function startBatch(files) {
  files = files.filter(f => f.size > 0 || f.type);
  if (!files.length) return;
  setMessage('batch-message', `Uploading ${files.length} image(s)…`);
  const images = [];
  for (const f of files) images.push({ name: f.webkitRelativePath || f.name, data: await readBase64(f) });
  batch = { ws: null, jobId: null, total: files.length, rows: new Map() };
  $('batch-rows').innerHTML = '';
  $('batch-retry').hidden = true;
  images.forEach((img, i) => addRow(i, img.name));
  $('batch-panel').hidden = false;
  updateBatchProgress(0, 0);
  openBatchSocket(Object.assign({ type: 'submit', ref: 'ui', output: 'rgba', results: false, images },
    chosenModel() ? { model: chosenModel() } : {}));
}

/** A socket for the current batch that sends `first` once open (submit, or retry). */
function openBatchSocket(first) {
  const ws = new WebSocket(wsUrl());
  batch.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify(first));
  ws.onerror = () => setMessage('batch-message', 'Lost the connection to the server.', true);
  ws.onmessage = ev => onBatchMessage(JSON.parse(ev.data));
}

// the server kept the images that failed for a passing reason (busy, a failed model call): run them again
function retryBatch() {
  if (!batch || !batch.jobId) return;
  $('batch-retry').hidden = true;
  setMessage('batch-message', 'Retrying the failed images…');
  openBatchSocket({ type: 'retry', ref: 'ui-retry', jobId: batch.jobId, results: false });
}

function requeueRows(indexes) {
  for (const i of indexes) setStage(i, 'queued');
}

function addRow(index, name) {
  const tr = document.createElement('tr');
  tr.dataset.index = index;
  tr.innerHTML = '<td class="thumb"></td><td class="name"></td><td class="stage">queued</td>';
  tr.querySelector('.name').textContent = name;
  $('batch-rows').appendChild(tr);
  batch.rows.set(index, tr);
}

function setStage(index, stage, detail) {
  const tr = batch && batch.rows.get(index);
  if (!tr) return;
  const td = tr.querySelector('.stage');
  td.textContent = detail ? `${STAGE_LABEL[stage] || stage}: ${detail}` : (STAGE_LABEL[stage] || stage);
  td.className = 'stage stage-' + stage;
  tr.dataset.stage = stage;
}

function updateBatchProgress(done, failed) {
  const finished = done + failed;
  $('batch-progress').value = batch.total ? Math.round(100 * finished / batch.total) : 0;
  $('batch-count').textContent = `${finished} / ${batch.total}` + (failed ? ` (${failed} failed)` : '');
}

function onBatchMessage(m) {
  if (!batch) return;
  switch (m.type) {
    case 'retried':
      setMessage('batch-message', `Job ${m.job.id.slice(0, 8)}: ${m.retried} image(s) queued again.`);
      updateBatchProgress(m.job.done, m.job.failed);
      break;
    case 'requeued':
      if (m.jobId === batch.jobId) requeueRows(m.items);
      break;
    case 'accepted':
      batch.jobId = m.job.id;
      $('batch-zip').href = `/api/v1/jobs/${m.job.id}/archive`;
      setMessage('batch-message', `Job ${m.job.id.slice(0, 8)}: ${m.job.total} image(s) queued.`);
      break;
    case 'progress':
      if (m.jobId === batch.jobId && m.stage !== 'done' && m.stage !== 'failed') setStage(m.index, m.stage);
      break;
    case 'item': {
      if (m.jobId !== batch.jobId) break;
      const it = m.item;
      if (it.stage === 'done') {
        setStage(it.index, 'done');
        const img = document.createElement('img');
        img.src = it.url; img.alt = 'Cutout of ' + it.name; img.className = 'checker';
        batch.rows.get(it.index).querySelector('.thumb').replaceChildren(img);
      } else {
        setStage(it.index, 'failed', `${it.message} (${it.code})`);
      }
      updateBatchProgress(m.done, m.failed);
      break;
    }
    case 'job_done':
      setMessage('batch-message', `Finished: ${m.done} done, ${m.failed} failed.`
        + (m.retryable ? ` ${m.retryable} can be retried.` : ''), m.failed > 0 && m.done === 0);
      $('batch-retry').hidden = !m.retryable;
      batch.ws.close();
      break;
    case 'error':
      setMessage('batch-message', `${m.message} (${m.code})`, true);
      break;
    default:
  }
}

async function cancelBatch() {
  if (!batch || !batch.jobId) return;
  batch.ws.close();
  await fetch('/api/v1/jobs/' + batch.jobId, { method: 'DELETE' });
  setMessage('batch-message', 'Cancelled.');
  for (const tr of batch.rows.values()) if (!['done', 'failed'].includes(tr.dataset.stage)) setStage(+tr.dataset.index, 'failed', 'cancelled');
}

// ---- history ---------------------------------------------------------------------------------
async function loadHistory() {
  try {
    const r = await fetch('/api/v1/jobs');
    if (!r.ok) throw new Error(await errorText(r));
    const { jobs } = await r.json();
    const list = $('history-list');
    list.replaceChildren();
    if (!jobs.length) setMessage('history-message', 'No jobs yet: batches you run appear here.');
    else setMessage('history-message', '');
    for (const j of jobs) {
      const li = document.createElement('li');
      li.dataset.jobId = j.id;
      const thumb = document.createElement('img');
      thumb.alt = 'First result of job ' + j.id.slice(0, 8); thumb.className = 'checker';
      if (j.done > 0) thumb.src = `/api/v1/jobs/${j.id}/items/0`;
      else thumb.alt = ''; // no result yet: an empty frame, not the alt text
      const info = document.createElement('div'); info.className = 'info';
      info.textContent = `${new Date(j.createdAt).toLocaleString()} · ${j.done}/${j.total} done`
        + (j.failed ? `, ${j.failed} failed` : '') + ` · ${j.status}`;
      const zip = document.createElement('a'); zip.className = 'button'; zip.textContent = 'Download zip';
      zip.href = `/api/v1/jobs/${j.id}/archive`; zip.setAttribute('download', '');
      const del = document.createElement('button'); del.textContent = 'Delete';
      del.addEventListener('click', async () => { await fetch('/api/v1/jobs/' + j.id, { method: 'DELETE' }); loadHistory(); });
      li.append(thumb, info, zip);
      if (j.retryable > 0) {
        const retry = document.createElement('button'); retry.className = 'retry';
        retry.textContent = `Retry ${j.retryable} failed`;
        retry.addEventListener('click', () => retryJob(j.id));
        li.append(retry);
      }
      li.append(del);
      list.appendChild(li);
    }
  } catch (e) { setMessage('history-message', e.message, true); }
}

async function retryJob(id) {
  let text = '';
  let isError = false;
  try {
    const r = await fetch(`/api/v1/jobs/${id}/retry`, { method: 'POST' });
    if (!r.ok) throw new Error(await errorText(r));
    const job = await r.json();
    text = `Job ${id.slice(0, 8)}: ${job.retried} image(s) queued again.`;
  } catch (e) { text = e.message; isError = true; }
  await loadHistory();
  setMessage('history-message', text, isError);
}

// ---- wiring ----------------------------------------------------------------------------------
dropZone($('drop-single'), $('file-single'), processSingle);
dropZone($('drop-batch'), $('file-batch'), startBatch);
$('pick-folder').addEventListener('click', e => { e.preventDefault(); $('folder-batch').click(); });
$('folder-batch').addEventListener('change', () => { startBatch([...$('folder-batch').files]); $('folder-batch').value = ''; });
window.addEventListener('paste', e => {
  const f = [...(e.clipboardData ? e.clipboardData.files : [])][0];
  if (f) { showTab('single'); processSingle([f]); }
});
$('slider').addEventListener('input', updateSlider);
document.querySelectorAll('input[name=bg]').forEach(r => r.addEventListener('change', renderSingle));
$('bg-color').addEventListener('input', () => { document.querySelector('input[name=bg][value=color]').checked = true; renderSingle(); });
$('bg-photo').addEventListener('change', async () => {
  const f = $('bg-photo').files[0];
  if (!f) return;
  single.bgImage = await loadImage(URL.createObjectURL(f));
  document.querySelector('input[name=bg][value=photo]').checked = true;
  renderSingle();
});
$('crop').addEventListener('change', () => { if (layout() && single.file) processSingle([single.file]); else renderSingle(); });
$('layout').addEventListener('change', () => { if (single.file) processSingle([single.file]); });
$('dl-png').addEventListener('click', () => download(composeSingle(false).toDataURL('image/png'), baseName(single.file) + '.png'));
$('dl-jpg').addEventListener('click', () => download(composeSingle(true).toDataURL('image/jpeg', 0.92), baseName(single.file) + '.jpg'));
$('dl-alpha').addEventListener('click', async () => {
  try { const r = await matte(single.file, 'alpha'); download(URL.createObjectURL(await r.blob()), baseName(single.file) + '.matte.png'); }
  catch (e) { setMessage('single-message', e.message, true); }
});
$('batch-cancel').addEventListener('click', cancelBatch);
$('batch-retry').addEventListener('click', retryBatch);
$('history-refresh').addEventListener('click', loadHistory);

$('model').addEventListener('change', () => { showStatus(); if (single.file) processSingle([single.file]); });

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
