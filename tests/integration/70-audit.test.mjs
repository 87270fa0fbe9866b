// tests/integration/70-audit.test.mjs
// The audit trail of a real `mcpgw serve` (src/audit, docs/audit.md), checked against an
// independent implementation of the specifications (lib/tlog-ref.mjs: RFC 6962/9162 Merkle
// hashing and proof verification, RFC 8785 JCS, C2SP signed notes with Node's Ed25519) and
// against the OpenSSL command line:
//   - every exchange (initialize, tools/call ok / tool error / unknown tool, transport
//     rejections) leaves one record; records are canonical JCS; the hash chain links them;
//   - the tree head recomputed here equals every signed checkpoint's root; signatures verify
//     with the key published at /.well-known/mcpgw-audit-keys (Node and `openssl pkeyutl`);
//   - `mcpgw audit proof` inclusion and consistency proofs verify with the reference verifier;
//   - PII in arguments never reaches the trail or the log (pseudonyms instead, consistently);
//   - edits, deletions, reordering and truncation of a copy are each detected and located by
//     `mcpgw audit verify`;
//   - /metrics (on the admin listener) passes `promtool check metrics` when promtool exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { GW_BIN, initSession, messagesOf, post, request, rpc, startGateway } from './lib/gw.mjs';
import {
  jcs, leafHash, mth, nodeHash, openCheckpoint, parseVkey, verifyConsistency, verifyInclusion,
} from './lib/tlog-ref.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PHONE = '9876543210';
const AADHAAR = '234123412346'; // Verhoeff-valid
const EMAIL = 'ravi.kumar@example.in';
const PAN = 'ABCPE1234F';
const CARD = '4111 1111 1111 1111';

let gw;
let dataDir;
let adminPort = 0;

function logDirOf(root) {
  const audit = join(root, 'audit');
  const logs = readdirSync(audit).filter((n) => existsSync(join(audit, n, 'segments')));
  assert.equal(logs.length, 1, `one log expected in ${audit}: ${logs}`);
  return join(audit, logs[0]);
}

/** Every record line of a log folder, in file order. */
function readRecords(logDir) {
  const segs = readdirSync(join(logDir, 'segments')).sort();
  const lines = [];
  for (const s of segs) {
    // the open segment is zero-filled ahead of its records: its data ends at the first NUL
    const text = readFileSync(join(logDir, 'segments', s), 'utf8').split('\0')[0];
    const parts = text.split('\n');
    parts.shift(); // header
    for (const l of parts) if (l) lines.push(l);
  }
  return lines;
}

function cli(args, env = {}) {
  const r = spawnSync(GW_BIN, ['audit', ...args], {
    encoding: 'utf8',
    env: { ...process.env, GW_DATA_DIR: dataDir, ...env },
    timeout: 60000,
  });
  return r;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-it-'));
  const portDir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-port-'));
  gw = await startGateway({
    sets: {
      GW_DATA_DIR: dataDir,
      GW_AUDIT_CHECKPOINT_EVENTS: '4',
      GW_ADMIN_LISTEN: '127.0.0.1:0',
      GW_ADMIN_DEV_MODE: 'true', // loopback dev mode: the admin API without credentials
      GW_LOG_LEVEL: 'debug',
      GW_AUDIT_RESPONSE_DIGEST: 'true',
    },
  });
  void portDir;
});

