// tests/replicas/replicas.test.mjs
// Three gateway replicas behind nginx (Debian's, round-robin) sharing a real PostgreSQL (the
// registry, API keys, rate-limit rules) and a real Redis 7 (limits, sessions, idempotency keys),
// with the mock APIM as upstream: "any replica serves any request, exactly".
//   1. a rule added with `mcpgw limits add` (PostgreSQL NOTIFY) is in force on every replica;
//      a burst of N calls against a limit of L per minute, spread over the replicas, passes
//      exactly L times (the count is reported); refusals carry -32008 with retryAfterSeconds,
//      Retry-After and the RateLimit fields;
//   2. a rule created through one replica's admin API is in force on the others;
//   3. a session started on one replica works on the others; DELETE on one is a 404 on all;
//   4. an idempotent booking retried through another replica returns the first booking and
//      reaches the mock APIM once (its database holds one booking);
//   5. Redis stopped mid-run: the fail-closed replica refuses limited calls with -32009 at once,
//      the local one keeps limiting in process, idempotent writes are refused (not sent), no
//      replica hangs or crashes; Redis restarted: shared limits are back;
//   6. a replica killed (SIGKILL) mid-load: every call the client saw acknowledged is a booking
//      in the mock's database, retries of the others (same idempotency key, through the
//      survivors) complete, and no booking is duplicated;
//   7. a user's consent (2026-07-28 input_required, a policy `confirm` on cancel_booking) given
//      through one replica is spent on all: replayed through another it is refused (-32007).
// Needs GW_TEST_PG_URL (scripts/pg/pg-test-server.sh), redis-server and nginx. Everything on
// loopback; bounded (about a minute). Run by scripts/test.d/70-replicas.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from '../integration/lib/e2e-harness.mjs';

const PG = process.env.GW_TEST_PG_URL;
const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const NGINX_BIN = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));
const SKIP = !PG ? 'GW_TEST_PG_URL is not set (run through scripts/test.d/70-replicas.sh)'
  : !REDIS_BIN ? 'redis-server is not installed' : !NGINX_BIN ? 'nginx is not installed' : false;

let dir, secrets, mock, env, T, redis, nginx, lbUrl;
let alice, bob, admin;            // API keys
const reps = [];                  // {name, gw, adminUrl, mode}
const report = {};

// ------------------------------------------------------------------------------------------
// processes

async function startRedis() {
  const sock = join(dir, 'redis.sock');
  const proc = spawn(REDIS_BIN, ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 300 && !existsSync(sock); i++) await sleep(10);
  assert.ok(existsSync(sock), 'redis-server started');
  proc.exitedP = new Promise((res) => proc.on('exit', res));
  return { proc, url: `unix://${sock}`, sock };
}

async function stopRedis() {
  redis.proc.kill('SIGKILL');
  await redis.proc.exitedP;
}

async function startNginx(ports) {
  const port = await h.freePort();
  const ndir = join(dir, 'nginx');
  mkdirSync(join(ndir, 'tmp'), { recursive: true });
  const conf = join(ndir, 'nginx.conf');
  writeFileSync(conf, `
${process.getuid && process.getuid() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${ndir}/nginx.pid;
error_log ${ndir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log ${ndir}/access.log;
    client_body_temp_path ${ndir}/tmp/body;
    proxy_temp_path ${ndir}/tmp/proxy;
    fastcgi_temp_path ${ndir}/tmp/fastcgi;
    uwsgi_temp_path ${ndir}/tmp/uwsgi;
    scgi_temp_path ${ndir}/tmp/scgi;
    upstream gateways {
${ports.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
        keepalive 32;
    }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 30s;
        }
    }
}
`);
  const proc = spawn(NGINX_BIN, ['-p', ndir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (b) => { err += b; });
  proc.exitedP = new Promise((res) => proc.on('exit', res));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) return { proc, url, conf };
    } catch { /* not yet */ }
    if (proc.exitCode !== null) break;
    await sleep(25);
  }
  throw new Error(`nginx did not start: ${err}`);
}

