#!/usr/bin/env python3
"""Unimatte load client (Python 3 standard library only).

Sends every image of --images to a running Unimatte server as
`POST /api/v1/matte` (multipart field `image`) at one or more concurrency levels,
and prints, per level, one human-readable line and one JSON line (starting with
'{'): images, seconds, images/s, p50/p95/max latency, status-code counts, 503
retries, a histogram of the `X-Batch-Size` response header and the median per
stage of the `X-Timing` header (`decode=12;queue=340;infer=2100;encode=45`, ms).

Usage:
  python3 bench/loadgen.py --url http://127.0.0.1:8080 --images ../shared/testdata/photos \\
      [--concurrency 1,4,16] [--rounds 2] [--warmup 2] [--out-dir DIR] [--timeout 120] \\
      [--query output=alpha] [--max-requests 5000] [--deadline 1800] [--no-expect]

Safety: only loopback targets are accepted (127.0.0.0/8, localhost, ::1). Every run
is bounded: at most --max-requests HTTP requests in all (warm-up and retries
included) and at most --deadline seconds of wall time; past either, no new request
is started and the affected levels are marked "truncated".

Uploads are sent the way curl sends them: a body over 1 MiB goes with
`Expect: 100-continue`, and is sent after the server's `100 Continue` (or after
1 s without an answer, as curl does); a final answer instead of the 100 is taken
as it is, without sending the body. --no-expect sends every body at once.

A 503 answer is retried after its Retry-After seconds (default 1 s, at most
--max-retry-after s), up to --max-retries times per image; the latency of an image
is client-side, from its first attempt to its final answer (sleeps included).

Exit status: 0 when every measured image got a 200, 1 otherwise, 2 on bad usage.
"""
import argparse
import http.client
import ipaddress
import json
import mimetypes
import os
import select
import signal
import socket
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

IMG_EXT = ('.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff')
MIME = {'.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
        '.webp': 'image/webp', '.bmp': 'image/bmp', '.gif': 'image/gif',
        '.tif': 'image/tiff', '.tiff': 'image/tiff'}
# curl sends `Expect: 100-continue` for bodies over 1 MiB and waits up to 1 s for the 100
EXPECT_OVER_BYTES = 1024 * 1024
EXPECT_WAIT_S = 1.0
CT_EXT = {'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp',
          'application/json': '.json', 'text/plain': '.txt'}


