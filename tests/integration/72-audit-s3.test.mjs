// tests/integration/72-audit-s3.test.mjs
// The WORM archive: closed segments and checkpoints are shipped to an S3-compatible server
// (s3rver from npm, the local stand-in for AWS S3 with Object Lock) through a recording proxy
// on loopback that shows exactly what leaves the gateway:
//   - every PUT carries x-amz-object-lock-mode COMPLIANCE, a retain-until date 7 years ahead,
//     a correct Content-MD5 and x-amz-content-sha256 (the file is streamed), a SigV4
//     Authorization for s3, and the whole STS session token (1,200 characters, signed);
//   - while the server is "down" (the proxy drops connections) nothing is lost: segments wait
//     locally, the backlog shows in /metrics, and everything arrives once it is back;
//   - the archive's copy verifies with `mcpgw audit verify` and matches the local files;
//   - checkpoints signed inside a closed segment leave the local folder once archived
//     (GW_AUDIT_LOCAL_CHECKPOINTS=boundaries), the one at each segment boundary stays.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { GW_BIN, REPO, initSession, messagesOf, post, request, rpc, startGateway } from './lib/gw.mjs';

const require = createRequire(import.meta.url);
let S3rver = null;
try {
  S3rver = require(join(REPO, 'tests/node/s3rver/node_modules/s3rver'));
} catch {
  S3rver = null;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-s3-'));
let s3;
let s3port;
let proxy;
let proxyPort;
let up = false;
const seen = []; // { method, url, headers, bodySha, bodyMd5 }
// temporary credentials' session tokens are long (STS: often over a kilobyte)
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjE' + 'x'.repeat(1183);

before(async () => {
  if (!S3rver) return;
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3'),
                    configureBuckets: [{ name: 'audit-archive' }] });
  const addr = await s3.run();
  s3port = addr.port;
  proxy = http.createServer((req, res) => {
    if (!up) {
      req.socket.destroy(); // the archive is unreachable
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'PUT')
        seen.push({ method: req.method, url: req.url, headers: req.headers,
                    bodySha: createHash('sha256').update(body).digest('hex'),
                    bodyMd5: createHash('md5').update(body).digest('base64') });
      const fwd = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: req.url,
                                 headers: req.headers }, (r2) => {
        res.writeHead(r2.statusCode, r2.headers);
        r2.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  proxyPort = proxy.address().port;
});

after(async () => {
  if (proxy) proxy.close();
  if (s3) await s3.close();
  if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
});

// A gateway whose log (id `logId` under dataDir) closes a segment and signs a checkpoint every
// second and ships them to the archive through the recording proxy.
const archiveSets = (dataDir, logId) => ({
  GW_DATA_DIR: dataDir,
  GW_AUDIT_LOG_ID: logId,
  GW_AUDIT_SEGMENT_MAX_SECONDS: '1',
  GW_AUDIT_CHECKPOINT_SECONDS: '1',
  GW_AUDIT_S3_BUCKET: 'audit-archive',
  GW_AUDIT_S3_ENDPOINT: `http://127.0.0.1:${proxyPort}`,
  GW_AUDIT_S3_REGION: 'us-east-1',
  GW_AUDIT_S3_PATH_STYLE: 'true',
  GW_AUDIT_S3_ACCESS_KEY_ID: 'S3RVER',
  GW_AUDIT_S3_SECRET_ACCESS_KEY: 'S3RVER',
  GW_AUDIT_S3_RETRY_MAX_SECONDS: '1',
});

test('segments and checkpoints reach the archive with Object Lock, also after an outage', async (t) => {
  if (!S3rver) {
    t.skip('s3rver not installed (scripts/setup.sh installs tests/node/s3rver)');
    return;
  }
  const dataDir = join(dir, 'data');
  const gw = await startGateway({
    sets: {
      ...archiveSets(dataDir, 's3test'),
      GW_AUDIT_S3_SESSION_TOKEN: SESSION_TOKEN,
      GW_AUDIT_CHECKPOINT_EVENTS: '2', // checkpoints inside segments too, not only at their ends
      GW_ADMIN_LISTEN: '127.0.0.1:0',
      GW_ADMIN_DEV_MODE: 'true', // loopback dev mode: the admin API without credentials
    },
  });
  let stopped = false;
  try {
    const { session, version } = await initSession(gw);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) {
        const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: { round, i } }),
                               { session, version });
        assert.ok(messagesOf(res)[0].result);
      }
      await sleep(1100); // a segment closes every second
    }
    // the archive is down: segments wait locally and the backlog is visible
    const logDir = join(dataDir, 'audit', 's3test');
    const closed = readdirSync(join(logDir, 'segments')).filter((n) => n.endsWith('.jsonl'));
    assert.ok(closed.length >= 2, `closed segments: ${closed}`);
    assert.equal(seen.length, 0);
    const am = gw.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
    assert.ok(am, gw.stderr().split('\n').filter((l) => /listening|admin/.test(l)).join('\n'));
    const adminPort = Number(am[1]);
    const m = await request(adminPort, { path: '/metrics' });
    const backlog = Number(m.body.match(/mcpgw_audit_archive_backlog_objects (\d+)/)?.[1]);
    assert.ok(backlog >= closed.length, `backlog ${backlog}`);
    assert.match(m.body, /mcpgw_audit_archive_upload_errors_total [1-9]/);
    // back up: everything arrives
    up = true;
    let keys = [];
    for (let i = 0; i < 300; i++) { // up to 30 s (sanitizer builds are slow)
      await sleep(100);
      keys = seen.map((s) => s.url);
      if (closed.every((c) => keys.some((k) => k.endsWith(`/segments/${c}`))) &&
          keys.some((k) => /\/checkpoints\/\d{20}\.cp$/.test(k))) break;
    }
    for (const c of closed)
      assert.ok(keys.some((k) => k === `/audit-archive/audit/s3test/segments/${c}`), `${c} archived: ${keys}`);
    assert.ok(keys.some((k) => /\/checkpoints\/\d{20}\.cp$/.test(k)), 'checkpoints archived');
    // what left the gateway
    const retainMin = Date.now() + 2556 * 86400e3;
    const retainMax = Date.now() + 2558 * 86400e3;
    for (const s of seen) {
      assert.equal(s.headers['x-amz-object-lock-mode'], 'COMPLIANCE');
      const until = Date.parse(s.headers['x-amz-object-lock-retain-until-date']);
      assert.ok(until > retainMin && until < retainMax, `retain-until ${s.headers['x-amz-object-lock-retain-until-date']}`);
      assert.equal(s.headers['content-md5'], s.bodyMd5);
      assert.equal(s.headers['x-amz-content-sha256'], s.bodySha);
      assert.match(s.headers.authorization, /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[^,]*x-amz-object-lock-mode[^,]*, Signature=[0-9a-f]{64}$/);
      assert.equal(s.headers['x-amz-security-token'], SESSION_TOKEN);
      assert.match(s.headers.authorization, /SignedHeaders=[^,]*x-amz-security-token/);
    }
    // nothing was deleted locally (no local retention configured) but the checkpoints inside
    // closed segments, once archived; the one at each segment's end stays (keep calling: each
    // checkpoint written wakes the shipper, whose next pass removes what the last one shipped)
    const firsts = () => readdirSync(join(logDir, 'segments')).map((n) => Number(n.slice(0, 20)));
    const cpOf = (k) => Number(k.match(/\/checkpoints\/(\d{20})\.cp$/)?.[1] ?? NaN);
    const interior = (size, fs) => size < Math.max(...fs) && !fs.includes(size);
    let gone = [];
    for (let i = 0; i < 100 && !gone.length; i++) { // up to ~20 s
      await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: { i } }), { session, version });
      await sleep(200);
      const fs = firsts();
      gone = seen.map((s) => cpOf(s.url)).filter((n) => interior(n, fs) &&
        !existsSync(join(logDir, 'checkpoints', `${String(n).padStart(20, '0')}.cp`)));
    }
    assert.ok(gone.length > 0, 'archived checkpoints inside closed segments left the folder');
    for (const f of firsts().slice(1)) // the end of every closed segment is still signed here
      assert.ok(existsSync(join(logDir, 'checkpoints', `${String(f).padStart(20, '0')}.cp`)), `${f}`);
    for (const c of closed) assert.ok(existsSync(join(logDir, 'segments', c)));
    const shipped = readFileSync(join(logDir, 'shipped'), 'utf8');
    for (const c of closed) assert.ok(shipped.includes(`segments/${c}`));
    // a clean stop closes and ships the last segment too
    await gw.stop();
    stopped = true;
    const all = readdirSync(join(logDir, 'segments'));
    assert.ok(all.every((n) => n.endsWith('.jsonl')), `all closed after stop: ${all}`);
    // download the archive (s3rver serves anonymous GETs) and verify it offline
    const arch = join(dir, 'download', 's3test');
    mkdirSync(join(arch, 'segments'), { recursive: true });
    mkdirSync(join(arch, 'checkpoints'), { recursive: true });
    const list = await new Promise((res, rej) => {
      http.get({ host: '127.0.0.1', port: s3port, path: '/audit-archive?prefix=audit/s3test/' }, (r) => {
        let b = '';
        r.on('data', (c) => (b += c));
        r.on('end', () => res(b));
      }).on('error', rej);
    });
    const objKeys = [...list.matchAll(/<Key>([^<]+)<\/Key>/g)].map((x) => x[1]);
    assert.ok(objKeys.length >= all.length);
    for (const k of objKeys) {
      const body = await new Promise((res, rej) => {
        http.get({ host: '127.0.0.1', port: s3port, path: `/audit-archive/${k}` }, (r) => {
          const ch = [];
          r.on('data', (c) => ch.push(c));
          r.on('end', () => res(Buffer.concat(ch)));
        }).on('error', rej);
      });
      const rel = k.replace('audit/s3test/', '');
      writeFileSync(join(arch, rel), body);
      if (!existsSync(join(logDir, rel)) && interior(cpOf(`/${rel}`), firsts())) continue; // thinned
      assert.ok(body.equals(readFileSync(join(logDir, rel))), `${rel} identical in the archive`);
    }
    const v = spawnSync(GW_BIN, ['audit', 'verify', '--dir', arch, '--keys-file',
      join(dataDir, 'audit', 'verifier-keys'), '--json'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal(JSON.parse(v.stdout).ok, true);
  } finally {
    if (!stopped) await gw.stop();
  }
});