async function startReplica(name, mode) {
  const adminPortFile = join(dir, `admin-port-${name}`);
  const gw = await h.startGateway({
    ...env,
    GW_DATA_DIR: join(dir, `data-${name}`),
    GW_RATELIMIT_ON_REDIS_FAILURE: mode,
    GW_ADMIN_LISTEN: '127.0.0.1:0',
  }, dir, ['--admin-port-file', adminPortFile]);
  gw.proc.procName = `replica-${name}`;
  let adminPort = 0;
  for (let i = 0; i < 200 && !adminPort; i++) {
    if (existsSync(adminPortFile)) adminPort = Number(readFileSync(adminPortFile, 'utf8').trim());
    if (!adminPort) await sleep(20);
  }
  const r = { name, gw, mode, adminUrl: `http://127.0.0.1:${adminPort}/admin/api` };
  reps.push(r);
  return r;
}

// ------------------------------------------------------------------------------------------
// a minimal MCP client over fetch (so that each request can go to any replica)

async function post(url, body, { session, key, headers = {} } = {}) {
  const hdrs = {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}),
    ...headers,
  };
  const r = await fetch(`${url}/mcp`, { method: 'POST', headers: hdrs, body: JSON.stringify(body) });
  const text = await r.text();
  let msg = null;
  if ((r.headers.get('content-type') || '').includes('text/event-stream')) {
    for (const line of text.split('\n'))
      if (line.startsWith('data:')) {
        const m = JSON.parse(line.slice(5));
        if (m.id === body.id) msg = m;
      }
  } else if (text) {
    msg = JSON.parse(text);
  }
  return { status: r.status, headers: r.headers, msg, text };
}

let nextId = 1;
async function initialize(url, key) {
  const r = await post(url, { jsonrpc: '2.0', id: nextId++, method: 'initialize', params: {
    protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'replicas', version: '1' } } },
  { key });
  assert.equal(r.status, 200, r.text);
  const session = r.headers.get('mcp-session-id');
  assert.ok(session, 'a session id');
  const n = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { session, key });
  assert.equal(n.status, 202);
  return session;
}

function callTool(url, session, key, name, args, meta) {
  const params = { name, arguments: args };
  if (meta) params._meta = meta;
  return post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params }, { session, key });
}

function keyOf(stdout) {
  const j = JSON.parse(stdout);
  assert.ok(j.key, 'the key is shown once');
  return j.key;
}

function cli(args) {
  const r = h.mcpgw(env, args);
  assert.equal(r.status, 0, `mcpgw ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function adminGet(rep, path) {
  const r = await fetch(`${rep.adminUrl}${path}`, { headers: { authorization: `Bearer ${admin}` } });
  return { status: r.status, json: await r.json() };
}

/** Waits until every live replica has rule `id` (enabled) in force. */
async function ruleEverywhere(id, present = true) {
  const ok = await h.waitFor(async () => {
    for (const rep of reps.filter((x) => !x.dead)) {
      const r = await adminGet(rep, '/limits');
      const has = (r.json.rules || []).some((x) => x.id === id && x.enabled);
      if (has !== present) return false;
    }
    return true;
  }, 8000, 50);
  assert.ok(ok, `rule ${id} ${present ? 'in force' : 'gone'} on every replica`);
}

// ------------------------------------------------------------------------------------------

before(async () => {
  if (SKIP) return;
  dir = h.tempDir('replicas');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  redis = await startRedis();
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
    DATABASE_URL: PG,
    REDIS_URL: redis.url,
    GW_SESSION_SECRET: 'replicas-' + randomBytes(16).toString('hex'),
    GW_AUTH_MODE: 'required',
    GW_TRUSTED_PROXIES: '127.0.0.1',
    GW_WORKERS: '1',
    GW_LOG_LEVEL: 'info',
    GW_REGISTRY_POLL_SECONDS: '1',
    GW_RATELIMIT_RELOAD_SECONDS: '2',
    GW_IDEMPOTENCY_INFLIGHT_SECONDS: '3',
    GW_REDIS_COMMAND_TIMEOUT_MS: '200',
    GW_REDIS_RECONNECT_MAX_MS: '300',
    GW_SHUTDOWN_GRACE_SECONDS: '1',
  } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  // governance: only a confirmation on cancellations (no exposure rule: every tool visible)
  const rule = join(dir, 'confirm-cancel.json');
  writeFileSync(rule, JSON.stringify({ id: 'confirm-cancel', effect: 'confirm', tools: [T.cancelBooking],
    reason: 'a cancellation changes the customer\'s appointments' }));
  cli(['governance', 'put', 'policies', rule]);
  alice = keyOf(cli(['keys', 'create', '--name', 'alice', '--subject', 'alice', '--role', 'agent', '--json']));
  bob = keyOf(cli(['keys', 'create', '--name', 'bob', '--subject', 'bob', '--role', 'agent', '--json']));
  admin = keyOf(cli(['keys', 'create', '--name', 'ops', '--subject', 'ops', '--role', 'admin', '--json']));
  await startReplica('a', 'closed');
  await startReplica('b', 'closed');
  await startReplica('c', 'local');
  nginx = await startNginx(reps.map((r) => r.gw.port));
  lbUrl = nginx.url;
});

after(async () => {
  if (SKIP) return;
  if (Object.keys(report).length) console.log(`# replicas report: ${JSON.stringify(report)}`);
  nginx?.proc.kill('SIGTERM');
  if (redis && redis.proc.exitCode === null) await stopRedis();
  const texts = reps.map((r) => ({ name: r.name, text: r.gw.stderr() }));
  await h.stopAll();
  await nginx?.proc.exitedP;
  for (const t of texts)
    assert.deepEqual(h.sanitizerReports(t.text), [], `replica ${t.name}: sanitizer reports`);
  h.cleanupDir(dir);
});