# ---------------------------------------------------------------- helpers
def is_loopback_host(host):
    """True for localhost, 127.0.0.0/8 and ::1 (literal addresses only)."""
    if not host:
        return False
    h = host.strip('[]').lower()
    if h == 'localhost':
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def parse_target(url):
    """-> (host, port, base_path); raises ValueError unless http:// on loopback."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != 'http':
        raise ValueError('only http:// URLs are supported: %r' % url)
    if not is_loopback_host(u.hostname):
        raise ValueError('refusing non-loopback host %r (allowed: 127.0.0.0/8, localhost, ::1)'
                         % u.hostname)
    try:
        port = u.port or 80
    except ValueError as e:
        raise ValueError('bad port in %r: %s' % (url, e))
    return u.hostname, port, u.path.rstrip('/')


def parse_levels(text):
    levels = []
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        n = int(part)
        if not 1 <= n <= 256:
            raise ValueError('concurrency must be 1..256, got %d' % n)
        levels.append(n)
    if not levels:
        raise ValueError('no concurrency levels')
    return levels


def parse_timing(value):
    """'decode=12;queue=340;infer=2100ms' -> {'decode': 12.0, ...}; bad parts ignored."""
    out = {}
    for part in value.replace(',', ';').split(';'):
        if '=' not in part:
            continue
        k, v = part.split('=', 1)
        k = k.strip()
        v = v.strip().lower()
        if v.endswith('ms'):
            v = v[:-2]
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def parse_retry_after(value, default=1.0):
    if value is None:
        return default
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return default  # HTTP-date form: not worth parsing for a loopback benchmark


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def load_images(folder):
    files = sorted(f for f in os.listdir(folder)
                   if f.lower().endswith(IMG_EXT) and os.path.isfile(os.path.join(folder, f)))
    images = []
    for f in files:
        with open(os.path.join(folder, f), 'rb') as fh:
            data = fh.read()
        ext = os.path.splitext(f)[1].lower()
        ctype = MIME.get(ext) or mimetypes.guess_type(f)[0] or 'application/octet-stream'
        images.append((f, data, ctype))
    return images


def multipart(name, data, ctype):
    boundary = 'unimatte-' + uuid.uuid4().hex
    head = ('--%s\r\nContent-Disposition: form-data; name="image"; filename="%s"\r\n'
            'Content-Type: %s\r\n\r\n' % (boundary, name.replace('"', '_'), ctype)).encode()
    body = head + data + ('\r\n--%s--\r\n' % boundary).encode()
    return body, 'multipart/form-data; boundary=%s' % boundary


# ---------------------------------------------------------------- client
class Budget:
    """Shared hard caps: total requests and a wall-clock deadline."""

    def __init__(self, max_requests, deadline_s):
        self.max_requests = max_requests
        self.deadline = time.monotonic() + deadline_s
        self.used = 0
        self.stopped = False
        self.lock = threading.Lock()

    def stop(self):
        with self.lock:
            self.stopped = True

    def take(self):
        with self.lock:
            if (self.stopped or self.used >= self.max_requests
                    or time.monotonic() >= self.deadline):
                return False
            self.used += 1
            return True

    def left_s(self):
        return self.deadline - time.monotonic()


class Client:
    def __init__(self, args, host, port, path, budget):
        self.args = args
        self.host = host
        self.port = port
        self.path = path
        self.budget = budget
        self.local = threading.local()
        self.conns = []
        self.conns_lock = threading.Lock()

    def _conn(self):
        c = getattr(self.local, 'conn', None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.args.timeout)
            self.local.conn = c
            with self.conns_lock:
                self.conns.append(c)
        return c

    def _drop(self):
        c = getattr(self.local, 'conn', None)
        if c is not None:
            try:
                c.close()
            except OSError:
                pass
        self.local.conn = None

    def close_all(self):
        with self.conns_lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass
            self.conns = []

    def _post(self, c, body, body_ct):
        """POSTs like curl: over 1 MiB with Expect: 100-continue, the body after the 100."""
        expect = not self.args.no_expect and len(body) > EXPECT_OVER_BYTES
        c.putrequest('POST', self.path, skip_accept_encoding=True)
        c.putheader('Content-Type', body_ct)
        c.putheader('Content-Length', str(len(body)))
        c.putheader('Accept', '*/*')
        c.putheader('Connection', 'keep-alive')
        if expect:
            c.putheader('Expect', '100-continue')
        c.endheaders()
        if expect and not await_continue(c.sock, EXPECT_WAIT_S):
            return c.getresponse()  # answered before the body: it is not sent
        c.send(body)
        return c.getresponse()

    def one(self, image):
        """Send one image until a non-503 answer (or budget/retries run out).

        Returns a dict: ok, status, statuses (per attempt), retries, ms, headers, error."""
        name, data, ctype = image
        body, body_ct = multipart(name, data, ctype)
        res = {'name': name, 'ok': False, 'status': None, 'statuses': [], 'retries': 0,
               'ms': None, 'batch': None, 'timing': None, 'error': None, 'body': None,
               'ctype': None}
        t0 = time.perf_counter()
        attempt = 0
        while True:
            if not self.budget.take():
                res['error'] = 'budget'
                break
            attempt += 1
            try:
                c = self._conn()
                r = self._post(c, body, body_ct)
                payload = r.read()
                status = r.status
                hdr = {k.lower(): v for k, v in r.getheaders()}
                if hdr.get('connection', '').lower() == 'close':
                    self._drop()
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                res['statuses'].append('error')
                res['error'] = '%s: %s' % (type(e).__name__, e)
                break
            res['statuses'].append(status)
            res['status'] = status
            if status == 503 and attempt <= self.args.max_retries:
                wait = min(parse_retry_after(hdr.get('retry-after')), self.args.max_retry_after)
                if wait >= self.budget.left_s():
                    res['error'] = 'deadline during Retry-After'
                    break
                res['retries'] += 1
                time.sleep(wait)
                continue
            res['ok'] = status == 200
            res['error'] = None if res['ok'] else 'HTTP %d' % status
            if 'x-batch-size' in hdr:
                res['batch'] = hdr['x-batch-size'].strip()
            if 'x-timing' in hdr:
                res['timing'] = parse_timing(hdr['x-timing'])
            res['ctype'] = hdr.get('content-type', '')
            res['body'] = payload
            if not res['ok'] and payload:
                res['error'] += ' ' + payload[:200].decode('utf-8', 'replace').strip()
            break
        res['ms'] = (time.perf_counter() - t0) * 1000.0
        return res


def await_continue(sock, wait_s):
    """Waits up to wait_s for an interim `100 Continue` and consumes it. True: send the body (the
    100 came, or the wait ran out, as curl does); False: a final answer came first (left unread
    for http.client to parse)."""
    deadline = time.monotonic() + wait_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return True
        data = sock.recv(4096, socket.MSG_PEEK)
        if not data:
            return False  # closed: getresponse reports it
        if len(data) >= 12 and data[9:12] != b'100':
            return False
        end = data.find(b'\r\n\r\n')
        if len(data) >= 12 and end >= 0:
            sock.recv(end + 4)
            return True
        time.sleep(0.001)  # part of the interim answer so far


def health(host, port, base, timeout):
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request('GET', base + '/health')
        r = c.getresponse()
        body = r.read(4000).decode('utf-8', 'replace').replace('\n', ' ').strip()
        c.close()
        print(r.status, body)
        return 0 if r.status == 200 else 1
    except (OSError, http.client.HTTPException) as e:
        print('000', type(e).__name__)
        return 1


def save(out_dir, res):
    base = os.path.splitext(res['name'])[0]
    ct = (res['ctype'] or '').split(';')[0].strip().lower()
    ext = CT_EXT.get(ct) or mimetypes.guess_extension(ct) or '.bin'
    with open(os.path.join(out_dir, base + ext), 'wb') as fh:
        fh.write(res['body'])


def run_level(client, images, conc, rounds, out_dir):
    work = [img for _ in range(rounds) for img in images]
    results = []
    lock = threading.Lock()
    first_error = []

    def task(img):
        r = client.one(img)
        if out_dir and r['ok'] and r['body'] is not None:
            save(out_dir, r)
        r['body'] = None
        with lock:
            results.append(r)
            if r['error'] and not first_error:
                first_error.append('%s: %s' % (r['name'], r['error']))

    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=conc)
    try:
        for f in [pool.submit(task, img) for img in work]:
            f.result()
    except BaseException:  # Ctrl-C: drop queued work instead of waiting for it
        client.budget.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    seconds = time.perf_counter() - t0
    client.close_all()

    ok = [r for r in results if r['ok']]
    lat = sorted(r['ms'] for r in ok)
    statuses = Counter(str(s) for r in results for s in r['statuses'])
    batches = Counter(r['batch'] for r in ok if r['batch'] is not None)
    stages = {}
    for r in ok:
        for k, v in (r['timing'] or {}).items():
            stages.setdefault(k, []).append(v)
    not_sent = sum(1 for r in results if r['error'] == 'budget' and not r['statuses'])

    def rnd(x, n=1):
        return None if x is None else round(x, n)

    def batch_key(k):
        return (0, int(k)) if k.isdigit() else (1, k)

    return {
        'concurrency': conc,
        'rounds': rounds,
        'images': len(ok),
        'planned': len(work),
        'failed': len(results) - len(ok),
        'seconds': round(seconds, 3),
        'imagesPerSec': round(len(ok) / seconds, 3) if seconds > 0 else None,
        'latencyMs': {'p50': rnd(percentile(lat, 50)), 'p95': rnd(percentile(lat, 95)),
                      'max': rnd(lat[-1] if lat else None),
                      'mean': rnd(statistics.fmean(lat) if lat else None)},
        'status': dict(sorted(statuses.items())),
        'retries': sum(r['retries'] for r in results),
        'batchSizes': {k: batches[k] for k in sorted(batches, key=batch_key)},
        'timingMedianMs': {k: rnd(statistics.median(v)) for k, v in stages.items()},
        'truncated': not_sent > 0 or any(r['error'] and 'deadline' in r['error'] for r in results)
                     or any(r['error'] == 'budget' for r in results),
        'firstError': first_error[0] if first_error else None,
    }


def human(s):
    lat = s['latencyMs']
    parts = ['c=%-3d images=%d/%d seconds=%.2f img/s=%s p50=%sms p95=%sms max=%sms' % (
        s['concurrency'], s['images'], s['planned'], s['seconds'], s['imagesPerSec'],
        lat['p50'], lat['p95'], lat['max'])]
    parts.append('status=' + ','.join('%s:%d' % kv for kv in s['status'].items()))
    parts.append('retries=%d' % s['retries'])
    if s['batchSizes']:
        parts.append('batch=' + ','.join('%s:%d' % kv for kv in s['batchSizes'].items()))
    if s['timingMedianMs']:
        parts.append('stage_median_ms=' + ';'.join('%s=%s' % kv
                                                   for kv in s['timingMedianMs'].items()))
    if s['truncated']:
        parts.append('TRUNCATED')
    if s['firstError']:
        parts.append('first_error=%r' % s['firstError'][:160])
    return ' '.join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='usage example: python3 bench/loadgen.py --url http://127.0.0.1:18080 '
               '--images ../shared/testdata/photos --concurrency 1,4,16 --rounds 2')
    ap.add_argument('--url', default='http://127.0.0.1:8080',
                    help='server base URL, loopback only (default %(default)s)')
    ap.add_argument('--path', default='/api/v1/matte', help='endpoint (default %(default)s)')
    ap.add_argument('--query', default='', help="extra query string, e.g. 'output=alpha'")
    ap.add_argument('--images', help='folder of input images (required unless --health)')
    ap.add_argument('--health', action='store_true',
                    help='only GET /health once: print "<status> <body>", exit 0 on 200 '
                         '(1 otherwise); used by the bench scripts so that every request '
                         'they make passes the loopback check')
    ap.add_argument('--concurrency', default='1,4,16', help='comma list (default %(default)s)')
    ap.add_argument('--rounds', type=int, default=1,
                    help='passes over the image set per concurrency level (default 1)')
    ap.add_argument('--warmup', type=int, default=0,
                    help='requests sent sequentially before measuring, not counted (default 0)')
    ap.add_argument('--out-dir', default=None,
                    help='save 200 responses as OUT_DIR/<image base name>.<ext by content type>')
    ap.add_argument('--timeout', type=float, default=120.0,
                    help='per-request socket timeout in s (default %(default)s)')
    ap.add_argument('--max-retries', type=int, default=20,
                    help='503 retries per image (default %(default)s)')
    ap.add_argument('--max-retry-after', type=float, default=30.0,
                    help='cap on one Retry-After sleep in s (default %(default)s)')
    ap.add_argument('--max-requests', type=int, default=5000,
                    help='hard cap on HTTP requests in the whole run (default %(default)s)')
    ap.add_argument('--deadline', type=float, default=1800.0,
                    help='hard cap on the whole run in s (default %(default)s)')
    ap.add_argument('--json-out', default=None, help='also append the JSON lines to this file')
    ap.add_argument('--no-expect', action='store_true',
                    help='send every body at once, without Expect: 100-continue (curl -H "Expect:")')
    args = ap.parse_args(argv)

    try:
        host, port, base = parse_target(args.url)
        levels = parse_levels(args.concurrency)
    except ValueError as e:
        ap.error(str(e))
    if args.health:
        return health(host, port, base, min(args.timeout, 10.0))
    if not args.images:
        ap.error('--images is required')
    if not 1 <= args.rounds <= 1000:
        ap.error('--rounds must be 1..1000')
    if not 0 <= args.warmup <= 1000:
        ap.error('--warmup must be 0..1000')
    if args.max_requests < 1 or args.deadline <= 0 or args.timeout <= 0:
        ap.error('--max-requests, --deadline and --timeout must be positive')
    if not os.path.isdir(args.images):
        ap.error('not a directory: %s' % args.images)
    images = load_images(args.images)
    if not images:
        ap.error('no images in %s' % args.images)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)

    path = base + (args.path if args.path.startswith('/') else '/' + args.path)
    if args.query:
        path += ('&' if '?' in path else '?') + args.query.lstrip('?&')
    hostport = '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)
    budget = Budget(args.max_requests, args.deadline)
    client = Client(args, host, port, path, budget)
    print('loadgen: POST http://%s%s images=%d (%s) levels=%s rounds=%d warmup=%d expect=%s' % (
        hostport, path, len(images), args.images, ','.join(map(str, levels)), args.rounds,
        args.warmup, 'off' if args.no_expect else 'over-1MiB'), flush=True)

    if args.warmup:
        t0 = time.perf_counter()
        codes = Counter()
        for i in range(args.warmup):
            r = client.one(images[i % len(images)])
            codes[str(r['status'] if r['status'] is not None else r['error'])] += 1
        print('warmup: %d requests in %.2fs %s' % (args.warmup, time.perf_counter() - t0,
                                                   dict(codes)), flush=True)

    all_ok = True
    summaries = []
    for conc in levels:
        if budget.left_s() <= 0 or budget.used >= budget.max_requests:
            print('c=%d skipped: run budget exhausted' % conc, flush=True)
            all_ok = False
            continue
        s = run_level(client, images, conc, args.rounds, args.out_dir)
        s['url'] = 'http://%s%s' % (hostport, path)
        summaries.append(s)
        all_ok = all_ok and s['failed'] == 0 and not s['truncated']
        line = json.dumps(s, separators=(',', ':'))
        print(human(s), flush=True)
        print(line, flush=True)
        if args.json_out:
            with open(args.json_out, 'a') as fh:
                fh.write(line + '\n')
    return 0 if all_ok and summaries else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # Stop now (queued work and in-flight requests are dropped) and die *by* SIGINT,
        # so that a calling shell sees the interrupt and runs its own trap.
        print('loadgen: interrupted', file=sys.stderr, flush=True)
        sys.stdout.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        os._exit(130)
