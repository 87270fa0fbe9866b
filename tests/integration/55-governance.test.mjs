// tests/integration/55-governance.test.mjs
// Governance end to end, with the embedded default's rules (deploy/embedded/governance.yaml),
// authentication required, one API key per identity, the official SDK client and the mock APIM:
//   - the analyst sees the read tools only, and a hidden tool is "Unknown tool" (-32602);
//   - the customer-care agent books with the user's confirmation accepted through the SDK's
//     elicitation handler (the booking is in the mock's database), a declined cancellation leaves
//     the booking untouched, and a client without elicitation gets -32006 and books nothing;
//   - the dealer's agent sees the dealer tools only and may act only for its own dealer
//     (-32004 with the rule id, the policy version and a hint for another dealer's id);
//   - 2026-07-28 (MRTR): input_required with a sealed requestState; the answer books once; the
//     same state replayed, a tampered state and the state reused for other arguments are -32007;
//   - a role whose max_risk is read cannot execute a write tool even when it is exposed (-32003);
//   - "view as" (admin API preview) lists exactly what tools/list gives that identity;
//   - approvals expired longer ago than GW_APPROVAL_RETENTION_DAYS (30) are deleted at start
//     (they hold the call's arguments), the recent ones stay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import * as h from './lib/e2e-harness.mjs';

const RULES = join(h.REPO, 'deploy', 'embedded', 'governance.yaml');
let dir, secrets, mock, gw, env, T, admin;
const key = {};

function makeKey(name, roles, claims) {
  const args = ['keys', 'create', '--name', name, '--subject', `${name}@msil.example`, '--json'];
  for (const r of roles) args.push('--role', r);
  if (claims) args.push('--claims', JSON.stringify(claims));
  const r = h.mcpgw(env, args);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).key;
}

const auth = (k) => ({ Authorization: `Bearer ${k}` });

before(async () => {
  dir = h.tempDir('gov');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
    GW_AUTH_MODE: 'required', GW_ADMIN_DEV_MODE: 'false', GW_GOVERNANCE_FILE: RULES,
    GW_ADMIN_LISTEN: '127.0.0.1:0', GW_LOG_LEVEL: 'debug' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  key.cc = makeKey('cc', ['customer-care']);
  key.dealer = makeKey('dealer', ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] });
  key.analyst = makeKey('analyst', ['analyst']);
  key.ops = makeKey('ops', ['operator', 'admin']);
  // two approvals from long ago, in the database before the gateway starts
  const db = new DatabaseSync(join(env.GW_DATA_DIR, 'gateway.db'));
  const ins = db.prepare(`INSERT INTO approvals (id, status, binding, subject, client_id, tool,
    risk, args_digest, arguments, reason, created_at, expires_at) VALUES (?, 'denied', 'b', 's', '',
    'create_booking', 'write', ?, '{"customer_phone":"9876543210"}', '', ?, ?)`);
  const iso = (daysAgo) => new Date(Date.now() - daysAgo * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  ins.run('apr-old-40d', '0'.repeat(64), iso(41), iso(40));
  ins.run('apr-old-2d', '1'.repeat(64), iso(3), iso(2));
  db.close();
  const adminPort = join(dir, 'admin-port');
  gw = await h.startGateway(env, dir, ['--admin-port-file', adminPort]);
  await h.waitFor(() => existsSync(adminPort) && Number(readFileSync(adminPort, 'utf8')) > 0, 5000);
  admin = `http://127.0.0.1:${Number(readFileSync(adminPort, 'utf8'))}/admin/api`;
});

after(async () => {
  await h.stopAll();
  h.cleanupDir(dir);
});

