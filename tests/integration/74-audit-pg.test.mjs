// tests/integration/74-audit-pg.test.mjs
// The PostgreSQL copy of the audit log (GW_AUDIT_DATABASE_URL): every record reaches the shared
// database in the same group commit as its segment write, checkpoints too; a log held only in
// the database is exported to the on-disk layout (`mcpgw audit export --db`) and verifies, byte
// for byte the same records, a large one (two segments of 1.3 KB records) in the memory of a
// batch of rows and a MiB, not of a segment; a second process claiming the same log id against
// a database that holds more records than its (empty) folder refuses to start. The admin API of
// one replica serves every replica's log from the database: one merged page order (time, log,
// seq) with a keyset cursor, each decision filter in SQL agreeing with the console's own,
// another replica's record and its inclusion proof (signed checkpoint checked) after that
// replica has stopped, and this replica's view alone on request.
// Needs a PostgreSQL server: run by scripts/test.d/77-audit-pg.sh, which starts a throwaway one
// and sets GW_TEST_PG_URL; skipped without it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GW_BIN, initSession, isSanitized, messagesOf, post, request, rpc, sleep, startGateway } from './lib/gw.mjs';
import { jcs, leafHash, mth } from './lib/tlog-ref.mjs';

const PG = process.env.GW_TEST_PG_URL;

function lines(dir) {
  const out = [];
  for (const s of readdirSync(join(dir, 'segments')).sort())
    for (const l of readFileSync(join(dir, 'segments', s), 'utf8').split('\n').slice(1)) if (l) out.push(l);
  return out;
}

test('records and checkpoints reach PostgreSQL; an exported log verifies', { skip: !PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-pg-'));
  const sets = { GW_DATA_DIR: join(dir, 'data'), GW_AUDIT_LOG_ID: 'pgtest', GW_AUDIT_DATABASE_URL: PG,
                 GW_AUDIT_SEGMENT_MAX_BYTES: '4096' };
  const gw = await startGateway({ sets });
  const { session, version } = await initSession(gw);
  for (let i = 0; i < 30; i++) {
    const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: { i, phone: '9876543210' } }),
                           { session, version });
    assert.ok(messagesOf(res)[0].result);
  }
  await gw.stop();
  const local = lines(join(dir, 'data', 'audit', 'pgtest'));
  const exp = spawnSync(GW_BIN, ['audit', 'export', '--db', PG, '--log', 'pgtest', '--out', join(dir, 'export')],
                        { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'data') } });
  assert.equal(exp.status, 0, exp.stderr);
  const exported = lines(join(dir, 'export', 'pgtest'));
  assert.deepEqual(exported, local, 'the database holds exactly the local records');
  const v = spawnSync(GW_BIN, ['audit', 'verify', '--dir', join(dir, 'export', 'pgtest'), '--keys-file',
    join(dir, 'data', 'audit', 'verifier-keys'), '--json'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const rep = JSON.parse(v.stdout);
  assert.equal(rep.ok, true);
  assert.equal(rep.records, local.length);
  assert.equal(rep.unsigned_tail, 0);
  // the same log id on another (empty) folder: the database holds more than it does
  const other = await startGateway({ sets: { ...sets, GW_DATA_DIR: join(dir, 'other') } }).then(
    (g) => ({ g }), (e) => ({ e }));
  if (other.g) {
    await other.g.stop();
    assert.fail('a second writer of log pgtest with an empty folder was allowed to start');
  }
  assert.match(String(other.e), /holds \d+ records for log pgtest/);
  rmSync(dir, { recursive: true, force: true });
});

// the admin listener's port, from its log line (written asynchronously: wait for it)
const adminPortOf = async (g) => {
  for (let i = 0; i < 100; i++) {
    const m = g.stderr().match(/listening on 127\.0\.0\.1:(\d+) with 1 workers/);
    if (m) return Number(m[1]);
    await sleep(50);
  }
  assert.fail(`no admin listener line:\n${g.stderr()}`);
};
const adminGet = async (port, path) => {
  const res = await request(port, { path: `/admin/api${path}` });
  return { status: res.status, body: res.body, json: () => JSON.parse(res.body) };
};

