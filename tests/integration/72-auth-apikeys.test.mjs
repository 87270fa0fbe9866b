// tests/integration/72-auth-apikeys.test.mjs
// API keys of service clients end to end, on a gateway that requires authentication and has no
// identity provider (API keys only), with SQLite and its registry watcher
// (GW_REGISTRY_POLL_SECONDS=1):
//   - `mcpgw keys create` while the gateway runs -> the key works (the official SDK client with
//     the key as bearer; the upstream sees the key's subject and client, never the key);
//   - `mcpgw keys list` never shows a secret; malformed/unknown/altered keys: 401;
//   - `mcpgw keys revoke` -> the next request is refused (also inside an open session);
//   - a key created with --ttl expires and is refused; a past --expires is refused by the CLI;
//   - the admin API path: POST /admin/api/keys (with an admin API key) -> use -> DELETE ->
//     refused; bad input 400; the list has no secrets;
//   - last_used_at is recorded (written by the auth thread; flushed at a graceful stop);
//   - `mcpgw stdio` serves as the configured local principal (GW_STDIO_SUBJECT) without any
//     token while HTTP requires one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import * as h from './lib/e2e-harness.mjs';
import * as a from './lib/auth-harness.mjs';
import { Client, StdioClientTransport } from './lib/sdk.mjs';

const KEY_RE = /^mcpgw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;
let ctx, gw, adminKey, idleKey, clientSeen;
const keys = []; // every key string seen (none may appear in a log)

before(async () => {
  ctx = await a.setup({ tag: 'keys', mock: false, idp: false });
  // created before the start: loaded at start-up
  adminKey = a.createKey(ctx.env, { name: 'ops-automation', subject: 'ops-bot', roles: ['admin'] });
  idleKey = a.createKey(ctx.env, { name: 'never-used', subject: 'idle-bot' });
  keys.push(adminKey.key, idleKey.key);
  gw = await a.startAuthGateway(ctx, a.authSettings(null));
});

after(async () => {
  await h.stopAll();
  await ctx?.echo.stop();
  if (ctx) h.cleanupDir(ctx.dir);
});

const tryKey = (auth, opts = {}) => a.mcpPost(gw.mcpUrl, a.initialize(), { auth, ...opts });

/**
 * Polls until a request with `key` gets `status` (and, for refusals, a description matching
 * `re`); returns that response, or the last one at the deadline.
 */
async function untilStatus(key, status, timeoutMs = 8000, re = null) {
  let last;
  await a.poll(async () => {
    last = await tryKey(key);
    if (last.status !== status) return false;
    return !re || re.test(a.challenge(last.headers)?.error_description || '');
  }, timeoutMs, 100);
  return last;
}

function assertRefused(r, re, what) {
  assert.equal(r.status, 401, `${what}: HTTP ${r.status} ${r.text}`);
  const c = a.challenge(r.headers);
  assert.equal(c.error, 'invalid_token', what);
  assert.match(c.error_description, re, what);
}

test('a key created with the CLI while the gateway runs is picked up and identifies the service', async (t) => {
  const k = a.createKey(ctx.env, { name: 'booking-svc', subject: 'svc-booking-key', roles: ['booking'], clientId: 'booking-app' });
  keys.push(k.key);
  assert.match(k.key, KEY_RE);
  assert.equal(k.subject, 'svc-booking-key');
  assert.deepEqual(k.roles, ['booking']);
  const t0 = Date.now();
  const r = await untilStatus(k.key, 200);
  assert.equal(r.status, 200, `the new key is accepted: ${r.text}`);
  t.diagnostic(`accepted ${Date.now() - t0} ms after creation`);

  const client = await a.bearerClient(gw.mcpUrl, k.key, 'e2e-apikey');
  try {
    const who = h.resultJson(await client.callTool({ name: ctx.tools.whoami, arguments: {} }));
    assert.equal(who.user, 'svc-booking-key');
    assert.ok([k.id, 'booking-app'].includes(who.client), `client header ${who.client}`);
    clientSeen = who.client;
    assert.equal(who.authorization, null, 'the API key is never forwarded upstream');
  } finally {
    await client.close().catch(() => {});
  }
  for (const req of ctx.echo.requests)
    for (const v of Object.values(req.headers)) assert.ok(!String(v).includes('mcpgw_'), 'a key reached the upstream');

  const list = h.mcpgw(ctx.env, ['keys', 'list', '--json']);
  assert.equal(list.status, 0, list.stderr);
  const rows = JSON.parse(list.stdout);
  const row = rows.find((x) => x.id === k.id);
  assert.ok(row, 'listed');
  assert.equal(row.key, undefined);
  assert.equal(row.hash, undefined);
  for (const s of keys) assert.ok(!list.stdout.includes(s.slice(-43)), 'a secret in `keys list`');
  const text = h.mcpgw(ctx.env, ['keys', 'list']);
  assert.match(text.stdout, new RegExp(`${k.id}\\s+booking-svc\\s+svc-booking-key\\s+booking\\s+active`));
});

