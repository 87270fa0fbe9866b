// tests/integration/71-audit-kill.test.mjs
// Durability of the audit trail under SIGKILL: a gateway serving a bounded load of tools/call
// (8 concurrent clients on loopback) is killed at a random moment, ROUNDS times, restarting on
// the same log each time. After every kill:
//   - every call whose response the client received has its record in the log (the response
//     is released only after the record is durable);
//   - `mcpgw audit verify` passes on the log as the kill left it (a torn last record, never
//     acknowledged, is reported as a note, not a problem);
// and after the restarts the log is one continuous, verifiable log. Bounded: ~20 s.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { GW_BIN, initSession, messagesOf, post, rpc, startGateway } from './lib/gw.mjs';

const ROUNDS = Number(process.env.AUDIT_KILL_ROUNDS || 20);
const CLIENTS = 8;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dataDir = mkdtempSync(join(tmpdir(), 'mcpgw-audit-kill-'));
const logDir = join(dataDir, 'audit', 'killtest');

after(() => {
  if (!process.env.E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
});

function recordedIds() {
  const ids = new Set();
  const segDir = join(logDir, 'segments');
  if (!existsSync(segDir)) return ids;
  for (const s of readdirSync(segDir)) {
    // an open segment's data ends at its first NUL (zero-filled ahead of the records)
    for (const line of readFileSync(join(segDir, s), 'utf8').split('\0')[0].split('\n').slice(1)) {
      if (!line) continue;
      try {
        const r = JSON.parse(line);
        if (r.event?.request_id) ids.add(r.event.request_id);
      } catch {
        /* a torn last line */
      }
    }
  }
  return ids;
}

function verify() {
  const r = spawnSync(GW_BIN, ['audit', 'verify', '--dir', logDir, '--keys-file',
    join(dataDir, 'audit', 'verifier-keys'), '--json'], { encoding: 'utf8', timeout: 60000 });
  let rep = null;
  try {
    rep = JSON.parse(r.stdout);
  } catch {
    /* reported below */
  }
  return { status: r.status, rep, out: r.stdout + r.stderr };
}

function start() {
  return startGateway({
    sets: {
      GW_DATA_DIR: dataDir,
      GW_AUDIT_LOG_ID: 'killtest',
      GW_AUDIT_CHECKPOINT_SECONDS: '1',
      GW_AUDIT_CHECKPOINT_EVENTS: '50',
      GW_AUDIT_SEGMENT_MAX_BYTES: '65536', /* rotations happen during the run too */
      GW_LOG_LEVEL: 'warn',
    },
  });
}

test(`SIGKILL at random moments under load, ${ROUNDS} times: acknowledged calls are recorded, the log verifies`, async () => {
  let acked = 0;
  let total = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const gw = await start();
    const { session, version } = await initSession(gw);
    const ackedIds = [];
    let stop = false;
    const client = async (c) => {
      for (let i = 0; !stop && i < 100000; i++) {
        const rid = `kill-${round}-${c}-${i}`;
        try {
          const res = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: { i } }),
                                 { session, version, headers: { 'X-Request-Id': rid } });
          if (res.status === 200 && messagesOf(res)[0]?.result) ackedIds.push(rid);
        } catch {
          return; /* the gateway died mid-request: this call was never acknowledged */
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    await sleep(150 + Math.floor(Math.random() * 600));
    gw.proc.kill('SIGKILL');
    stop = true;
    await gw.exited;
    await Promise.all(clients);
    const ids = recordedIds();
    const missing = ackedIds.filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], `round ${round}: acknowledged calls missing from the trail`);
    const v = verify();
    assert.equal(v.status, 0, `round ${round}: verify failed:\n${v.out}`);
    assert.equal(v.rep.ok, true);
    acked += ackedIds.length;
    total = v.rep.records;
  }
  assert.ok(acked > ROUNDS * 10, `load too small to mean anything: ${acked} acknowledged calls`);
  // a clean start and stop after the kills: recovery signs the unsigned tail, the log is whole
  const gw = await start();
  await gw.stop();
  const v = verify();
  assert.equal(v.status, 0, v.out);
  assert.equal(v.rep.first, 0);
  assert.ok(v.rep.records >= total);
  assert.equal(v.rep.unsigned_tail, 0, JSON.stringify(v.rep));
  console.log(`# ${ROUNDS} kills, ${acked} acknowledged calls, ${v.rep.records} records, ` +
              `${v.rep.checkpoints} checkpoints`);
});