test('a CLI rule reaches every replica; a burst of N calls against L/min over 3 replicas passes exactly L', { skip: SKIP }, async (t) => {
  const L = 30, N = 120, CONC = 24;
  cli(['limits', 'add', '--id', 'dealer-lookups', '--rate', `${L}/min`, '--per', 'tool',
    '--tool', T.getDealer, '--description', 'getDealer, all callers together']);
  cli(['limits', 'add', '--id', 'writes-per-user', '--rate', '600/min', '--per', 'user', '--risk', 'write']);
  await ruleEverywhere('dealer-lookups');
  await ruleEverywhere('writes-per-user');
  const session = await initialize(lbUrl, alice);
  const results = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < N) {
      next++;
      const key = next % 2 ? alice : bob; // two users: a per-tool limit counts everyone
      const s = key === alice ? session : await sessions(key);
      results.push(await callTool(lbUrl, s, key, T.getDealer, { dealer_id: 'MSIL-PUNE-001' }));
    }
  }));
  const elapsed = performance.now() - t0;
  const ok = results.filter((r) => r.msg && r.msg.result && !r.msg.result.isError);
  const limited = results.filter((r) => r.msg && r.msg.error && r.msg.error.code === -32008);
  const other = results.filter((r) => !ok.includes(r) && !limited.includes(r));
  assert.deepEqual(other.map((r) => `${r.status} ${r.text.slice(0, 200)}`), [], 'only allowed or limited');
  // GCRA refills one call every 60/L s: a burst that lasted longer earns that many more
  const refill = Math.floor(elapsed / (60000 / L));
  report.burst = { N, L, allowed: ok.length, limited: limited.length, ms: Math.round(elapsed) };
  t.diagnostic(`burst: ${N} calls, limit ${L}/min, ${ok.length} allowed, ${limited.length} limited, ${Math.round(elapsed)} ms`);
  if (refill === 0) assert.equal(ok.length, L, 'exactly L allowed');
  else assert.ok(ok.length >= L && ok.length <= L + refill, `L..L+${refill} allowed`);
  // every replica took part, and checked the shared counter
  for (const rep of reps) {
    const st = (await adminGet(rep, '/limits')).json.status;
    assert.equal(st.backend, 'redis');
    assert.ok(st.checks > 0, `replica ${rep.name} served part of the burst`);
  }
  const e = limited[0].msg.error;
  assert.ok(e.data.retryAfterSeconds >= 1 && e.data.retryAfterSeconds <= 2, JSON.stringify(e.data));
  assert.equal(e.data.limit, 'dealer-lookups');
  assert.match(e.message, /Retry this call after \d+ s/);
  assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
  assert.match(ok[0].headers.get('ratelimit-policy') || '', /"dealer-lookups";q=30;w=60/);
  assert.match(ok[0].headers.get('ratelimit') || '', /"dealer-lookups";r=\d+;t=\d+/);
});

const sessionCache = new Map();
async function sessions(key) {
  if (!sessionCache.has(key)) sessionCache.set(key, initialize(lbUrl, key));
  return sessionCache.get(key);
}