async function adminApi(method, path, body, k = key.ops) {
  const res = await fetch(admin + path, { method, headers: { ...auth(k), 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: await res.json().catch(() => null) };
}

function rpcError(promise) {
  return promise.then(() => { throw new Error('expected a JSON-RPC error'); }, (e) => e);
}

test('the analyst sees read tools only; a hidden tool is an unknown tool', async () => {
  const c = await h.connectClient(gw.mcpUrl, 'gov-analyst', { headers: auth(key.analyst) });
  const { tools } = await c.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['find_nearby_dealers', 'get_available_slots', 'get_booking', 'get_dealer',
    'list_bookings', 'resolve_customer', 'resolve_vehicle']);
  const e = await rpcError(c.callTool({ name: T.createBooking, arguments: { dealer_id: 'x' } }));
  assert.equal(e.code, -32602);
  assert.match(e.message, /Unknown tool: create_booking/);
  // the same as a tool that does not exist at all (nothing reveals it)
  const e2 = await rpcError(c.callTool({ name: 'no_such_tool', arguments: {} }));
  assert.equal(e2.code, e.code);
  // a read tool works
  const r = await c.callTool({ name: T.resolveVehicle, arguments: { registration_number: 'MH12AB1234' } });
  assert.ok(!r.isError, h.resultText(r));
  await c.close();
});

test('"view as" lists exactly the tools/list of each identity', async () => {
  for (const [k, roles, claims] of [[key.analyst, ['analyst']], [key.cc, ['customer-care']],
    [key.dealer, ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] }]]) {
    const c = await h.connectClient(gw.mcpUrl, 'gov-view', { headers: auth(k) });
    const listed = (await c.listTools()).tools.map((t) => t.name).sort();
    await c.close();
    const pv = await adminApi('POST', '/exposure/preview', { principal: { roles, claims } });
    assert.equal(pv.status, 200, JSON.stringify(pv.json));
    assert.deepEqual(pv.json.tools.map((t) => t.name).sort(), listed, roles.join());
  }
});

let booking;