test('the upstream sees the client id a key was created with (--client-id)', () => {
  assert.equal(clientSeen, 'booking-app');
});

test('malformed, unknown and altered keys: 401 invalid_token with a precise description', async () => {
  assertRefused(await tryKey('mcpgw_short'), /malformed/, 'malformed');
  assertRefused(await tryKey(`mcpgw_${'0'.repeat(12)}_${'A'.repeat(43)}`), /unknown or revoked/, 'unknown id');
  const k = adminKey.key;
  const altered = k.slice(0, -1) + (k.endsWith('A') ? 'B' : 'A');
  assertRefused(await tryKey(altered), /unknown or revoked/, 'altered secret');
  assertRefused(await tryKey(`mcpgw_${adminKey.id}_${'!'.repeat(43)}`), /malformed/, 'bad characters');
  const none = await tryKey(null);
  assert.equal(none.status, 401);
  assert.equal(a.challenge(none.headers).error, undefined);
  const jwtLike = await tryKey('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
  assertRefused(jwtLike, /API keys only/, 'a JWT where no provider is configured');
  assert.equal((await tryKey(k)).status, 200, 'the genuine key still works');
});

test('`mcpgw keys revoke`: the next request with the key is refused, inside an open session too', async (t) => {
  const k = a.createKey(ctx.env, { name: 'to-revoke', subject: 'svc-revoke' });
  keys.push(k.key);
  assert.equal((await untilStatus(k.key, 200)).status, 200);
  const { session, version } = await a.openSession(gw.mcpUrl, k.key);
  const list = () => a.mcpPost(gw.mcpUrl, a.rpc('tools/list'), { auth: k.key, session, version });
  assert.equal((await list()).status, 200);

  const rv = h.mcpgw(ctx.env, ['keys', 'revoke', k.id]);
  assert.equal(rv.status, 0, rv.stderr);
  assert.match(rv.stdout, new RegExp(`revoked API key ${k.id}`));
  const t0 = Date.now();
  const r = await untilStatus(k.key, 401);
  assertRefused(r, /unknown or revoked/, 'revoked key');
  t.diagnostic(`refused ${Date.now() - t0} ms after the revocation`);
  assert.ok(Date.now() - t0 < 8000);
  const inSession = await list();
  assert.equal(inSession.status, 401, `the open session is refused too: ${inSession.text}`);
  const show = JSON.parse(h.mcpgw(ctx.env, ['keys', 'show', k.id]).stdout);
  assert.ok(show.revoked_at, 'the row stays, marked revoked');
  assert.equal((await tryKey(adminKey.key)).status, 200, 'other keys unaffected');
});

test('expiry: a key created with --ttl 2 works, then is refused as expired; a past --expires is refused', async () => {
  const k = a.createKey(ctx.env, { name: 'short-lived', subject: 'svc-short', ttl: 2 });
  keys.push(k.key);
  const exp = Date.parse(k.expires_at);
  assert.ok(exp > Date.now() && exp <= Date.now() + 3000, `expires_at ${k.expires_at}`);
  const ok = await untilStatus(k.key, 200, 3000);
  // on a slow machine the watcher may only load it after it expired: then only the refusal is seen
  if (ok.status === 200) assert.ok(Date.now() < exp + 1000, 'accepted while valid');
  const r = await untilStatus(k.key, 401, exp - Date.now() + 6000, /expired/);
  assertRefused(r, /expired/, 'expired key');
  assert.ok(Date.now() >= exp - 1000, 'refused only around its expiry');

  const past = h.mcpgw(ctx.env, ['keys', 'create', '--name', 'old', '--subject', 'x', '--expires', '2020-01-01T00:00:00Z']);
  assert.notEqual(past.status, 0);
  assert.match(past.stderr, /future/);
  const both = h.mcpgw(ctx.env, ['keys', 'create', '--name', 'x', '--subject', 'x', '--ttl', '5', '--expires', '2099-01-01T00:00:00Z']);
  assert.notEqual(both.status, 0);
  const noSubject = h.mcpgw(ctx.env, ['keys', 'create', '--name', 'x']);
  assert.equal(noSubject.status, 2);
});

test('admin API: POST /admin/api/keys (admin API key) -> use -> DELETE -> refused; bad input 400', async () => {
  const noAuth = await a.admin(gw, 'POST', '/keys', { body: { name: 'x', subject: 'y' } });
  assert.equal(noAuth.status, 401, noAuth.text);

  const cr = await a.admin(gw, 'POST', '/keys', { auth: adminKey.key,
    body: { name: 'partner-portal', subject: 'svc-partner', roles: ['partner'], ttl_seconds: 3600 } });
  assert.equal(cr.status, 201, cr.text);
  const k = cr.json;
  keys.push(k.key);
  assert.match(k.key, KEY_RE);
  assert.equal(cr.headers.get('location'), `/admin/api/keys/${k.id}`);
  assert.ok(k.expires_at);
  assert.equal(k.hash, undefined, 'never the hash');

  const got = await a.admin(gw, 'GET', `/keys/${k.id}`, { auth: adminKey.key });
  assert.equal(got.status, 200);
  assert.equal(got.json.key, undefined, 'the key is shown only once');
  assert.equal(got.json.subject, 'svc-partner');
  const all = await a.admin(gw, 'GET', '/keys', { auth: adminKey.key });
  assert.equal(all.status, 200);
  for (const s of keys) assert.ok(!all.text.includes(s.slice(-43)), 'a secret in GET /keys');
  assert.ok(all.json.keys.some((x) => x.id === k.id));

  // the 201 comes after this replica's authenticator loaded the key: usable at once, no polling
  const first = await tryKey(k.key);
  assert.equal(first.status, 200, `the key made through the admin API works at once: ${first.status} ${first.text}`);
  const del = await a.admin(gw, 'DELETE', `/keys/${k.id}`, { auth: adminKey.key });
  assert.equal(del.status, 200, del.text);
  assert.ok(del.json.revoked_at);
  assertRefused(await tryKey(k.key), /unknown or revoked/, 'revoked through the admin API, refused at once');

  const bad = await a.admin(gw, 'POST', '/keys', { auth: adminKey.key, body: { name: 'x', subject: 'y', owner: 'z' } });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /unknown field/);
  const badTtl = await a.admin(gw, 'POST', '/keys', { auth: adminKey.key, body: { name: 'x', subject: 'y', ttl_seconds: -5 } });
  assert.equal(badTtl.status, 400, badTtl.text);
  const missing = await a.admin(gw, 'DELETE', '/keys/000000000000', { auth: adminKey.key });
  assert.equal(missing.status, 404, missing.text);
  // a key without the admin role cannot manage keys
  const plain = await a.admin(gw, 'GET', '/keys', { auth: idleKey.key });
  assert.equal(plain.status, 403, plain.text);
  // that request used idleKey: make a fresh idle key for the last-used check below
  idleKey = a.createKey(ctx.env, { name: 'never-used-2', subject: 'idle-bot' });
  keys.push(idleKey.key);
});