test('a rule created through one replica\'s admin API is in force on the others', { skip: SKIP }, async () => {
  const r = await fetch(`${reps[0].adminUrl}/limits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'slots-per-user', rate: '2/min', per: ['user'], match: { tools: [T.getAvailableSlots] } }),
  });
  assert.equal(r.status, 201, await r.text());
  await ruleEverywhere('slots-per-user');
  const day = h.nextWorkday((await mock.health()).today);
  const s = await initialize(reps[1].gw.url, bob);
  const codes = [];
  for (const rep of [reps[1], reps[2], reps[0]]) {
    const res = await callTool(rep.gw.url, s, bob, T.getAvailableSlots, { dealer_id: 'MSIL-PUNE-003', date: day });
    codes.push(res.msg.error ? res.msg.error.code : 'ok');
  }
  assert.deepEqual(codes, ['ok', 'ok', -32008], 'two per user per minute, whichever replica');
  // dry run through the API: the third call passes, the denial is recorded in _meta
  const p = await fetch(`${reps[2].adminUrl}/limits/slots-per-user`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'dry_run' }),
  });
  assert.equal(p.status, 200, await p.text());
  await h.waitFor(async () => {
    for (const rep of reps) {
      const rules = (await adminGet(rep, '/limits')).json.rules;
      if (!rules.some((x) => x.id === 'slots-per-user' && x.mode === 'dry_run')) return false;
    }
    return true;
  }, 8000, 50);
  const res = await callTool(reps[0].gw.url, s, bob, T.getAvailableSlots, { dealer_id: 'MSIL-PUNE-003', date: day });
  assert.ok(res.msg.result, JSON.stringify(res.msg));
  const denials = res.msg.result._meta && res.msg.result._meta['io.msil/dryRunDenials'];
  assert.ok(Array.isArray(denials) && denials.some((d) => d.rule === 'slots-per-user'), JSON.stringify(res.msg.result._meta));
});

test('a session started on one replica works on the others; DELETE on one is a 404 on all', { skip: SKIP }, async () => {
  const [a, b, c] = reps;
  const s = await initialize(a.gw.url, alice);
  for (const rep of [b, c, a]) {
    const r = await post(rep.gw.url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { session: s, key: alice });
    assert.equal(r.status, 200, `${rep.name}: ${r.text.slice(0, 200)}`);
    assert.ok(r.msg.result.tools.length >= 9);
  }
  // the session is bound to alice: bob cannot use it anywhere
  const stolen = await post(c.gw.url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { session: s, key: bob });
  assert.equal(stolen.status, 404);
  // DELETE through the load balancer (any replica), then every replica refuses at once
  const d = await fetch(`${lbUrl}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': s, authorization: `Bearer ${alice}` } });
  assert.equal(d.status, 200);
  for (const rep of [a, b, c]) {
    const r = await post(rep.gw.url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { session: s, key: alice });
    assert.equal(r.status, 404, `replica ${rep.name} still accepts a terminated session`);
  }
  // a replica that starts later learns the terminations from Redis (resync)
  const late = await startReplica('d', 'local');
  const r = await post(late.gw.url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { session: s, key: alice });
  const r2 = r.status === 404 ? r : await h.waitFor(async () => {
    const x = await post(late.gw.url, { jsonrpc: '2.0', id: nextId++, method: 'tools/list' }, { session: s, key: alice });
    return x.status === 404 ? x : null;
  }, 3000, 50);
  assert.ok(r2 && r2.status === 404, 'the late replica refuses the terminated session');
  await late.gw.stop();
  late.dead = true;
});

/** A 2026-07-28 tools/call (no session: any replica can answer it). */
async function modernCall(url, key, name, args, extra = {}) {
  const body = { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args, ...extra,
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'replicas', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } } };
  const r = await post(url, body, { key, headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name } });
  return r.msg;
}

test('a consent given through one replica is spent on all: replayed through another it is refused', { skip: SKIP }, async () => {
  const [a, b] = reps;
  const args = { booking_id: 'BK-2026-999999' }; // none such: the upstream answers 404, the consent is still spent
  const first = await modernCall(a.gw.url, alice, T.cancelBooking, args);
  assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
  const yes = { inputResponses: { confirm: { action: 'accept', content: { confirm: true } } }, requestState: first.result.requestState };
  const used = await modernCall(a.gw.url, alice, T.cancelBooking, args, yes);
  assert.ok(used.result, JSON.stringify(used)); // ran (the mock's 404 is a tool error, not a refusal)
  for (const rep of [b, a]) {
    const replay = await modernCall(rep.gw.url, alice, T.cancelBooking, args, yes);
    assert.equal(replay.error?.code, -32007, `${rep.name}: ${JSON.stringify(replay)}`);
    assert.match(replay.error.message, /already used/);
  }
});