after(async () => {
  if (gw) await gw.stop();
  if (dataDir && !process.env.E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
});

describe('audit trail', () => {
  const requestIds = [];

  test('exchanges produce canonical, chained records with masked PII', async () => {
    const { session, version } = await initSession(gw);
    const args = { message: `call +91 ${PHONE.slice(0, 5)} ${PHONE.slice(5)}`, phone: PHONE, email: EMAIL,
                   note: `aadhaar ${AADHAAR}, pan ${PAN}, card ${CARD}`, mobile_number: 12345,
                   booking_date: '2026-07-28', amount: 1234.5, booking_id: 'BK-20260728-0001' };
    for (let i = 0; i < 6; i++) {
      const rid = `it-audit-${process.pid}-${i}`;
      requestIds.push(rid);
      const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: args }),
                             { session, version, headers: { 'X-Request-Id': rid } });
      assert.equal(res.status, 200, res.body);
      assert.ok(messagesOf(res)[0].result, res.body);
    }
    const unknown = await post(gw, rpc('tools/call', { name: 'no_such_tool', arguments: {} }),
                               { session, version });
    assert.ok(messagesOf(unknown)[0].error, unknown.body);
    const rej = await request(gw.port, { method: 'POST', path: '/mcp', body: '{}',
                                         headers: { 'Content-Type': 'text/plain' } });
    assert.equal(rej.status, 415);

    await sleep(200);
    const lines = readRecords(logDirOf(dataDir));
    const records = lines.map((l) => JSON.parse(l));
    // canonical and chained, numbered without gaps
    let prev = '';
    records.forEach((r, i) => {
      assert.equal(jcs(r), lines[i], `record ${i} is not JCS`);
      assert.equal(r.seq, i);
      assert.equal(r.prev, prev, `record ${i} prev`);
      prev = leafHash(lines[i]).toString('base64');
    });
    const calls = records.filter((r) => r.event.method === 'tools/call');
    assert.ok(calls.length >= 7, `tool calls recorded: ${calls.length}`);
    for (const rid of requestIds)
      assert.ok(records.some((r) => r.event.request_id === rid), `record of ${rid}`);
    assert.ok(records.some((r) => r.event.method === 'initialize'));
    assert.ok(records.some((r) => r.event.kind === 'transport' && r.event.http_status === 415));
    const unk = calls.find((r) => r.event.tool === 'no_such_tool');
    assert.ok(unk && unk.event.outcome === 'error', JSON.stringify(unk));
    // PII: never raw, pseudonymised consistently, ordinary fields untouched
    const text = lines.join('\n');
    for (const raw of [PHONE, AADHAAR, EMAIL, PAN, '4111111111111111', CARD])
      assert.ok(!text.includes(raw), `raw PII in the trail: ${raw}`);
    const a0 = calls[0].event.args;
    assert.match(a0.message, /^call \[phone:[a-p]{16}\]$/);
    assert.match(a0.phone, /^\[phone:[a-p]{16}\]$/);
    assert.match(a0.email, /^\[email:[a-p]{16}\]$/);
    assert.match(a0.mobile_number, /^\[mobilenumber:[a-p]{16}\]$/);
    assert.match(a0.note, /\[aadhaar:[a-p]{16}\].*\[pan:[a-p]{16}\].*\[card:[a-p]{16}\]/);
    assert.equal(a0.booking_date, '2026-07-28');
    assert.equal(a0.amount, 1234.5);
    assert.equal(a0.booking_id, 'BK-20260728-0001');
    assert.equal(calls[1].event.args.message, a0.message, 'same value, same pseudonym');
    assert.match(calls[0].event.args_digest, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.match(calls[0].event.response_digest, /^hmac-sha256:[0-9a-f]{64}$/);
    // and the diagnostic log never shows them either
    for (const raw of [PHONE, AADHAAR, EMAIL, PAN])
      assert.ok(!gw.stderr().includes(raw), `raw PII in the log: ${raw}`);
  });

  test('signed checkpoints match the independently recomputed tree (Node + openssl)', async () => {
    const keysRes = await request(gw.port, { path: '/.well-known/mcpgw-audit-keys' });
    assert.equal(keysRes.status, 200);
    const vkeys = keysRes.body.trim().split('\n').map(parseVkey);
    const logDir = logDirOf(dataDir);
    // wait for a checkpoint covering everything so far
    let cps = [];
    for (let i = 0; i < 100; i++) {
      cps = readdirSync(join(logDir, 'checkpoints')).sort();
      if (cps.length >= 3) break;
      await sleep(100);
    }
    const lines = readRecords(logDir);
    const leaves = lines.map(leafHash);
    let checked = 0;
    for (const name of cps) {
      const note = readFileSync(join(logDir, 'checkpoints', name), 'utf8');
      const cp = openCheckpoint(note, vkeys);
      assert.deepEqual(cp.signedBy, [vkeys[0].name], `signature of ${name}`);
      assert.equal(cp.size, Number(name.slice(0, 20)));
      assert.ok(cp.origin.startsWith('mcpgw.msil/audit/'));
      if (cp.size <= leaves.length) {
        assert.ok(mth(leaves.slice(0, cp.size)).equals(cp.root), `root of checkpoint ${cp.size}`);
        checked++;
      }
    }
    assert.ok(checked >= 2, `checkpoints checked: ${checked}`);
    // the OpenSSL command line agrees on the latest signature
    const note = readFileSync(join(logDir, 'checkpoint'), 'utf8');
    const cp = openCheckpoint(note, vkeys);
    const sig = Buffer.from(note.slice(note.indexOf('\n\n') + 2).trim().split(' ')[2], 'base64');
    const tmp = mkdtempSync(join(tmpdir(), 'mcpgw-audit-ossl-'));
    writeFileSync(join(tmp, 'body'), cp.body);
    writeFileSync(join(tmp, 'sig'), sig.subarray(4));
    writeFileSync(join(tmp, 'pub.pem'), vkeys[0].key.export({ type: 'spki', format: 'pem' }));
    const ok = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(tmp, 'pub.pem'),
      '-rawin', '-in', join(tmp, 'body'), '-sigfile', join(tmp, 'sig')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    writeFileSync(join(tmp, 'body'), cp.body.replace(/\n\d+\n/, '\n999\n'));
    const bad = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(tmp, 'pub.pem'),
      '-rawin', '-in', join(tmp, 'body'), '-sigfile', join(tmp, 'sig')], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0, 'a changed checkpoint must not verify');
    rmSync(tmp, { recursive: true, force: true });
  });

  test('inclusion and consistency proofs verify with the reference verifier', () => {
    const logDir = logDirOf(dataDir);
    const cps = readdirSync(join(logDir, 'checkpoints')).sort().map((n) => Number(n.slice(0, 20)))
      .filter((n) => n > 0);
    const size = cps[cps.length - 1];
    for (const seq of [0, Math.floor(size / 2), size - 1]) {
      const r = cli(['proof', '--dir', logDir, '--seq', String(seq), '--size', String(size)]);
      assert.equal(r.status, 0, r.stderr);
      const p = JSON.parse(r.stdout);
      const leaf = leafHash(p.record);
      assert.ok(leaf.equals(Buffer.from(p.leaf_hash, 'base64')));
      const proof = p.proof.map((h) => Buffer.from(h, 'base64'));
      const cp = openCheckpoint(p.checkpoint, [parseVkey(readFileSync(join(dataDir, 'audit', 'verifier-keys'), 'utf8').split('\n')[0])]);
      assert.ok(verifyInclusion(seq, size, leaf, proof, cp.root), `inclusion of ${seq} in ${size}`);
      assert.ok(!verifyInclusion(seq, size, leafHash(p.record + ' '), proof, cp.root));
    }
    for (let i = 0; i + 1 < cps.length; i++) {
      const r = cli(['proof', '--dir', logDir, '--consistency', String(cps[i]), '--to', String(cps[i + 1])]);
      assert.equal(r.status, 0, r.stderr);
      const p = JSON.parse(r.stdout);
      const proof = p.proof.map((h) => Buffer.from(h, 'base64'));
      const r1 = Buffer.from(p.first_root, 'base64');
      const r2 = Buffer.from(p.second_root, 'base64');
      assert.ok(verifyConsistency(cps[i], cps[i + 1], r1, r2, proof), `consistency ${cps[i]}->${cps[i + 1]}`);
      assert.ok(!verifyConsistency(cps[i], cps[i + 1], r2, r1, proof));
    }
  });

  test('mcpgw audit verify passes, search finds records by request id and subject', () => {
    const r = cli(['verify', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.ok, true, JSON.stringify(rep.problems));
    const s = cli(['search', '--request-id', requestIds[2]]);
    assert.equal(s.status, 0, s.stderr);
    const found = s.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(found.length, 1);
    assert.equal(found[0].event.request_id, requestIds[2]);
  });

  test('mcpgw audit export copies the live log: it verifies, without the zero fill', () => {
    const out = mkdtempSync(join(tmpdir(), 'mcpgw-audit-export-'));
    const live = JSON.parse(cli(['verify', '--json']).stdout);
    const r = cli(['export', '--out', out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const name = logDirOf(dataDir).split('/').pop();
    const dir = join(out, name);
    for (const seg of readdirSync(join(dir, 'segments'))) {
      const bytes = readFileSync(join(dir, 'segments', seg));
      assert.equal(bytes.indexOf(0), -1, `${seg}: no NUL byte in an exported segment`);
      assert.equal(bytes[bytes.length - 1], 0x0a, `${seg}: ends with a whole record`);
    }
    const v = cli(['verify', '--dir', dir, '--keys-file', join(dataDir, 'audit', 'verifier-keys'), '--json']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const rep = JSON.parse(v.stdout);
    assert.ok(rep.records >= live.records, `${rep.records} records exported, ${live.records} seen live`);
    assert.ok(rep.checkpoints >= 1, JSON.stringify(rep));
    rmSync(out, { recursive: true, force: true });
  });

  test('the audit writer and log sink run as batch threads, the workers do not', () => {
    const policyOf = {};
    for (const tid of readdirSync(`/proc/${gw.proc.pid}/task`)) {
      const stat = readFileSync(`/proc/${gw.proc.pid}/task/${tid}/stat`, 'utf8');
      const comm = readFileSync(`/proc/${gw.proc.pid}/task/${tid}/comm`, 'utf8').trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state)
      policyOf[comm] = Number(fields[41 - 3]); // field 41: policy (0 normal, 3 batch)
    }
    assert.equal(policyOf['gw-audit'], 3, JSON.stringify(policyOf));
    assert.equal(policyOf['gw-log'], 3, JSON.stringify(policyOf));
    assert.equal(policyOf['gw-worker'], 0, JSON.stringify(policyOf));
  });

  test('edits, deletions, reordering and truncation are detected and located', async () => {
    const logDir = logDirOf(dataDir);
    const work = mkdtempSync(join(tmpdir(), 'mcpgw-audit-tamper-'));
    const vk = join(dataDir, 'audit', 'verifier-keys');
    const verify = (dir) => {
      const r = cli(['verify', '--dir', dir, '--keys-file', vk, '--json']);
      return { status: r.status, rep: JSON.parse(r.stdout) };
    };
    const variant = (name, mutate) => {
      const dir = join(work, name);
      cpSync(logDir, dir, { recursive: true });
      const segDir = join(dir, 'segments');
      const seg = readdirSync(segDir).sort()[0];
      const file = join(segDir, seg);
      const lines = readFileSync(file, 'utf8').split('\0')[0].split('\n'); // without the zero fill
      writeFileSync(file, mutate(lines).join('\n'));
      return dir;
    };
    // record k is line k+1 (line 0 is the header)
    const k = 3;
    const edited = variant('edited', (ls) => {
      ls[k + 1] = ls[k + 1].replace('"outcome":"result"', '"outcome":"error"').replace('"v":1', '"v":2');
      return ls;
    });
    let { status, rep } = verify(edited);
    assert.equal(status, 1);
    assert.ok(rep.problems.some((p) => p.kind === 'edited' && p.seq === k), JSON.stringify(rep.problems));

    const deleted = variant('deleted', (ls) => ls.filter((_, i) => i !== k + 1));
    ({ status, rep } = verify(deleted));
    assert.equal(status, 1);
    assert.ok(rep.problems.some((p) => p.kind === 'missing' && p.seq === k), JSON.stringify(rep.problems));

    const reordered = variant('reordered', (ls) => {
      [ls[k + 1], ls[k + 2]] = [ls[k + 2], ls[k + 1]];
      return ls;
    });
    ({ status, rep } = verify(reordered));
    assert.equal(status, 1);
    assert.ok(rep.problems.some((p) => p.kind === 'reordered' && (p.seq === k || p.seq === k + 1)), JSON.stringify(rep.problems));

    const truncated = variant('truncated', (ls) => ls.slice(0, 1 + 2).concat(['']));
    ({ status, rep } = verify(truncated));
    assert.equal(status, 1);
    assert.ok(rep.problems.some((p) => p.kind === 'truncated' && p.seq === 2), JSON.stringify(rep.problems));

    // an edit that rewrites the whole chain after it is still caught by the signed checkpoints
    const rewritten = variant('rewritten', (ls) => {
      const recs = ls.slice(1).filter(Boolean).map((l) => JSON.parse(l));
      recs[k].event.peer = '10.9.9.9';
      let prev = '';
      const out = recs.map((r) => {
        r.prev = prev;
        const line = jcs(r);
        prev = leafHash(line).toString('base64');
        return line;
      });
      return [ls[0], ...out, ''];
    });
    ({ status, rep } = verify(rewritten));
    assert.equal(status, 1);
    assert.ok(rep.problems.some((p) => p.kind === 'checkpoint_mismatch'), JSON.stringify(rep.problems));
    // the untouched copy still verifies
    const clean = variant('clean', (ls) => ls);
    ({ status, rep } = verify(clean));
    assert.equal(status, 0, JSON.stringify(rep.problems));
    rmSync(work, { recursive: true, force: true });
  });

  test('admin changes are recorded before the reply; the admin API serves the audit', async () => {
    // the admin port is not known from startGateway: read it from the log line
    const m = gw.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
    assert.ok(m, 'admin listener line');
    adminPort = Number(m[1]);
    const body = JSON.stringify({ name: 'audit-bundle', description: `owner ${EMAIL}` });
    const res = await request(adminPort, { method: 'POST', path: '/admin/api/bundles', body,
      headers: { 'Content-Type': 'application/json', 'X-Change-Reason': 'audit test',
                 'X-Request-Id': 'it-admin-write' } });
    assert.ok(res.status === 201 || res.status === 200, res.body);
    // durable before the reply: the record is already on disk
    const recs = readRecords(logDirOf(dataDir)).map((l) => JSON.parse(l));
    const rec = recs.find((r) => r.event.request_id === 'it-admin-write');
    assert.ok(rec, 'admin record');
    assert.equal(rec.event.kind, 'admin');
    assert.equal(rec.event.action, 'bundle.create');
    assert.equal(rec.event.reason, 'audit test');
    assert.equal(rec.event.status, res.status);
    assert.match(rec.event.body.description, /^owner \[email:[a-p]{16}\]$/);
    const verify = await request(adminPort, { path: '/admin/api/audit/verify' });
    assert.equal(verify.status, 200);
    assert.equal(JSON.parse(verify.body).ok, true, verify.body);
    const search = await request(adminPort, { path: '/admin/api/audit/search?requestId=it-admin-write' });
    assert.equal(search.status, 200);
    assert.equal(JSON.parse(search.body).records[0].event.action, 'bundle.create');
    const proof = await request(adminPort, { path: '/admin/api/audit/proof?seq=0' });
    assert.equal(proof.status, 200, proof.body);
    assert.ok(Array.isArray(JSON.parse(proof.body).proof));
    const bad = await request(adminPort, { path: '/admin/api/audit/proof' });
    assert.equal(bad.status, 400);
    const keys = await request(adminPort, { path: '/admin/api/audit/keys' });
    assert.equal(JSON.parse(keys.body).keys.length, 1);
    // the admin console's contract (ui/admin/src/pages/Audit.tsx)
    const page = JSON.parse((await request(adminPort, { path: '/admin/api/audit?limit=3&tool=test_simple_text&order=asc' })).body);
    assert.equal(page.items.length, 3);
    assert.ok(page.next, 'a next cursor');
    assert.equal(page.items[0].decision, 'allow');
    assert.match(page.items[0].arguments.email, /^\[email:/);
    const page2 = JSON.parse((await request(adminPort, { path: `/admin/api/audit?limit=3&tool=test_simple_text&after=${page.next}` })).body);
    assert.ok(page2.items[0].seq > page.items[2].seq);
    // by default newest first; before= pages further back, down to the oldest
    const all = JSON.parse((await request(adminPort, { path: '/admin/api/audit?limit=1000&tool=test_simple_text&order=asc' })).body).items.map((x) => x.seq);
    const back = [];
    let cursor = null;
    for (let i = 0; i < 100; i++) {
      const p = JSON.parse((await request(adminPort, { path: `/admin/api/audit?limit=2&tool=test_simple_text${cursor ? `&before=${cursor}` : ''}` })).body);
      back.push(...p.items.map((x) => x.seq));
      if (!p.next) break;
      cursor = p.next;
    }
    assert.deepEqual(back, [...all].reverse(), 'newest-first pages, in order, none missed or repeated');
    assert.equal((await request(adminPort, { path: '/admin/api/audit?after=1&before=5' })).status, 400);
    const one = JSON.parse((await request(adminPort, { path: `/admin/api/audit/${page.items[1].id}` })).body);
    assert.equal(one.seq, page.items[1].seq);
    const pr = JSON.parse((await request(adminPort, { path: `/admin/api/audit/${one.id}/proof` })).body);
    assert.equal(pr.valid, true);
    // fold the path by its sides: the reference root
    let h = Buffer.from(pr.leafHash, 'base64');
    for (const step of pr.path) {
      const x = Buffer.from(step.hash, 'base64');
      h = step.side === 'left' ? nodeHash(x, h) : nodeHash(h, x);
    }
    assert.equal(h.toString('base64'), pr.checkpoint.hash);
    const before = JSON.parse((await request(adminPort, { path: '/admin/api/audit/chain' })).body);
    assert.ok(['ok', 'unknown'].includes(before.verification.status)); // GET verify above may have run
    assert.ok(before.head.seq >= one.seq);
    assert.ok(before.checkpoint.seq > 0 && before.checkpoint.signature.startsWith('\u2014 '));
    const v = await request(adminPort, { method: 'POST', path: '/admin/api/audit/verify', body: '{}',
                                          headers: { 'Content-Type': 'application/json' } });
    assert.equal(v.status, 200, v.body);
    const after = JSON.parse((await request(adminPort, { path: '/admin/api/audit/chain' })).body);
    assert.equal(after.verification.status, 'ok');
    // one verification at a time, on its own thread: wait=0 answers with its progress (202),
    // and /audit/chain follows it to its outcome
    const bg = await request(adminPort, { method: 'POST', path: '/admin/api/audit/verify?wait=0',
                                           body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bg.status, 202, bg.body);
    const prog = JSON.parse(bg.body);
    assert.equal(prog.state, 'running');
    assert.equal(prog.run, after.verification.run + 1, 'a new run after the last one ended');
    assert.match(prog.next, /audit\/chain/);
    let ch = null;
    for (let i = 0; i < 200; i++) {
      ch = JSON.parse((await request(adminPort, { path: '/admin/api/audit/chain' })).body);
      if (!ch.verification.running) break;
      await sleep(25);
    }
    assert.equal(ch.verification.status, 'ok');
    assert.equal(ch.verification.run, prog.run);
    const tooLong = await request(adminPort, { path: '/admin/api/audit/verify?wait=61' });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body, /wait must be 0\.\.60/);
    const csv = await request(adminPort, { path: '/admin/api/audit/export?format=csv&tool=test_simple_text' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers['content-type'], /^text\/csv/);
    assert.ok(csv.body.startsWith('seq,time,subject'));
    const jl = await request(adminPort, { path: '/admin/api/audit/export?format=jsonl' });
    assert.equal(jl.body.trim().split('\n').length, readRecords(logDirOf(dataDir)).length);
    assert.equal((await request(adminPort, { path: '/admin/api/audit/99999999' })).status, 404);
  });

  test('/metrics on the admin listener passes promtool', async (t) => {
    const res = await request(adminPort, { path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /mcpgw_requests_total\{method="tools\/call",outcome="result"\} \d+/);
    assert.match(res.body, /mcpgw_tool_calls_total\{tool="test_simple_text",decision="allow",outcome="ok"\} 6/);
    assert.match(res.body, /mcpgw_audit_records_total \d+/);
    assert.match(res.body, /mcpgw_audit_commit_lag_seconds_bucket\{le="\+Inf"\} \d+/);
    assert.match(res.body, /mcpgw_transport_rejections_total\{status="415"\} 1/);
    const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
    if (!promtool) {
      t.skip('promtool not installed (Debian package prometheus)');
      return;
    }
    const r = spawnSync(promtool, ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

test('authentication refusals are recorded (outcome refused, no credential kept)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-auth-'));
  const g = await startGateway({ sets: { GW_DATA_DIR: dir, GW_AUTH_MODE: 'required' } });
  try {
    const res = await request(g.port, { method: 'POST', path: '/mcp',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
                 Authorization: 'Bearer not-a-valid-token-9876543210', 'X-Request-Id': 'it-refused' },
      body: JSON.stringify(rpc('tools/list')) });
    assert.equal(res.status, 401);
    await sleep(200);
    const recs = readRecords(logDirOf(dir)).map((l) => JSON.parse(l));
    const rec = recs.find((r) => r.event.request_id === 'it-refused');
    assert.ok(rec, 'refusal recorded');
    assert.equal(rec.event.outcome, 'refused');
    assert.equal(rec.event.auth.status, 401);
    assert.equal(rec.event.error.code, -32001);
    assert.ok(!JSON.stringify(rec).includes('not-a-valid-token'), 'the credential is not recorded');
  } finally {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an audit export larger than GW_ADMIN_EXPORT_MAX_BYTES is refused with what to do, never cut short', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-export-'));
  const g = await startGateway({ sets: { GW_DATA_DIR: dir, GW_ADMIN_LISTEN: '127.0.0.1:0', GW_ADMIN_DEV_MODE: 'true',
                                         GW_ADMIN_EXPORT_MAX_BYTES: '65536' } });
  try {
    let port = 0;
    for (let i = 0; i < 100 && !port; i++) {
      const m = g.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
      if (m) port = Number(m[1]); else await sleep(50);
    }
    assert.ok(port, 'admin listener line');
    const { session, version } = await initSession(g);
    const filler = 'x'.repeat(1500); // each record carries its (masked) arguments: ~2 KB
    for (let i = 0; i < 40; i++) {
      const res = await post(g, rpc('tools/call', { name: 'test_simple_text', arguments: { i, filler } }), { session, version,
        headers: { 'X-Request-Id': `it-export-${i}` } });
      assert.ok(messagesOf(res)[0].result);
    }
    const records = readRecords(logDirOf(dir));
    const bytes = records.reduce((a, l) => a + l.length + 1, 0);
    assert.ok(bytes > 65536, `the log holds ${bytes} bytes`);
    const big = await request(port, { path: '/admin/api/audit/export?format=jsonl' });
    assert.equal(big.status, 422, big.body.slice(0, 200));
    const e = JSON.parse(big.body).error;
    assert.equal(e.code, 'too_large');
    assert.match(e.message, /would pass 65536 bytes \(GW_ADMIN_EXPORT_MAX_BYTES\): narrow it with from=\/to=/);
    // the CSV of the same records (no arguments, ~200 bytes a row) fits: every record is in it
    const csv = await request(port, { path: '/admin/api/audit/export?format=csv' });
    assert.equal(csv.status, 200);
    assert.ok(csv.body.length < 65536);
    assert.equal(csv.body.trim().split('\n').length - 1, readRecords(logDirOf(dir)).length);
    // narrowed, it is whole
    const one = await request(port, { path: '/admin/api/audit/export?format=jsonl&requestId=it-export-7' });
    assert.equal(one.status, 200);
    const lines = one.body.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).event.request_id, 'it-export-7');
  } finally {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replicas that share a folder and start together agree on one generated signing key', async () => {
  // each round: three processes find no key, each creates one; exactly one wins and the others
  // read it whole (in CI, under load, a loser found the winner's file created but still empty
  // and exited; the key is now written under a name of its own and linked into place). A
  // regression guard: the window is a slow fsync, which these rounds do not force.
  for (let round = 0; round < 3; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-keyrace-'));
    const started = await Promise.allSettled([1, 2, 3].map((i) => startGateway({
      sets: { GW_DATA_DIR: dir, GW_AUDIT_LOG_ID: `race-${i}`, DATABASE_URL: `sqlite://${join(dir, `r${i}.db`)}` },
    })));
    try {
      for (const s of started) assert.equal(s.status, 'fulfilled', String(s.reason));
      const key = readFileSync(join(dir, 'audit', 'signing.key'), 'utf8');
      assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.deepEqual(readdirSync(join(dir, 'audit')).filter((n) => n.endsWith('.tmp')), [], 'no work file left');
      const vkeys = readFileSync(join(dir, 'audit', 'verifier-keys'), 'utf8').trim().split('\n');
      assert.equal(new Set(vkeys).size, 1, `one verifier key: ${vkeys}`);
    } finally {
      await Promise.all(started.filter((s) => s.status === 'fulfilled').map((s) => s.value.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