test('customer care books with the user confirming through elicitation; the booking is in the mock DB', async () => {
  const asked = [];
  const c = await h.connectClient(gw.mcpUrl, 'gov-cc', { headers: auth(key.cc),
    elicit: (p) => { asked.push(p); return { action: 'accept', content: { confirm: true } }; } });
  const day = h.nextWorkday((await mock.health()).today);
  const slots = h.resultJson(await c.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-PUNE-001', date: day } }));
  const slot = slots.slots.find((s) => s.available && s.available_capacity > 0);
  const res = await c.callTool({ name: T.createBooking, arguments: { customer_id: 'CUST001234',
    registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: slot.time } });
  assert.ok(!res.isError, h.resultText(res));
  booking = h.resultJson(res);
  assert.equal(asked.length, 1, 'the user was asked once');
  assert.match(asked[0].message, /create_booking/);
  assert.match(asked[0].message, /MSIL-PUNE-001/);
  assert.equal(asked[0].requestedSchema.properties.confirm.type, 'boolean');
  const row = mock.bookings().bookings.find((b) => b.booking_id === booking.booking_id);
  assert.ok(row, 'booked in the mock database');
  assert.equal(row.status, 'CONFIRMED');
  await c.close();
});

test('a declined cancellation does nothing; the model cannot confirm by itself', async () => {
  const c = await h.connectClient(gw.mcpUrl, 'gov-cc-decline', { headers: auth(key.cc),
    elicit: () => ({ action: 'decline' }) });
  const s0 = await mock.stats();
  // an argument the model sets is not consent: it is not even a valid argument here
  const res = await h.rawCall(c, T.cancelBooking, { booking_id: booking.booking_id });
  assert.equal(res.isError, true);
  assert.match(h.resultText(res), /declined/);
  const row = mock.bookings().bookings.find((b) => b.booking_id === booking.booking_id);
  assert.equal(row.status, 'CONFIRMED', 'still booked');
  assert.equal(h.apiCalls(await mock.stats()), h.apiCalls(s0), 'the upstream was not called');
  await c.close();
});

test('a client that cannot elicit: -32006 with a pending approval; once a person approves, the exact call runs once', async () => {
  const c = await h.connectClient(gw.mcpUrl, 'gov-cc-noelicit', { headers: auth(key.cc) });
  const n0 = mock.bookings().bookings.length;
  const day = h.nextWorkday((await mock.health()).today);
  const args = { customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: '11:00' };
  const e = await rpcError(c.callTool({ name: T.createBooking, arguments: args }));
  assert.equal(e.code, -32006);
  assert.match(e.message, /approval/);
  assert.equal(e.data.rule, 'confirm-bookings');
  assert.ok(e.data.policyVersion.startsWith('embedded-2026.12+'));
  const id = e.data.approval.id;
  assert.match(id, /^apr-[0-9a-f]{24}$/);
  assert.equal(e.data.approval.status, 'pending');
  assert.match(e.data.hint, new RegExp(id));
  assert.equal(mock.bookings().bookings.length, n0, 'nothing booked');
  // asking again for the same call does not pile up approvals
  const e2 = await rpcError(c.callTool({ name: T.createBooking, arguments: args }));
  assert.equal(e2.data.approval.id, id);
  // the approver sees it with its arguments; not approved yet: naming it does not help
  const list = await adminApi('GET', '/approvals?status=pending');
  const item = list.json.items.find((a) => a.id === id);
  assert.ok(item, JSON.stringify(list.json));
  assert.equal(item.tool, 'create_booking');
  assert.equal(item.arguments.time, '11:00');
  const early = await rpcError(c.callTool({ name: T.createBooking, arguments: args, _meta: { 'io.msil/approval': id } }));
  assert.equal(early.code, -32007);
  assert.match(early.message, /waiting for a decision/);
  // a person who is not an administrator cannot approve
  assert.equal((await adminApi('POST', `/approvals/${id}/approve`, {}, key.cc)).status, 403);
  const ok = await adminApi('POST', `/approvals/${id}/approve`, { comment: 'customer confirmed by phone' });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.json.status, 'approved');
  assert.equal(ok.json.decided_by, 'api_key:ops@msil.example');
  // for other arguments, or by another principal: refused
  const other = await rpcError(c.callTool({ name: T.createBooking, arguments: { ...args, time: '11:30' }, _meta: { 'io.msil/approval': id } }));
  assert.equal(other.code, -32007);
  assert.match(other.message, /another call/);
  // the exact call: booked once; the approval is spent
  const res = await c.callTool({ name: T.createBooking, arguments: args, _meta: { 'io.msil/approval': id } });
  assert.ok(!res.isError, h.resultText(res));
  assert.equal(mock.bookings().bookings.length, n0 + 1);
  const again = await rpcError(c.callTool({ name: T.createBooking, arguments: args, _meta: { 'io.msil/approval': id } }));
  assert.equal(again.code, -32007);
  assert.match(again.message, /already used/);
  assert.equal(mock.bookings().bookings.length, n0 + 1);
  // a denied approval stays denied
  const e3 = await rpcError(c.callTool({ name: T.createBooking, arguments: { ...args, time: '12:30' } }));
  assert.equal((await adminApi('POST', `/approvals/${e3.data.approval.id}/deny`, {})).json.status, 'denied');
  const denied = await rpcError(c.callTool({ name: T.createBooking, arguments: { ...args, time: '12:30' },
    _meta: { 'io.msil/approval': e3.data.approval.id } }));
  assert.match(denied.message, /was denied/);
  await c.close();
});

