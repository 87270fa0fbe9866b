// tests/integration/75-audit-retention.test.mjs
// The upkeep of the audit trail's PostgreSQL copy against the WORM archive (audit_upkeep.c).
// Salvage: the log of a replica killed without closing it (its open segment never shipped) is
// rebuilt from the database by another replica once it has been silent long enough, uploaded
// under its own prefix with its checkpoints, and the archive's copy verifies whole.
// Retention (GW_AUDIT_DATABASE_RETENTION_DAYS): rows
// older than the retention are deleted only below what the WORM archive acknowledged, as a
// prefix of each log, by one replica for every log (a stopped replica's included):
//   - the setting is refused without an archive;
//   - a stopped replica's log, archived whole, loses its old rows and keeps its young ones;
//   - a running replica's records that are old but not archived yet (its open segment) stay;
//   - /audit/logs shows what the archive holds and what was pruned; a record kept is proven
//     from the database as before the pruning (over the compact range kept of what was
//     deleted), and the log exported and verified from its first record kept; the proof of a
//     deleted record from the database is refused with the reason and the way to the archive.
// Old records are written by a gateway under libfaketime (three days back); one replica's rows
// are instead aged by rewriting their time stamps in the database, which the retention notices
// (the rows it deletes no longer chain) and proofs from the database then refuse.
// Needs PostgreSQL (scripts/test.d/77-audit-pg.sh sets GW_TEST_PG_URL) and s3rver.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { GW_BIN, REPO, initSession, messagesOf, post, request, rpc, sleep, startGateway } from './lib/gw.mjs';

const PG = process.env.GW_TEST_PG_URL;
const require = createRequire(import.meta.url);
let S3rver = null;
try {
  S3rver = require(join(REPO, 'tests/node/s3rver/node_modules/s3rver'));
} catch {
  S3rver = null;
}
// old records are written by a gateway whose clock libfaketime (Debian's faketime) sets back
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const skip = (!PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)') ||
  (!S3rver && 's3rver not installed (scripts/setup.sh installs tests/node/s3rver)') ||
  (!existsSync(FAKETIME_LIB) && 'libfaketime not installed (scripts/setup.sh installs faketime)');
const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-retention-'));
let s3;
let s3port;

before(async () => {
  if (skip) return;
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3'),
                    configureBuckets: [{ name: 'audit-archive' }] });
  s3port = (await s3.run()).port;
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
});

after(async () => {
  if (s3) await s3.close();
  if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
});

const sql = (q) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qAt', PG, '-c', q], { encoding: 'utf8' }).trim();
const num = (q) => Number(sql(q));
const key = join(dir, 'signing.pem'); // the replicas share the signing key (production: one secret)
const archive = (logId) => ({
  GW_DATA_DIR: join(dir, logId),
  GW_AUDIT_SIGNING_KEY_FILE: key,
  GW_AUDIT_LOG_ID: logId,
  GW_AUDIT_DATABASE_URL: PG,
  GW_AUDIT_SEGMENT_MAX_BYTES: '4096', // a segment closes every few records
  GW_AUDIT_CHECKPOINT_SECONDS: '1',
  GW_AUDIT_S3_BUCKET: 'audit-archive',
  GW_AUDIT_S3_ENDPOINT: `http://127.0.0.1:${s3port}`,
  GW_AUDIT_S3_REGION: 'us-east-1',
  GW_AUDIT_S3_PATH_STYLE: 'true',
  GW_AUDIT_S3_ACCESS_KEY_ID: 'S3RVER',
  GW_AUDIT_S3_SECRET_ACCESS_KEY: 'S3RVER',
  GW_AUDIT_S3_RETRY_MAX_SECONDS: '1',
});
const calls = async (gw, n) => {
  const { session, version } = await initSession(gw);
  for (let i = 0; i < n; i++) {
    const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: { i } }), { session, version });
    assert.ok(messagesOf(res)[0].result);
  }
};
const until = async (what, fn, ms = 30000) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (fn()) return;
  assert.fail(`timed out waiting for ${what}`);
};
// rewrites the time stamps of the matching rows into 2001 (the generated event column follows)
const age = (where) => sql(`UPDATE audit_records SET record = regexp_replace(record, '"ts":"[0-9]{4}', '"ts":"2001') WHERE ${where}`);
const rows = (logId, where = 'true') => num(`SELECT count(*) FROM audit_records WHERE log_id = '${logId}' AND ${where}`);
const archived = (logId) => num(`SELECT coalesce((SELECT archived_upto FROM audit_archive WHERE log_id = '${logId}'), -1)`);
const pruned = (logId) => num(`SELECT coalesce((SELECT pruned_below FROM audit_archive WHERE log_id = '${logId}'), -1)`);

