// tests/integration/74-audit-pg.test.mjs
// The PostgreSQL copy of the audit log (GW_AUDIT_DATABASE_URL): every record reaches the shared
// database in the same group commit as its segment write, checkpoints too; a log held only in
// the database is exported to the on-disk layout (`mcpgw audit export --db`) and verifies, byte
// for byte the same records; a second process claiming the same log id against a database that
// holds more records than its (empty) folder refuses to start.
// Needs a PostgreSQL server: run by scripts/test.d/77-audit-pg.sh, which starts a throwaway one
// and sets GW_TEST_PG_URL; skipped without it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { GW_BIN, initSession, messagesOf, post, rpc, startGateway } from './lib/gw.mjs';

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