function booking(dealer, day, time, customer = 'CUST001234', regno = 'MH12AB1234') {
  return { customer_id: customer, registration_number: regno, dealer_id: dealer, date: day, time, service_type: 'regular' };
}

test('an idempotent booking retried through another replica returns the first booking, once in the mock DB', { skip: SKIP }, async () => {
  const [a, b, c] = reps;
  const day = h.nextWorkday((await mock.health()).today);
  const args = booking('MSIL-PUNE-002', day, '11:30');
  const key = 'retry-' + randomBytes(6).toString('hex');
  await mock.resetStats();
  const sa = await initialize(a.gw.url, alice);
  const first = await callTool(a.gw.url, sa, alice, T.createBooking, args, { idempotencyKey: key });
  assert.ok(first.msg.result && !first.msg.result.isError, first.text);
  const id1 = h.resultJson(first.msg.result).booking_id;
  // the client did not see the answer and retries through the load balancer's other replicas
  const again = [];
  for (const rep of [b, c]) {
    const s = await initialize(rep.gw.url, alice);
    again.push(await callTool(rep.gw.url, s, alice, T.createBooking, args, { idempotencyKey: key }));
  }
  for (const r of again) {
    assert.ok(r.msg.result && !r.msg.result.isError, r.text);
    assert.equal(h.resultJson(r.msg.result).booking_id, id1, 'the first booking, replayed');
  }
  const st = await mock.stats();
  assert.equal(h.statCount(st, 'POST /api/v1/bookings'), 1, 'the upstream saw one createBooking');
  const rows = mock.bookings().bookings.filter((x) => x.date === day && x.time === '11:30' && x.dealer_id === 'MSIL-PUNE-002');
  assert.equal(rows.length, 1, 'one booking in the mock database');
  // the same key with other arguments is a conflict, wherever it lands
  const s = await initialize(c.gw.url, alice);
  const conflict = await callTool(c.gw.url, s, alice, T.createBooking, { ...args, time: '12:00' }, { idempotencyKey: key });
  assert.equal(conflict.msg.result.isError, true);
  assert.match(h.resultText(conflict.msg.result), /already used with different arguments/);
});