test('the admin API shows every replica\'s log from the database', { skip: !PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-all-'));
  const since = new Date().toISOString();
  // the replicas share the signing key (production: one secret), each writes its own log
  const key = join(dir, 'signing.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
  const common = { GW_AUDIT_DATABASE_URL: PG, GW_AUDIT_SIGNING_KEY_FILE: key, GW_AUDIT_CHECKPOINT_EVENTS: '4',
                   GW_ADMIN_LISTEN: '127.0.0.1:0', GW_ADMIN_DEV_MODE: 'true' };
  const a = await startGateway({ sets: { ...common, GW_DATA_DIR: join(dir, 'a'), GW_AUDIT_LOG_ID: 'pga' } });
  const b = await startGateway({ sets: { ...common, GW_DATA_DIR: join(dir, 'b'), GW_AUDIT_LOG_ID: 'pgb' } });
  const aPort = await adminPortOf(a);
  try {
    for (const [g, n] of [[a, 5], [b, 7]]) {
      const { session, version } = await initSession(g);
      for (let i = 0; i < n; i++) {
        const res = await post(g, rpc('tools/call', { name: 'test_simple_text', arguments: { i } }), { session, version });
        assert.ok(messagesOf(res)[0].result);
      }
    }
    // a transport refusal on B (decision reject) and an admin change on B (decision admin)
    const rej = await request(b.port, { method: 'POST', path: '/mcp', body: JSON.stringify(rpc('tools/list')),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Origin: 'http://evil.example' } });
    assert.equal(rej.status, 403);
    const adm = await request(await adminPortOf(b), { method: 'POST', path: '/admin/api/bundles',
      body: JSON.stringify({ name: 'pg-all-bundle' }), headers: { 'Content-Type': 'application/json', 'X-Change-Reason': 'test' } });
    assert.ok(adm.status === 201 || adm.status === 200, adm.body);
    await b.stop(); // its final checkpoint reaches the database; its records stay visible
    const q = `since=${encodeURIComponent(since)}`;
    const all = (await adminGet(aPort, `/audit?${q}&limit=1000`)).json();
    assert.equal(all.scope, 'all');
    assert.equal(all.log, 'pga');
    const mine = all.items.filter((r) => r.log === 'pga' || r.log === 'pgb');
    assert.equal(mine.length, all.items.length, 'only the two logs wrote since the test began');
    const count = (log, pred = () => true) => mine.filter((r) => r.log === log && pred(r)).length;
    assert.equal(count('pga', (r) => r.tool === 'test_simple_text'), 5);
    assert.equal(count('pgb', (r) => r.tool === 'test_simple_text'), 7);
    assert.equal(count('pgb', (r) => r.decision === 'reject'), 1);
    assert.equal(count('pgb', (r) => r.decision === 'admin'), 1);
    for (const r of mine) assert.equal(r.id, `${r.log}:${r.seq}`);
    // one order: time, then log, then seq, newest first
    const key3 = (r) => [r.time, r.log, r.seq];
    for (let i = 1; i < mine.length; i++) {
      const [t0, l0, s0] = key3(mine[i - 1]);
      const [t1, l1, s1] = key3(mine[i]);
      assert.ok(t0 > t1 || (t0 === t1 && (l0 > l1 || (l0 === l1 && s0 > s1))), `order at ${i}: ${key3(mine[i - 1])} then ${key3(mine[i])}`);
    }
    // pages of 4 with the cursor: the same records, none twice
    const paged = [];
    let cursor = null;
    for (let guard = 0; guard < 50; guard++) {
      const p = (await adminGet(aPort, `/audit?${q}&limit=4${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`)).json();
      paged.push(...p.items.map((r) => r.id));
      cursor = p.next;
      if (!cursor) break;
    }
    assert.deepEqual(paged, mine.map((r) => r.id));
    // oldest first, paged with after=
    const asc = (await adminGet(aPort, `/audit?${q}&order=asc&limit=1000`)).json().items.map((r) => r.id);
    assert.deepEqual(asc, [...mine].reverse().map((r) => r.id));
    // every decision filter (SQL) agrees with the decision the console computes (C)
    for (const d of ['allow', 'deny', 'admin', 'reject', 'error', 'dry_run_deny']) {
      const f = (await adminGet(aPort, `/audit?${q}&decision=${d}&limit=1000`)).json().items;
      assert.ok(f.every((r) => r.decision === d), `decision=${d}`);
      assert.equal(f.length, mine.filter((r) => r.decision === d).length, `decision=${d} count`);
    }
    const byTool = (await adminGet(aPort, `/audit?${q}&tool=test_simple_text&limit=1000`)).json().items;
    assert.equal(byTool.length, 12);
    // B's record and its proof, B being gone: from the database, its signed checkpoint checked
    const rb = mine.find((r) => r.log === 'pgb' && r.tool === 'test_simple_text');
    const one = (await adminGet(aPort, `/audit/${rb.seq}?log=pgb`)).json();
    assert.equal(one.id, rb.id);
    assert.equal(one.hash, rb.hash);
    const pb = await adminGet(aPort, `/audit/${rb.seq}/proof?log=pgb`);
    assert.equal(pb.status, 200, pb.body);
    assert.equal(pb.json().valid, true, pb.body);
    assert.equal(pb.json().log, 'pgb');
    const ra = mine.filter((r) => r.log === 'pga').at(-1); // the oldest: signed already
    const pa = await adminGet(aPort, `/audit/${ra.seq}/proof?log=pga`);
    assert.equal(pa.status, 200, pa.body);
    assert.equal(pa.json().valid, true, pa.body);
    assert.equal((await adminGet(aPort, '/audit/999999/proof?log=pgb')).status, 404);
    assert.equal((await adminGet(aPort, '/audit/1?log=nosuchlog')).status, 404);
    assert.equal((await adminGet(aPort, '/audit/1?log=bad%20id')).status, 400);
    assert.equal((await adminGet(aPort, '/audit?before=x~pga~1')).status, 400);
    // every replica's log: records and latest checkpoint (B's final one covers all of them)
    const logs = (await adminGet(aPort, '/audit/logs')).json();
    assert.equal(logs.log, 'pga');
    const lb = logs.logs.find((l) => l.log === 'pgb');
    const la = logs.logs.find((l) => l.log === 'pga');
    assert.ok(la && lb, JSON.stringify(logs));
    assert.equal(la.this, true);
    assert.equal(lb.this, false);
    assert.equal(lb.records, count('pgb'), "B's log began with this test");
    assert.equal(lb.checkpoint.size, lb.records, 'a stopped replica signs all of its log');
    assert.match(lb.checkpoint.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(lb.lastRecordAt, mine.find((r) => r.log === 'pgb').time, 'the time of its newest record');
    assert.equal(lb.verification.status, 'unknown', 'not verified by this replica yet');
    // B's log verified from the console (B being gone): read from the database, checked with
    // the replicas' key; its outcome then shown with the log
    const adminPost = (path) => request(aPort, { method: 'POST', path: `/admin/api${path}`, headers: { 'content-type': 'application/json' }, body: '{}' });
    const vb = await adminPost('/audit/verify?log=pgb&wait=30');
    assert.equal(vb.status, 200, vb.body);
    const vbj = JSON.parse(vb.body);
    assert.equal(vbj.ok, true, vb.body);
    assert.equal(vbj.log, 'pgb');
    assert.equal(vbj.records, count('pgb'));
    const lb2 = (await adminGet(aPort, '/audit/logs')).json().logs.find((l) => l.log === 'pgb');
    assert.equal(lb2.verification.status, 'ok');
    assert.equal(lb2.verification.verifiedThrough, count('pgb'));
    assert.equal((await adminPost('/audit/verify?log=nosuchlog&wait=30')).status, 404);
    assert.equal((await adminPost('/audit/verify?log=bad%20id')).status, 400);
    // and this replica's own log still from its folder
    const va = JSON.parse((await adminPost('/audit/verify?wait=30')).body);
    assert.equal(va.ok, true);
    assert.equal(va.log, 'pga');
    // both outcomes are stored with their logs in the database: a replica that verified
    // nothing (C, started now) shows them, with which replica ran them
    assert.equal(lb2.verification.by, 'pga');
    const c = await startGateway({ sets: { ...common, GW_DATA_DIR: join(dir, 'c'), GW_AUDIT_LOG_ID: 'pgc' } });
    try {
      const seen = (await adminGet(await adminPortOf(c), '/audit/logs')).json().logs;
      const vbC = seen.find((l) => l.log === 'pgb').verification;
      assert.equal(vbC.status, 'ok', JSON.stringify(vbC));
      assert.equal(vbC.verifiedThrough, count('pgb'));
      assert.equal(vbC.by, 'pga');
      const vaC = seen.find((l) => l.log === 'pga').verification;
      assert.equal(vaC.status, 'ok', JSON.stringify(vaC));
      assert.equal(vaC.by, 'pga');
      assert.equal(seen.find((l) => l.log === 'pgc').verification.status, 'unknown');
      // believed because the audit key sealed it for that log: whoever can write the table
      // cannot make a console say "ok" (an outcome without the seal, or with its summary
      // edited, is "unverified", with what it claims and what would settle it)
      assert.ok(vbC.signedBy, JSON.stringify(vbC));
      assert.equal(vbC.note, undefined, 'the seal itself is not shown');
      const psql = (q) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qAt', PG, '-c', q], { encoding: 'utf8' }).trim();
      const stored = JSON.parse(psql(`SELECT verification FROM audit_logs WHERE log_id = 'pgb'`));
      assert.ok(stored.note && stored.note.startsWith('mcpgw audit verification\npgb\n'), stored.note);
      const forge = (v) => psql(`UPDATE audit_logs SET verification = '${JSON.stringify(v).replace(/'/g, "''")}' WHERE log_id = 'pgb'`);
      const shown = async () => (await adminGet(await adminPortOf(c), '/audit/logs')).json().logs.find((l) => l.log === 'pgb').verification;
      try {
        forge({ status: 'ok', verifiedThrough: 999999, checkedAt: '2099-01-01T00:00:00Z', by: 'pga' });
        let f = await shown();
        assert.equal(f.status, 'unverified', JSON.stringify(f));
        assert.equal(f.claimed, 'ok');
        assert.match(f.error, /no signature.*verify the log again/);
        forge({ ...stored, note: stored.note.replace(`"verifiedThrough":${count('pgb')}`, '"verifiedThrough":999999') });
        f = await shown();
        assert.equal(f.status, 'unverified', JSON.stringify(f));
        assert.match(f.error, /no audit key of this deployment signed/);
        forge({ ...stored, verifiedThrough: 999999 }); // outside the seal: not what is shown
        f = await shown();
        assert.equal(f.status, 'ok');
        assert.equal(f.verifiedThrough, count('pgb'));
      } finally {
        forge(stored);
      }
    } finally {
      await c.stop();
    }
    // verified straight from the rows (nothing written: TMPDIR does not exist), with the report
    // a folder export of the same rows gets; and a copy of B's log with one row edited in the
    // database: both ways find the same problems
    const keysFile = join(dir, 'a', 'audit', 'verifier-keys');
    const both = (log) => {
      const direct = spawnSync(GW_BIN, ['audit', 'verify', '--db', PG, '--log', log, '--keys-file', keysFile, '--json'],
                               { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here'), TMPDIR: join(dir, 'no-such-dir') } });
      const out = join(dir, `export-${log}`);
      const ex = spawnSync(GW_BIN, ['audit', 'export', '--db', PG, '--log', log, '--out', out], { encoding: 'utf8' });
      assert.equal(ex.status, 0, ex.stderr);
      const viaDir = spawnSync(GW_BIN, ['audit', 'verify', '--dir', join(out, log), '--keys-file', keysFile, '--json'], { encoding: 'utf8' });
      const [d, f] = [JSON.parse(direct.stdout), JSON.parse(viaDir.stdout)];
      for (const k of ['ok', 'log', 'origin', 'first', 'records', 'checkpoints', 'latest_checkpoint', 'unsigned_tail', 'problems', 'notes'])
        assert.deepEqual(d[k], f[k], `${log}: ${k} from the rows and from an export`);
      return { d, status: direct.status };
    };
    const sqlq = (q) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qAt', PG, '-c', q], { encoding: 'utf8' }).trim();
    const clean = both('pgb');
    assert.equal(clean.status, 0);
    assert.equal(clean.d.ok, true);
    sqlq(`INSERT INTO audit_logs (log_id, origin) SELECT 'pgt', origin FROM audit_logs WHERE log_id = 'pgb';
          INSERT INTO audit_records (log_id, seq, record) SELECT 'pgt', seq, record FROM audit_records WHERE log_id = 'pgb';
          INSERT INTO audit_checkpoints (log_id, size, note) SELECT 'pgt', size, note FROM audit_checkpoints WHERE log_id = 'pgb';
          UPDATE audit_records SET record = replace(record, '"method":"', '"method":"x') WHERE log_id = 'pgt' AND seq = 3`);
    const edited = both('pgt');
    assert.equal(edited.status, 1);
    assert.equal(edited.d.ok, false);
    assert.ok(edited.d.problems.some((p) => p.seq === 3 || p.seq === 4), JSON.stringify(edited.d.problems));
    sqlq(`DELETE FROM audit_records WHERE log_id = 'pgt'; DELETE FROM audit_checkpoints WHERE log_id = 'pgt';
          DELETE FROM audit_logs WHERE log_id = 'pgt'`);
    // the same merged view from a shell with no audit folder: mcpgw audit search --db
    const cli = spawnSync(GW_BIN, ['audit', 'search', '--db', PG, '--since', since, '--decision', 'reject', '--newest-first'],
                          { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here') } });
    assert.equal(cli.status, 0, cli.stderr);
    const found = cli.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(found.length, 1);
    assert.equal(found[0].log, 'pgb');
    assert.equal(found[0].record.event.kind, 'transport');
    const cliAll = spawnSync(GW_BIN, ['audit', 'search', '--db', PG, '--since', since, '--log', 'pga', '--limit', '1000'],
                             { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here') } });
    assert.equal(cliAll.status, 0, cliAll.stderr);
    assert.deepEqual(cliAll.stdout.trim().split('\n').map((l) => JSON.parse(l).record.seq),
                     mine.filter((r) => r.log === 'pga').map((r) => r.seq).reverse(), 'oldest first by default');
    // and B's record proven from a shell: the same proof the admin API checked
    const cp = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--log', 'pgb', '--seq', String(rb.seq)],
                         { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here') } });
    assert.equal(cp.status, 0, cp.stderr);
    const cproof = JSON.parse(cp.stdout);
    assert.equal(cproof.log, 'pgb');
    assert.equal(cproof.root, pb.json().checkpoint.hash);
    assert.equal(cproof.leaf_hash, pb.json().leafHash);
    assert.match(cproof.checkpoint, /\npgb\n|\/pgb\n/);
    // and B's whole log verified from a shell, with the replicas' key, from the database alone
    const keys = join(dir, 'a', 'audit', 'verifier-keys');
    const vr = spawnSync(GW_BIN, ['audit', 'verify', '--db', PG, '--log', 'pgb', '--keys-file', keys, '--json'],
                         { encoding: 'utf8', env: { ...process.env, GW_DATA_DIR: join(dir, 'nothing-here'), TMPDIR: dir } });
    assert.equal(vr.status, 0, vr.stdout + vr.stderr);
    const vrep = JSON.parse(vr.stdout);
    assert.equal(vrep.ok, true);
    assert.equal(vrep.records, count('pgb'));
    assert.equal(vrep.unsigned_tail, 0);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('mcpgw-verify-')), [], 'the temporary folder is removed');
    const noLog = spawnSync(GW_BIN, ['audit', 'proof', '--db', PG, '--seq', '0'], { encoding: 'utf8' });
    assert.equal(noLog.status, 2);
    assert.match(noLog.stderr, /--log ID and --seq N/);
    // this replica's view alone, on request (and with a cursor of its own log)
    const local = (await adminGet(aPort, `/audit?${q}&scope=replica&limit=1000`)).json();
    assert.equal(local.scope, 'replica');
    assert.ok(local.items.length >= 5 && local.items.every((r) => r.log === undefined && /^\d+$/.test(r.id)));
    // the export carries the log as its first column
    const csv = await request(aPort, { path: `/admin/api/audit/export?format=csv&${q}` });
    assert.equal(csv.status, 200);
    const rows = csv.body.trim().split('\n');
    assert.equal(rows[0].split(',')[0], 'log');
    assert.equal(rows.length - 1, mine.length);
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// The merged list when the database cannot answer it: the page is this replica's log with a
// warning saying so, an export or a cursor of the merged list answer 503, and calls go on (the
// copy's inserts need no read). The gateway's database role loses SELECT on the records table.
test('the audit list falls back to this replica\'s log when the database cannot answer', { skip: !PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)' }, async () => {
  const psql = (sql, db = 'gwtest') => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', PG.replace('///gwtest?', `///${db}?`), '-c', sql], { encoding: 'utf8' });
  psql('DROP DATABASE IF EXISTS gwlimited');
  psql('DROP ROLE IF EXISTS gwlimited');
  psql('CREATE ROLE gwlimited LOGIN');
  psql('CREATE DATABASE gwlimited OWNER gwlimited');
  const url = PG.replace('///gwtest?', '///gwlimited?').replace('user=postgres', 'user=gwlimited');
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-fallback-'));
  const g = await startGateway({ sets: { GW_DATA_DIR: join(dir, 'data'), GW_AUDIT_LOG_ID: 'pgc', GW_AUDIT_DATABASE_URL: url,
                                         GW_ADMIN_LISTEN: '127.0.0.1:0', GW_ADMIN_DEV_MODE: 'true' } });
  try {
    const port = await adminPortOf(g);
    const { session, version } = await initSession(g);
    const call = async (i) => messagesOf(await post(g, rpc('tools/call', { name: 'test_simple_text', arguments: { i } }), { session, version }))[0];
    assert.ok((await call(1)).result);
    const before = (await adminGet(port, '/audit?limit=100')).json();
    assert.equal(before.scope, 'all');
    assert.equal(before.warning, undefined);
    psql('REVOKE SELECT ON audit_records FROM gwlimited', 'gwlimited');
    assert.ok((await call(2)).result, 'calls go on: the copy only inserts');
    const page = await adminGet(port, '/audit?limit=100');
    assert.equal(page.status, 200);
    const p = page.json();
    assert.equal(p.scope, 'replica');
    assert.equal(p.warning, "audit database: ERROR:  permission denied for table audit_records: showing this replica's log only");
    assert.ok(p.items.some((r) => r.tool === 'test_simple_text' && r.log === undefined), JSON.stringify(p.items.slice(0, 3)));
    assert.equal((await adminGet(port, '/audit/export?format=jsonl')).status, 503);
    assert.equal((await adminGet(port, '/audit?before=2026-01-01T00:00:00.000Z~pgc~1')).status, 503);
    psql('GRANT SELECT ON audit_records TO gwlimited', 'gwlimited');
    const again = (await adminGet(port, '/audit?limit=100')).json();
    assert.equal(again.scope, 'all', 'a new connection once the database answers again');
    assert.equal(again.items.filter((r) => r.tool === 'test_simple_text').length, 2);
  } finally {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
    psql('DROP DATABASE IF EXISTS gwlimited');
    psql('DROP ROLE IF EXISTS gwlimited');
  }
});

// Ties in time across logs (records of one millisecond are common under load): the merged order
// breaks them by log id, then sequence number, and paging either way returns every record once.
test('the merged list orders and pages records of one millisecond across logs', { skip: !PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)' }, async () => {
  const psql = (sql) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', PG, '-c', sql], { encoding: 'utf8' });
  const T0 = '2030-01-01T00:00:00.000Z', T1 = '2030-01-01T00:00:00.001Z';
  const rows = [];
  for (const log of ['tie-a', 'tie-b', 'tie-c'])
    for (let seq = 0; seq < 5; seq++) rows.push({ log, seq, ts: seq < 4 ? T0 : T1 });
  const values = rows.map(({ log, seq, ts }) => `('${log}', ${seq}, '${JSON.stringify({ event: { kind: 'tool_call', outcome: 'result', tool: 'tie_tool', ts }, prev: '', seq })}')`);
  psql(`DELETE FROM audit_records WHERE log_id LIKE 'tie-%'; INSERT INTO audit_records(log_id, seq, record) VALUES ${values.join(',')}`);
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-ties-'));
  const g = await startGateway({ sets: { GW_DATA_DIR: join(dir, 'data'), GW_AUDIT_LOG_ID: 'tie-gw', GW_AUDIT_DATABASE_URL: PG,
                                         GW_ADMIN_LISTEN: '127.0.0.1:0', GW_ADMIN_DEV_MODE: 'true' } });
  try {
    const port = await adminPortOf(g);
    const cmp = (x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : x.log < y.log ? -1 : x.log > y.log ? 1 : x.seq - y.seq);
    const asc = [...rows].sort(cmp).map((r) => `${r.log}:${r.seq}`);
    const walk = async (order, param) => {
      const got = [];
      let cursor = null;
      for (let guard = 0; guard < 20; guard++) {
        const q = `/audit?since=${T0}&tool=tie_tool&limit=4${order}${cursor ? `&${param}=${encodeURIComponent(cursor)}` : ''}`;
        const p = (await adminGet(port, q)).json();
        assert.equal(p.scope, 'all');
        got.push(...p.items.map((r) => r.id));
        cursor = p.next;
        if (!cursor) break;
      }
      return got;
    };
    assert.deepEqual(await walk('', 'before'), [...asc].reverse(), 'newest first, paged with before=');
    assert.deepEqual(await walk('&order=asc', 'after'), asc, 'oldest first, paged with after=');
    const early = (await adminGet(port, `/audit?since=${T0}&until=${T0}&tool=tie_tool&limit=100`)).json().items;
    assert.equal(early.length, 12, 'until= keeps the first millisecond only');
    const oneLog = (await adminGet(port, `/audit?since=${T0}&tool=tie_tool&limit=100&log=tie-b`)).json().items;
    assert.deepEqual(oneLog.map((r) => r.seq), [4, 3, 2, 1, 0]);
  } finally {
    await g.stop();
    rmSync(dir, { recursive: true, force: true });
    psql("DELETE FROM audit_records WHERE log_id LIKE 'tie-%'");
  }
});

// An export from the database writes each segment as its rows come, a MiB of its text held at a
// time, not the whole segment (100,000 records: 130 MB at production's 1.3 KB records): 120,000
// chained records of 1.3 KB (two segments, 157 MB) are exported with a peak RSS under half of
// the first segment, byte for byte the rows, the second segment's header carrying the compact
// range of the first (checked against the reference Merkle tree, tlog-ref.mjs).
test('an export from the database holds a MiB of a segment, not the segment', { skip: !PG && 'GW_TEST_PG_URL not set (scripts/test.d/77-audit-pg.sh)' }, async (t) => {
  const N = 120000, SEG = 100000, LOG = 'bigexport';
  const psql = (sql, input) => execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qAt', PG, '-c', sql],
                                            { encoding: 'utf8', input }).trim();
  const pad = 'p'.repeat(1200);
  const lines = [], leaves = [];
  for (let seq = 0; seq < N; seq++) {
    const ts = new Date(Date.UTC(2030, 1, 1) + seq).toISOString();
    const event = { kind: 'tool_call', outcome: 'result', pad, tool: 'big_export', ts };
    lines.push(jcs({ event, prev: seq ? leaves[seq - 1].toString('base64') : '', seq }));
    leaves.push(leafHash(lines[seq]));
  }
  psql(`DELETE FROM audit_records WHERE log_id = '${LOG}'; DELETE FROM audit_logs WHERE log_id = '${LOG}';
        INSERT INTO audit_logs (log_id, origin) VALUES ('${LOG}', 'big export test')`);
  for (let i = 0; i < N; i += SEG / 4) // COPY's text format: tab-separated, a row a line
    psql('COPY audit_records (log_id, seq, record) FROM STDIN',
         lines.slice(i, i + SEG / 4).map((l, k) => `${LOG}\t${i + k}\t${l}\n`).join(''));
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-big-'));
  try {
    const timing = join(dir, 'time');
    const args = ['audit', 'export', '--db', PG, '--log', LOG, '--out', join(dir, 'export')];
    const timed = existsSync('/usr/bin/time');
    const exp = timed ? spawnSync('/usr/bin/time', ['-f', '%M %e', '-o', timing, GW_BIN, ...args], { encoding: 'utf8' })
                      : spawnSync(GW_BIN, args, { encoding: 'utf8' });
    assert.equal(exp.status, 0, exp.stderr);
    assert.match(exp.stdout, /^exported 120000 records of log bigexport to /);
    const segdir = join(dir, 'export', LOG, 'segments');
    assert.deepEqual(readdirSync(segdir).sort(), ['00000000000000000000.jsonl', '00000000000000100000.jsonl']);
    const seg = (name) => readFileSync(join(segdir, name), 'utf8').split('\n');
    const [s0, s1] = [seg('00000000000000000000.jsonl'), seg('00000000000000100000.jsonl')];
    assert.equal(s0.length, 1 + SEG + 1); // the header, the records, '' after the last newline
    assert.equal(s1.length, 1 + N - SEG + 1);
    assert.ok(s0.slice(1, -1).every((l, i) => l === lines[i]) && s1.slice(1, -1).every((l, i) => l === lines[SEG + i]),
              'the segments hold the rows as they are');
    // the compact range of [0, SEG): the roots of its perfect subtrees, largest first
    const range = [];
    for (let at = 0, bit = 1 << 30; bit; bit >>= 1)
      if (SEG & bit) { range.push(mth(leaves.slice(at, at + bit)).toString('base64')); at += bit; }
    const head = { audit_segment: 1, origin: 'big export test' };
    assert.deepEqual(JSON.parse(s0[0]), { ...head, first: 0, prev: '', range: [] });
    assert.deepEqual(JSON.parse(s1[0]), { ...head, first: SEG, prev: leaves[SEG - 1].toString('base64'), range });
    if (!timed) {
      t.diagnostic('no /usr/bin/time: the peak RSS is not measured');
      return;
    }
    const [kb, secs] = readFileSync(timing, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    const mb = Math.round(lines.reduce((n, l) => n + l.length + 1, 0) / 1e6);
    t.diagnostic(`export of ${N} records (${mb} MB): peak RSS ${Math.round(kb / 1024)} MiB, ${secs} s`);
    // a whole segment held would be 130 MB; the reader's batch of 20,000 rows is 26 MB
    if (!isSanitized()) // ASan's quarantine keeps freed batches: its RSS means little
      assert.ok(kb < 64 * 1024, `peak RSS ${kb} kB: the export holds more than a batch and a MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    psql(`DELETE FROM audit_records WHERE log_id = '${LOG}'; DELETE FROM audit_logs WHERE log_id = '${LOG}'`);
  }
});