test('the dealer agent sees the dealer tools and acts only for its own dealer', async () => {
  const c = await h.connectClient(gw.mcpUrl, 'gov-dealer', { headers: auth(key.dealer), elicit: h.acceptAll });
  const names = (await c.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(names, ['create_booking', 'get_available_slots', 'get_dealer', 'resolve_customer', 'resolve_vehicle']);
  const day = h.nextWorkday((await mock.health()).today);
  const e = await rpcError(c.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-MUM-001', date: day } }));
  assert.equal(e.code, -32004);
  assert.match(e.message, /MSIL-MUM-001 is not one of yours/);
  assert.equal(e.data.rule, 'dealer-own-dealers');
  assert.match(e.data.hint, /dealer_ids/);
  const ok = await c.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-PUNE-001', date: day } });
  assert.ok(!ok.isError, h.resultText(ok));
  await c.close();
});

test('a read-only role cannot execute a write tool even when exposed to it (-32003)', async () => {
  const put = await adminApi('POST', '/exposure/rules', { id: 'analyst-sees-booking', effect: 'allow',
    roles: ['analyst'], tools: ['create_booking'] });
  assert.equal(put.status, 201, JSON.stringify(put.json));
  try {
    const c = await h.connectClient(gw.mcpUrl, 'gov-analyst2', { headers: auth(key.analyst) });
    await h.waitFor(async () => (await c.listTools()).tools.some((t) => t.name === T.createBooking), 5000);
    const e = await rpcError(c.callTool({ name: T.createBooking, arguments: { dealer_id: 'MSIL-PUNE-001',
      registration_number: 'MH12AB1234', date: '2030-01-01', time: '10:00' } }));
    assert.equal(e.code, -32003);
    assert.match(e.message, /write tool/);
    assert.equal(e.data.rule, 'roles');
    await c.close();
  } finally {
    assert.equal((await adminApi('DELETE', '/exposure/rules/analyst-sees-booking')).status, 200);
  }
});

// ---- 2026-07-28: input_required + requestState, over raw HTTP (the SDK speaks 2025-11-25)

async function modern(k, name, args, extra = {}) {
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, ...extra,
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'mrtr', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } } };
  const res = await fetch(gw.mcpUrl, { method: 'POST', body: JSON.stringify(body), headers: {
    ...auth(k), 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': name } });
  return res.json();
}

test('2026-07-28: confirmation by input_required; single use, bound to the call, tamper-evident', async () => {
  const day = h.nextWorkday((await mock.health()).today);
  const args = { customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: '12:00' };
  const first = await modern(key.cc, T.createBooking, args);
  assert.equal(first.result.resultType, 'input_required', JSON.stringify(first));
  const ask = first.result.inputRequests.confirm;
  assert.equal(ask.method, 'elicitation/create');
  const state = first.result.requestState;
  const yes = { inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } };
  const n0 = mock.bookings().bookings.length;
  const ok = await modern(key.cc, T.createBooking, args, { ...yes, requestState: state });
  assert.ok(ok.result && !ok.result.isError, JSON.stringify(ok));
  assert.equal(mock.bookings().bookings.length, n0 + 1);
  // replayed: the consent was spent
  const replay = await modern(key.cc, T.createBooking, args, { ...yes, requestState: state });
  assert.equal(replay.error?.code, -32007, JSON.stringify(replay));
  assert.match(replay.error.message, /already used/);
  // the same consent for other arguments
  const again = await modern(key.cc, T.createBooking, args);
  const other = await modern(key.cc, T.createBooking, { ...args, time: '12:30' }, { ...yes, requestState: again.result.requestState });
  assert.equal(other.error?.code, -32007);
  assert.match(other.error.message, /another call/);
  // by another principal
  const stolen = await modern(key.dealer, T.createBooking, args, { ...yes, requestState: again.result.requestState });
  assert.equal(stolen.error?.code, -32007, JSON.stringify(stolen));
  // tampered
  const s = again.result.requestState;
  const bad = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
  const tampered = await modern(key.cc, T.createBooking, args, { ...yes, requestState: bad });
  assert.equal(tampered.error?.code, -32007);
  assert.equal(mock.bookings().bookings.length, n0 + 1, 'exactly one booking from all of this');
  // declined
  const no = await modern(key.cc, T.createBooking, args, { inputResponses: { confirm: { action: 'decline' } },
    requestState: (await modern(key.cc, T.createBooking, args)).result.requestState });
  assert.equal(no.result.isError, true);
  assert.match(no.result.content[0].text, /declined/);
});

test('approvals expired more than GW_APPROVAL_RETENTION_DAYS ago leave the database', async () => {
  let ids = [];
  for (let i = 0; i < 50; i++) { // the janitor runs at start: up to 5 s
    const list = await adminApi('GET', '/approvals?limit=1000');
    assert.equal(list.status, 200);
    ids = list.json.items.map((a) => a.id);
    if (!ids.includes('apr-old-40d')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(!ids.includes('apr-old-40d'), 'expired 40 days ago: deleted');
  assert.ok(ids.includes('apr-old-2d'), 'expired 2 days ago: kept');
});