test('stdio: `mcpgw stdio` serves as the configured local principal without any token', async () => {
  const transport = new StdioClientTransport({
    command: h.GW_BIN,
    args: ['stdio'],
    stderr: 'pipe',
    env: { ...gw.env, GW_STDIO_SUBJECT: 'desk-user', GW_STDIO_ROLES: 'customer-care', GW_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  transport.stderr.setEncoding('utf8');
  transport.stderr.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'e2e-stdio', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((x) => x.name === ctx.tools.whoami));
    const who = h.resultJson(await client.callTool({ name: ctx.tools.whoami, arguments: {} }));
    assert.equal(who.user, 'desk-user', 'the upstream sees the stdio principal');
    assert.equal(who.authorization, null);
  } finally {
    await client.close().catch(() => {});
  }
  assert.deepEqual(h.sanitizerReports(stderr), []);
  // while HTTP on the same configuration still requires a credential
  assert.equal((await tryKey(null)).status, 401);
});

test('last_used_at: recorded for used keys, flushed at a graceful stop; none for an unused key', async () => {
  assert.equal((await tryKey(adminKey.key)).status, 200);
  const usedAt = Math.floor(Date.now() / 1000);
  const r = await gw.stop();
  const log = gw.stderr();
  assert.deepEqual(h.sanitizerReports(log), []);
  assert.ok(h.cleanExit(r, log), `gateway exit ${r.code} (signal ${r.signal})`);
  for (const s of keys) assert.ok(!log.includes(s), 'an API key in the gateway log');
  for (const s of keys) assert.ok(!log.includes(s.slice(-43)), 'an API key secret in the gateway log');

  const used = JSON.parse(h.mcpgw(ctx.env, ['keys', 'show', adminKey.id]).stdout);
  assert.ok(used.last_used_at, `last_used_at of a used key: ${JSON.stringify(used)}`);
  const t = Date.parse(used.last_used_at) / 1000;
  assert.ok(t >= usedAt - 1 && t <= usedAt + 2, `last_used_at ${used.last_used_at} is the last use (${usedAt})`);
  const idle = JSON.parse(h.mcpgw(ctx.env, ['keys', 'show', idleKey.id]).stdout);
  assert.equal(idle.last_used_at ?? null, null, 'an unused key has no last_used_at');
  const list = h.mcpgw(ctx.env, ['keys', 'list']);
  assert.match(list.stdout, new RegExp(`${idleKey.id}.*never used`));
});