test('the database retention is refused without an archive', { skip }, async () => {
  const r = await startGateway({ sets: { GW_DATA_DIR: join(dir, 'noarch'), GW_AUDIT_DATABASE_URL: PG,
                                         GW_AUDIT_DATABASE_RETENTION_DAYS: '30' } }).then((g) => ({ g }), (e) => ({ e }));
  if (r.g) {
    await r.g.stop();
    assert.fail('GW_AUDIT_DATABASE_RETENTION_DAYS without GW_AUDIT_S3_BUCKET was accepted');
  }
  assert.match(String(r.e), /GW_AUDIT_DATABASE_RETENTION_DAYS needs GW_AUDIT_DATABASE_URL and GW_AUDIT_S3_BUCKET/);
});

test('old rows are pruned below what the archive holds, and only there', { skip }, async () => {
  // B: a replica that ran and stopped (a rollout): its log is closed and archived whole. Its
  // first records are three days old: written under libfaketime, before the archive was set
  // up (S3 would refuse requests signed three days ago), so that they are old and intact
  const { GW_AUDIT_S3_BUCKET: _, ...noArchive } = archive('retb');
  // (under ASan the preloaded library comes before its runtime: allowed for this one run)
  const asan = process.env.ASAN_OPTIONS ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS}:verify_asan_link_order=0` } : {};
  const old = await startGateway({ sets: noArchive, env: { LD_PRELOAD: FAKETIME_LIB, FAKETIME: '-3d', ...asan } });
  await calls(old, 3);
  await old.stop();
  const bOld = rows('retb');
  assert.ok(bOld >= 4 && num(`SELECT count(*) FROM audit_records WHERE log_id = 'retb' AND event->>'ts' < '${new Date(Date.now() - 2 * 86400e3).toISOString()}'`) === bOld,
            `retb's first ${bOld} records are old`);
  const b = await startGateway({ sets: archive('retb') });
  await calls(b, 6);
  await b.stop();
  const bTotal = rows('retb');
  assert.ok(bTotal >= bOld + 6, `records of retb: ${bTotal}`);
  assert.equal(archived('retb'), bTotal, 'a clean stop ships the last segment and says so');
  assert.equal(pruned('retb'), 0);
  const kept = bOld + 1; // a record the retention keeps, proven from the whole log first
  const whole = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'retb', '--seq', String(kept)], { encoding: 'utf8' });
  assert.equal(whole.status, 0, whole.stderr);
  const wholeProof = JSON.parse(whole.stdout);

  // A: a running replica with the retention on
  const a = await startGateway({ sets: { ...archive('reta'), GW_AUDIT_DATABASE_RETENTION_DAYS: '1',
                                         GW_AUDIT_MAINTENANCE_SECONDS: '1', GW_ADMIN_LISTEN: '127.0.0.1:0',
                                         GW_ADMIN_DEV_MODE: 'true' } });
  try {
    await calls(a, 8);
    const segs = join(dir, 'reta', 'audit', 'reta', 'segments');
    const openFirst = () => Number(readdirSync(segs).find((n) => n.endsWith('.open')).slice(0, 20));
    await until('the archive to hold every closed segment of reta', () => archived('reta') === openFirst());
    const upto = archived('reta');
    const aTotal = rows('reta');
    assert.ok(upto > 0 && upto < aTotal, `archived ${upto} of ${aTotal}`);
    // nothing is old yet: nothing is pruned
    await sleep(1500);
    assert.equal(rows('reta'), aTotal);
    assert.equal(rows('retb'), bTotal);

    // every row of A is made old, by rewriting its time stamps (the retention notices that
    // the rows it deletes were changed); B's first bOld are old already
    age(`log_id = 'reta'`);
    await until('the pruning pass', () => pruned('reta') === upto && pruned('retb') === bOld);
    await sleep(1500); // later passes change nothing
    assert.equal(pruned('reta'), upto);
    assert.equal(rows('reta', `seq < ${upto}`), 0, 'old and archived: deleted');
    assert.equal(rows('reta'), aTotal - upto, 'old but in the open segment (not archived): kept');
    assert.equal(rows('retb', `seq < ${bOld}`), 0);
    assert.equal(rows('retb'), bTotal - bOld, 'archived but young: kept');
    const am = a.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
    assert.ok(am, 'admin listener');
    const pm = (await request(Number(am[1]), { path: '/metrics' })).body.match(/^mcpgw_audit_database_pruned_records_total (\d+)$/m);
    assert.ok(pm && Number(pm[1]) === upto + bOld, `pruned counter: ${pm?.[1]}, expected ${upto + bOld}`);
    await until('the retention\'s log line', () => /database copy retention: \d+ records older than \d{4}-\d\d-\d\dT[\d:]+ \(and in the archive\) deleted/.test(a.stderr()));

    // what the console's replicas table reads
    const logs = JSON.parse((await request(Number(am[1]), { path: '/admin/api/audit/logs' })).body);
    const of = (id) => logs.logs.find((l) => l.log === id);
    assert.equal(of('retb').prunedBelow, bOld);
    assert.equal(of('retb').archivedRecords, bTotal);
    assert.equal(of('reta').prunedBelow, upto);
    assert.equal(of('reta').archivedRecords, upto);

    // a record kept is still proven from the database, over the compact range the retention
    // kept of what it deleted: the same proof as from the whole log, and the admin API checks
    // it against the signed checkpoint
    const proof = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'retb', '--seq', String(kept)], { encoding: 'utf8' });
    assert.equal(proof.status, 0, proof.stderr);
    const pj = JSON.parse(proof.stdout);
    assert.equal(pj.size, bTotal);
    assert.deepEqual(pj, wholeProof, 'the proof is the one computed before the pruning');
    const ap = await request(Number(am[1]), { path: `/admin/api/audit/${kept}/proof?log=retb` });
    assert.equal(ap.status, 200, ap.body);
    assert.equal(JSON.parse(ap.body).valid, true, ap.body);
    for (const seq of [bOld, bTotal - 1]) { // the first record kept, and the last
      const e = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'retb', '--seq', String(seq)], { encoding: 'utf8' });
      assert.equal(e.status, 0, e.stderr);
      assert.equal(JSON.parse(e.stdout).root, pj.root);
    }
    // a deleted record is not, with the way to the archive
    const gone = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'retb', '--seq', '1'], { encoding: 'utf8' });
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, new RegExp(`record 1 of log retb was deleted from the database copy .*keeps records from ${bOld}.*mcpgw audit proof --dir`));
    // A's rows were changed before they were deleted: the retention said so, and proofs of its
    // records kept are refused rather than computed over what was changed
    assert.match(a.stderr(), /record \d+ of log reta does not chain to the record before it \(its prev hash differs\): rows were changed in the database/);
    const changed = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'reta', '--seq', String(upto)], { encoding: 'utf8' });
    assert.notEqual(changed.status, 0);
    assert.match(changed.stderr, /records below \d+ were deleted from the database copy .*without the summary of them that proofs use/);
    // and from the database alone the log verifies from its first record kept (under the
    // header the retention kept: a folder whose older segments were removed)
    const vr = spawnSync(GW_BIN, ['audit', 'verify', '--db', PG, '--log', 'retb', '--keys-file', join(dir, 'retb', 'audit', 'verifier-keys'), '--json'],
                         { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here'), TMPDIR: dir } });
    assert.equal(vr.status, 0, vr.stdout + vr.stderr);
    const vrep = JSON.parse(vr.stdout);
    assert.equal(vrep.ok, true, vr.stdout);
    assert.equal(vrep.records, bTotal, vr.stdout); // the size of the log: its first bOld are counted, not present
    assert.ok(vrep.notes.some((n) => n.includes(`the log starts at record ${bOld} here`)), vr.stdout);
    // nothing of A's log is taken from the database any more: export refused, with the way
    const exp = spawnSync(GW_BIN, ['audit', 'export', '--db', PG, '--log', 'reta', '--out', join(dir, 'exp')],
                          { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'reta') } });
    assert.notEqual(exp.status, 0);
    assert.match(exp.stderr, /an export from the database needs the Merkle tree of log reta.*mcpgw audit verify\|proof --dir/);
  } finally {
    await a.stop();
  }
});