test('Redis stopped mid-run: fail-closed refuses at once, local keeps limiting, writes are not sent, nothing hangs; back when Redis is', { skip: SKIP }, async () => {
  const [a, , c] = reps;
  const sa = await initialize(a.gw.url, alice);
  const sc = await initialize(c.gw.url, alice);
  await stopRedis();
  const tA = performance.now();
  // the first call may still find the connection up (it then learns the loss): allow one try
  let ra = await callTool(a.gw.url, sa, alice, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
  if (!(ra.msg.error && ra.msg.error.code === -32009))
    ra = await callTool(a.gw.url, sa, alice, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
  const msA = performance.now() - tA;
  assert.equal(ra.msg.error && ra.msg.error.code, -32009, ra.text);
  assert.match(ra.msg.error.message, /cannot check rate limits/);
  assert.ok(msA < 3000, `fail-closed answered in ${Math.round(msA)} ms`);
  report.redisDownFailClosedMs = Math.round(msA);
  // the local replica: limits in process (30/min for getDealer): allowed now
  const rc = await callTool(c.gw.url, sc, alice, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
  assert.ok(rc.msg.result && !rc.msg.result.isError, rc.text);
  assert.match(rc.headers.get('ratelimit') || '', /"dealer-lookups"/);
  // an idempotent write cannot be protected: refused without reaching the upstream
  await mock.resetStats();
  const day = h.nextWorkday((await mock.health()).today);
  const w = await callTool(c.gw.url, sc, alice, T.createBooking, booking('MSIL-PUNE-004', day, '09:30'),
    { idempotencyKey: 'down-' + randomBytes(4).toString('hex') });
  assert.equal(w.msg.result.isError, true, w.text);
  assert.match(h.resultText(w.msg.result), /idempotency store .* cannot be reached/);
  assert.equal(h.statCount(await mock.stats(), 'POST /api/v1/bookings'), 0);
  // every replica is alive and answers
  for (const rep of reps.filter((x) => !x.dead)) {
    assert.equal(rep.gw.proc.exitCode, null, `replica ${rep.name} is running`);
    assert.equal((await fetch(`${rep.gw.url}/health`)).status, 200);
    const st = (await adminGet(rep, '/limits')).json.status;
    assert.ok(st.backendErrors >= 0);
  }
  // Redis back (empty: its limit state is gone, so the burst quota is fresh)
  redis = await startRedis();
  const back = await h.waitFor(async () => {
    const r = await callTool(a.gw.url, sa, alice, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
    return r.msg.error && r.msg.error.code === -32009 ? null : r;
  }, 5000, 100);
  assert.ok(back && back.msg.result && !back.msg.result.isError, 'shared limits answer again');
  const stA = (await adminGet(a, '/limits')).json.status;
  assert.ok(stA.failClosed >= 1 && stA.backendErrors >= 1, JSON.stringify(stA));
  const stC = (await adminGet(c, '/limits')).json.status;
  assert.ok(stC.failLocal >= 1, JSON.stringify(stC));
});

test('a replica killed mid-load loses no acknowledged call and duplicates none', { skip: SKIP }, async (t) => {
  const victim = reps[1];
  const today = (await mock.health()).today;
  // free places over the next working days at four dealers
  const sa = await initialize(reps[0].gw.url, alice);
  const units = [];
  let day = today;
  for (let d = 0; d < 4 && units.length < 48; d++) {
    day = h.nextWorkday(day);
    for (const dealer of ['MSIL-PUNE-001', 'MSIL-PUNE-002', 'MSIL-PUNE-003', 'MSIL-PUNE-004']) {
      const r = await callTool(reps[0].gw.url, sa, alice, T.getAvailableSlots, { dealer_id: dealer, date: day });
      if (!r.msg.result || r.msg.result.isError) continue;
      for (const slot of h.resultJson(r.msg.result).slots || [])
        for (let k = 0; k < Math.min(slot.available_capacity, 1) && units.length < 48; k++)
          units.push({ dealer, day, time: slot.time });
    }
  }
  assert.ok(units.length >= 40, `enough free places (${units.length})`);
  const jobs = units.map((u, i) => ({ ...u, key: `load-${i}-${randomBytes(4).toString('hex')}` }));
  const before = new Set(mock.bookings().bookings.map((b) => b.booking_id));
  const acked = new Map(); // key -> booking id
  let retries = 0, killed = false;
  const deadline = Date.now() + 40000;
  const sLb = await initialize(lbUrl, alice);
  let next = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      for (;;) {
        assert.ok(Date.now() < deadline, 'every call completes within 40 s');
        let r;
        try {
          r = await callTool(lbUrl, sLb, alice, T.createBooking, booking(j.dealer, j.day, j.time), { idempotencyKey: j.key });
        } catch { r = null; }
        const res = r && r.msg && r.msg.result;
        if (res && !res.isError) {
          acked.set(j.key, h.resultJson(res).booking_id);
          if (!killed && acked.size >= 8) { // mid-load: the victim dies with calls in flight
            killed = true;
            victim.gw.proc.kill('SIGKILL');
            victim.dead = true;
          }
          break;
        }
        // connection error, 502 from nginx, "still in progress" (the dead replica's
        // reservation, until it expires): retry the same key
        const text = r ? (res ? h.resultText(res) : r.text) : 'network';
        assert.ok(!r || r.status >= 500 || /in progress|network/.test(text) || !res,
          `unexpected answer: ${r && r.status} ${text.slice(0, 300)}`);
        retries++;
        await sleep(200);
      }
    }
  }));
  assert.ok(killed, 'a replica was killed during the load');
  assert.equal(acked.size, jobs.length, 'every booking acknowledged in the end');
  const rows = mock.bookings().bookings.filter((b) => !before.has(b.booking_id));
  const ids = new Set(rows.map((b) => b.booking_id));
  for (const [key, id] of acked) assert.ok(ids.has(id), `acknowledged booking ${id} (${key}) is in the mock database`);
  assert.equal(new Set(acked.values()).size, jobs.length, 'one booking per key');
  assert.equal(rows.length, jobs.length, 'no duplicate booking in the mock database');
  const loadRows = rows;
  report.kill = { calls: jobs.length, acknowledged: acked.size, retries, bookingsInDb: loadRows.length };
  t.diagnostic(`kill: ${jobs.length} bookings, ${retries} retries after the kill, ${loadRows.length} rows in the mock DB`);
});