// A log that has been shipping for years has a long `shipped` list (a key per segment and per
// checkpoint: ~9,000 a day at one checkpoint every 10 s). The shipper reads it at start and
// adds to it after every upload; with 200,000 keys already acknowledged, a new segment must
// still reach the archive within seconds (the set used to be sorted again after every key:
// minutes of CPU at start for this many, hours for a few million). Only the keys of files still
// in the folder are kept (in memory, and in the file once they are the minority): the others
// name what is only in the archive now, and a log's start must not grow with its age.
test('a long shipped history does not hold up the archive', async (t) => {
  if (!S3rver) {
    t.skip('s3rver not installed (scripts/setup.sh installs tests/node/s3rver)');
    return;
  }
  up = true;
  const dataDir = join(dir, 'data-long');
  const logDir = join(dataDir, 'audit', 's3long');
  mkdirSync(logDir, { recursive: true });
  // segments and checkpoints of this log still in the folder, acknowledged long ago: written by
  // a first run without the archive
  const first = await startGateway({ sets: { GW_DATA_DIR: dataDir, GW_AUDIT_LOG_ID: 's3long' } });
  try {
    const { session, version } = await initSession(first);
    await post(first, rpc('tools/call', { name: 'test_simple_text', arguments: {} }), { session, version });
  } finally {
    await first.stop();
  }
  const keep = [...readdirSync(join(logDir, 'segments')).map((n) => `segments/${n}`),
                ...readdirSync(join(logDir, 'checkpoints')).map((n) => `checkpoints/${n}`)];
  assert.ok(keep.length >= 2, `${keep}`);
  const old = keep.map((k) => `audit/s3long/${k}`);
  for (let i = 0; i < 200000; i++) {
    const n = String(900000000 + i).padStart(20, '0');
    old.push(i % 2 ? `audit/s3long/checkpoints/${n}.cp` : `audit/s3long/segments/${n}.jsonl`);
  }
  writeFileSync(join(logDir, 'shipped'), old.join('\n') + '\n');
  const before = seen.length;
  const gw = await startGateway({ sets: archiveSets(dataDir, 's3long') });
  try {
    const { session, version } = await initSession(gw);
    const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: {} }),
                           { session, version });
    assert.ok(messagesOf(res)[0].result);
    let mine = [];
    for (let i = 0; i < 150; i++) { // up to 15 s: a segment closes after 1 s, then it is shipped
      await sleep(100);
      mine = seen.slice(before).map((s) => s.url).filter((u) => u.includes('/s3long/segments/'));
      if (mine.length) break;
    }
    assert.ok(mine.length > 0, 'a new segment reached the archive');
    const shipped = readFileSync(join(logDir, 'shipped'), 'utf8').trimEnd().split('\n');
    assert.ok(shipped.length < 100, `compacted to the folder's files: ${shipped.length} keys`);
    assert.ok(shipped.includes(mine[0].replace('/audit-archive/', '')), 'its key recorded');
    // the files already acknowledged were not uploaded again
    for (const k of keep) {
      assert.ok(shipped.includes(`audit/s3long/${k}`), `${k} still recorded as shipped`);
      assert.ok(!seen.slice(before).some((s) => s.url.endsWith(`/s3long/${k}`)), `${k} not sent again`);
    }
  } finally {
    await gw.stop();
  }
});