const get = (path) => new Promise((res, rej) => {
  http.get({ host: '127.0.0.1', port: s3port, path }, (r) => {
    const chunks = [];
    r.on('data', (c) => chunks.push(c));
    r.on('end', () => res(Buffer.concat(chunks)));
  }).on('error', rej);
});

test('a replica killed without closing its log is archived by another', { skip }, async () => {
  // C is killed: its open segment never reaches the archive
  const c = await startGateway({ sets: archive('retc') });
  let upto;
  try {
    await calls(c, 8);
    const segs = join(dir, 'retc', 'audit', 'retc', 'segments');
    const openFirst = () => Number(readdirSync(segs).find((n) => n.endsWith('.open')).slice(0, 20));
    await until('the archive to hold the closed segments of retc', () => archived('retc') === openFirst());
    upto = archived('retc');
  } finally {
    c.proc.kill('SIGKILL');
    await c.exited;
  }
  const total = rows('retc');
  assert.ok(total > upto, `retc: ${total} records, ${upto} archived`);
  // E is killed before its first segment closed: nothing of it is in the archive
  const e = await startGateway({ sets: { ...archive('rete'), GW_AUDIT_SEGMENT_MAX_BYTES: '67108864' } });
  try {
    await calls(e, 3);
    await until('rete\'s first header', () => sql(`SELECT next_header IS NOT NULL FROM audit_archive WHERE log_id = 'rete'`) === 't');
  } finally {
    e.proc.kill('SIGKILL');
    await e.exited;
  }
  assert.equal(archived('rete'), 0);
  const eTotal = rows('rete');

  // D salvages logs silent for 180 s: C's last beat is made an hour old
  const d = await startGateway({ sets: { ...archive('retd'), GW_AUDIT_SALVAGE_AFTER_SECONDS: '180',
                                         GW_AUDIT_MAINTENANCE_SECONDS: '1', GW_ADMIN_LISTEN: '127.0.0.1:0',
                                         GW_ADMIN_DEV_MODE: 'true' } });
  try {
    await sleep(1500);
    assert.equal(archived('retc'), upto, 'a log that beat within 180 s is left alone');
    sql(`UPDATE audit_archive SET updated_at = now() - interval '1 hour' WHERE log_id IN ('retc', 'rete')`);
    await until('the salvage of retc and rete', () => archived('retc') === total && archived('rete') === eTotal);
    const salvagedLine = new RegExp(`salvaged log retc \\(its replica stopped without closing it\\): records ${upto}\\.\\.${total - 1} rebuilt from the database and archived, with \\d+ checkpoints`);
    await until('the salvage\'s log line', () => salvagedLine.test(d.stderr()));
    assert.doesNotMatch(d.stderr(), /^NOTICE:/m, 'libpq\'s notices stay off the JSON log');
    assert.equal(sql(`SELECT next_header IS NULL FROM audit_archive WHERE log_id = 'retc'`), 't');
    await until('the salvage\'s work files to go', () => !readdirSync(join(dir, 'retd', 'audit', 'retd')).includes('salvage'));
    const dm = d.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
    assert.ok(dm, 'admin listener');
    const m = (await request(Number(dm[1]), { path: '/metrics' })).body;
    assert.match(m, /^mcpgw_audit_salvaged_logs_total 2$/m);
    assert.match(m, /^mcpgw_audit_upkeep_errors_total 0$/m);

    // the archive's copy of retc verifies whole: every record, as C wrote them
    for (const [id, first, n] of [['retc', upto, total], ['rete', 0, eTotal]]) {
      const list = (await get(`/audit-archive?prefix=audit/${id}/`)).toString();
      const keys = [...list.matchAll(/<Key>([^<]+)<\/Key>/g)].map((x) => x[1]);
      assert.ok(keys.includes(`audit/${id}/segments/${String(first).padStart(20, '0')}.jsonl`), keys.join(' '));
      const copy = join(dir, 'copy', id);
      mkdirSync(join(copy, 'segments'), { recursive: true });
      mkdirSync(join(copy, 'checkpoints'), { recursive: true });
      for (const k of keys) writeFileSync(join(copy, k.slice(`audit/${id}/`.length)), await get(`/audit-archive/${k}`));
      const v = spawnSync(GW_BIN, ['audit', 'verify', '--dir', copy, '--keys-file',
        join(dir, id, 'audit', 'verifier-keys'), '--json'], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stdout + v.stderr);
      const rep = JSON.parse(v.stdout);
      assert.equal(rep.ok, true);
      assert.equal(rep.records, n, `${id}: every record in the archive`);
    }
  } finally {
    await d.stop();
  }
});
