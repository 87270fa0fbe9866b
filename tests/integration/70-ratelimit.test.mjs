// tests/integration/70-ratelimit.test.mjs
// Rate limits on one gateway (the in-process backend, the embedded default), end to end:
//  - the per-IP limit before authentication (GW_RATELIMIT_HTTP_PER_IP): 429 + Retry-After + a
//    JSON-RPC body, RateLimit headers on admitted requests; X-Forwarded-For counts only from a
//    trusted proxy (GW_TRUSTED_PROXIES), and a spoofed one from anyone else is ignored;
//  - rules from a file: a per-user tool limit answered with -32008 (retry time in data, a
//    message an agent can act on), a dry-run rule that only records (_meta dryRunDenials);
//  - an invalid rules file stops the gateway at start-up with the reason;
//  - the admin API: validation messages, file rules read-only, a database rule in force.
// Loopback only, bounded (~10 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as h from './lib/e2e-harness.mjs';

let dir, secrets, mock, env, T;

before(async () => {
  dir = h.tempDir('ratelimit');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: { GW_AUTH_MODE: 'off', GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
});

after(async () => {
  await h.stopAll();
  h.cleanupDir(dir);
});

function init(url, headers = {}) {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rl', version: '1' } } }),
  });
}

test('per-IP limit before authentication: 429 + Retry-After + RateLimit fields; X-Forwarded-For only from trusted proxies', async () => {
  const gw = await h.startGateway({ ...env, GW_RATELIMIT_HTTP_PER_IP: '5/min', GW_TRUSTED_PROXIES: '127.0.0.1',
    GW_AUTH_MODE: 'required' }, dir);
  // before authentication: even requests without a credential count (401s)
  const statuses = [];
  let last;
  for (let i = 0; i < 6; i++) {
    last = await init(gw.url, { 'x-forwarded-for': '198.51.100.1' });
    statuses.push(last.status);
    if (i === 0) {
      assert.equal(last.headers.get('ratelimit-policy'), '"http-per-ip";q=5;w=60');
      assert.match(last.headers.get('ratelimit'), /^"http-per-ip";r=4;t=\d+$/);
    }
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  assert.ok(Number(last.headers.get('retry-after')) >= 1);
  const body = await last.json();
  assert.equal(body.error.code, -32008);
  assert.equal(body.error.data.limit, 'http-per-ip');
  assert.ok(body.error.data.retryAfterSeconds >= 1);
  assert.match(body.error.message, /Too Many Requests: limit 'http-per-ip' allows 5 requests per minute per ip; retry after \d+ s/);
  // another client behind the trusted proxy has its own budget
  assert.equal((await init(gw.url, { 'x-forwarded-for': '198.51.100.2' })).status, 401);
  // a client prepending a fake address does not escape its budget (the proxy's hop is right-most)
  assert.equal((await init(gw.url, { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' })).status, 429);
  await gw.stop();

  // no trusted proxy: X-Forwarded-For is ignored, every request counts for the connection's address
  const gw2 = await h.startGateway({ ...env, GW_RATELIMIT_HTTP_PER_IP: '3/min' }, dir);
  const s2 = [];
  for (let i = 0; i < 4; i++) s2.push((await init(gw2.url, { 'x-forwarded-for': `192.0.2.${i}` })).status);
  assert.deepEqual(s2, [200, 200, 200, 429]);
  // /health is not rate limited
  assert.equal((await fetch(`${gw2.url}/health`)).status, 200);
  await gw2.stop();
});

test('rules file: per-user tool limit (-32008 with the retry time), dry-run rule recorded in _meta', async () => {
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ rules: [
    { id: 'dealer-per-user', description: 'getDealer per user', rate: '2/min', per: ['user'], match: { tools: [T.getDealer] } },
    { id: 'resolve-trial', rate: '1/hour', per: ['user', 'tool'], match: { tools: [T.resolveVehicle] }, mode: 'dry_run' },
    { id: 'off', rate: '1/hour', enabled: false },
  ] }));
  const gw = await h.startGateway({ ...env, GW_RATELIMIT_RULES_FILE: rules }, dir);
  const client = await h.connectClient(gw.mcpUrl, 'rl');
  const args = { dealer_id: 'MSIL-PUNE-001' };
  assert.ok(!(await h.rawCall(client, T.getDealer, args)).isError);
  assert.ok(!(await h.rawCall(client, T.getDealer, args)).isError);
  const err = await h.rawCall(client, T.getDealer, args).then(() => null, (e) => e);
  assert.ok(err, 'the third call is refused');
  assert.equal(err.code, -32008);
  assert.equal(err.data.limit, 'dealer-per-user');
  assert.ok(err.data.retryAfterSeconds >= 29 && err.data.retryAfterSeconds <= 30, JSON.stringify(err.data));
  assert.deepEqual(err.data.per, ['user']);
  assert.match(err.message, new RegExp(`Rate limit exceeded for tool '${T.getDealer}': limit 'dealer-per-user' allows 2 calls per minute per user of tool ${T.getDealer}\\. Retry this call after 30 s`));
  // the dry-run rule never refuses, it records
  const v = { registration_number: 'MH12AB1234' };
  const first = await h.rawCall(client, T.resolveVehicle, v);
  assert.ok(!first.isError);
  assert.equal(first._meta && first._meta['io.msil/dryRunDenials'], undefined);
  const second = await h.rawCall(client, T.resolveVehicle, v);
  assert.ok(!second.isError, 'dry run: the call happens');
  const d = second._meta['io.msil/dryRunDenials'];
  assert.equal(d.length, 1);
  assert.equal(d[0].rule, 'resolve-trial');
  assert.equal(d[0].phase, 'ratelimit');
  assert.match(d[0].reason, /limit 'resolve-trial' allows 1 calls per hour/);
  await client.close();
  await gw.stop();
});

test('an invalid rules file stops the gateway at start-up, naming the problem', () => {
  const rules = join(dir, 'bad-rules.json');
  writeFileSync(rules, JSON.stringify({ rules: [{ id: 'typo', rate: '10/min', per: ['usr'] }] }));
  const r = spawnSync(h.GW_BIN, ['serve', '--listen', '127.0.0.1:0'],
    { env: { ...env, GW_RATELIMIT_RULES_FILE: rules }, encoding: 'utf8', timeout: 20000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /rules file .*bad-rules\.json: rule 1 \(typo\): rule typo: per\[0\] is not one of ip, user/);
  const cli = h.mcpgw(env, ['limits', 'check', rules]);
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /per\[0\]/);
});

test('admin API: validation, file rules read-only, a database rule in force at once', async () => {
  const rules = join(dir, 'rules2.json');
  writeFileSync(rules, JSON.stringify([{ id: 'from-file', rate: '100/min' }]));
  const portFile = join(dir, 'admin-port');
  const gw = await h.startGateway({ ...env, GW_RATELIMIT_RULES_FILE: rules, GW_ADMIN_LISTEN: '127.0.0.1:0',
    GW_DATA_DIR: join(dir, 'gw-data-admin') }, dir, ['--admin-port-file', portFile]);
  h.importSpec({ ...env, GW_DATA_DIR: join(dir, 'gw-data-admin') }, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  const port = await h.waitFor(() => { try { return Number(require_text(portFile)); } catch { return 0; } }, 5000);
  const api = `http://127.0.0.1:${port}/admin/api/limits`;
  const send = async (method, path, body) => {
    const r = await fetch(api + path, { method, headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, json: await r.json() };
  };
  let r = await send('POST', '', { id: 'x', rate: '5/fortnight' });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /unknown unit/);
  r = await send('POST', '', { id: 'x', rate: '5/min', colour: 'red' });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /unknown member 'colour'/);
  r = await send('PATCH', '/from-file', { mode: 'dry_run' });
  assert.equal(r.status, 409);
  assert.match(r.json.error.message, /rules file/);
  r = await send('POST', '', { id: 'from-file', rate: '1/min' });
  assert.equal(r.status, 409);
  r = await send('POST', '', { id: 'slots-1', rate: '1/min', per: ['user'], match: { tools: [T.getAvailableSlots] } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.json.rule.burst, 1);
  // in force without a restart (the write wakes the rules loader)
  const ok = await h.waitFor(async () => {
    const l = await send('GET', '');
    return l.json.rules.some((x) => x.id === 'slots-1' && x.source === 'db') && l.json.rules.some((x) => x.id === 'from-file' && x.source === 'file');
  }, 5000, 50);
  assert.ok(ok);
  const client = await h.connectClient(gw.mcpUrl, 'rl-admin');
  const day = h.nextWorkday((await mock.health()).today);
  assert.ok(!(await h.rawCall(client, T.getAvailableSlots, { dealer_id: 'MSIL-PUNE-001', date: day })).isError);
  const e = await h.rawCall(client, T.getAvailableSlots, { dealer_id: 'MSIL-PUNE-001', date: day }).then(() => null, (x) => x);
  assert.equal(e && e.code, -32008);
  const st = (await send('GET', '')).json.status;
  assert.equal(st.backend, 'memory');
  assert.ok(st.limited >= 1 && st.allowed >= 1, JSON.stringify(st));
  r = await send('DELETE', '/slots-1');
  assert.equal(r.status, 200);
  r = await send('GET', '/slots-1');
  assert.equal(r.status, 404);
  await client.close();
  await gw.stop();
});

function require_text(f) {
  return spawnSync('cat', [f], { encoding: 'utf8' }).stdout.trim();
}
