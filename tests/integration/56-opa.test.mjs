// tests/integration/56-opa.test.mjs
// OPA as the policy decision point, end to end: the real gateway (the embedded roles and
// exposure rules, authentication required, one API key per identity), the mock APIM, the
// official SDK client, and the OPA stand-in (tests/support/opa-standin.mjs: OPA's Data API with
// the Rego policy of docs/opa/mcp.rego scripted in JavaScript). Two gateways, one after the
// other, against the same stand-in:
//   A  GW_POLICY_ENGINE=opa, msil/mcp/decision (object results), fail closed, cache 2 s,
//      timeout 250 ms, one worker: allow (and the input document OPA receives, with the token),
//      deny with OPA's reason/rule/hint and the policy version opa:<path>, confirmation asked
//      because OPA said so, the cache (a second identical call does not reach OPA; after the
//      TTL it does), a timeout refused quickly while another call goes through on the same
//      loop, garbage, HTTP 500, an undefined decision, a wrong type, an oversized answer and
//      OPA down (all refused), the policy tester asking OPA, and start-up refusals.
//   B  GW_POLICY_ENGINE=both, msil/mcp/allow (boolean results), fail open, no cache: the
//      built-in policies first (OPA not even asked when they refuse), OPA's false refuses, the
//      built-in confirmation is asked only after OPA allowed (never for a call OPA refuses),
//      and OPA slow or down lets the call through with the failure logged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as h from './lib/e2e-harness.mjs';
import { startOpaStandin, decision } from '../support/opa-standin.mjs';

const RULES = join(h.REPO, 'deploy', 'embedded', 'governance.yaml');
const TOKEN = 'opa-' + randomBytes(12).toString('hex');
let dir, secrets, mock, opa, env, T, day;
const key = {};
const auth = (k) => ({ Authorization: `Bearer ${k}` });

function makeKey(name, roles, claims) {
  const args = ['keys', 'create', '--name', name, '--subject', `${name}@msil.example`, '--json'];
  for (const r of roles) args.push('--role', r);
  if (claims) args.push('--claims', JSON.stringify(claims));
  const r = h.mcpgw(env, args);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).key;
}

async function startGw(settings, extra = []) {
  return h.startGateway({ ...env, ...settings }, dir, extra);
}

function rpcError(promise) {
  return promise.then((r) => { throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(r)}`); }, (e) => e);
}

/** Waits until the gateway's stderr matches re (logs are asynchronous). */
async function logged(gw, re) {
  await h.waitFor(() => re.test(gw.stderr()), 3000).catch(() => {});
  assert.match(gw.stderr(), re);
}

before(async () => {
  dir = h.tempDir('opa');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  opa = await startOpaStandin({ token: TOKEN });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
    GW_AUTH_MODE: 'required', GW_ADMIN_DEV_MODE: 'false', GW_GOVERNANCE_FILE: RULES,
    GW_LOG_LEVEL: 'debug', GW_OPA_URL: opa.url, GW_OPA_TOKEN: TOKEN } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  key.cc = makeKey('cc', ['customer-care']);
  key.dealer = makeKey('dealer', ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] });
  key.ops = makeKey('ops', ['operator', 'admin']);
  day = h.nextWorkday((await mock.health()).today);
});

after(async () => {
  await h.stopAll();
  await opa?.stop();
  h.cleanupDir(dir);
});

test("the stand-in's policy decides the cases of docs/opa/mcp_test.rego", () => {
  const now = 1767225600; // 2026-01-01T00:00:00Z
  const dealer = { subject: 'dealer@msil.example', roles: ['dealer'], claims: { dealer_ids: ['MSIL-PUNE-001'] } };
  const care = { subject: 'cc@msil.example', roles: ['customer-care'], claims: {} };
  const analyst = { subject: 'an@msil.example', roles: ['analyst'], claims: {} };
  const call = (who, name, args) => ({ principal: who, tool: { name, bundle: 'service-booking', risk: 'read', tags: [] },
    arguments: args, context: { now, peer: '127.0.0.1', transport: 'http', method: 'tools/call' } });
  const booking = (dealerId, date) => ({ customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: dealerId, date, time: '10:00' });
  const confirm = { allow: true, confirm: true, rule: 'confirm-bookings', reason: "a booking changes the customer's appointments" };
  const d = (inp) => decision(inp);
  assert.deepEqual(d(call(dealer, 'get_available_slots', { dealer_id: 'MSIL-PUNE-001', date: '2026-01-05' })), { allow: true });
  assert.deepEqual(d(call(dealer, 'get_dealer', { dealer_id: 'MSIL-MUM-001' })), { allow: false, rule: 'dealer-own-dealers',
    reason: 'dealer agents act only for their own dealers, and MSIL-MUM-001 is not one of yours',
    hint: 'use one of the dealer ids in your identity (claim dealer_ids)' });
  assert.equal(d(call({ roles: ['dealer'], claims: {} }, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' })).rule, 'dealer-own-dealers');
  assert.deepEqual(d(call(dealer, 'resolve_vehicle', { registration_number: 'MH12AB1234' })), { allow: true });
  assert.deepEqual(d(call(care, 'get_dealer', { dealer_id: 'MSIL-MUM-001' })), { allow: true });
  assert.deepEqual(d(call(care, 'create_booking', booking('MSIL-PUNE-001', '2026-03-02'))), confirm);
  assert.deepEqual(d(call(dealer, 'create_booking', booking('MSIL-PUNE-001', '2026-01-10'))), confirm);
  assert.deepEqual(d(call(care, 'create_booking', booking('MSIL-PUNE-001', '2026-03-02T00:00:00Z'))), confirm);
  const far = d(call(care, 'create_booking', booking('MSIL-PUNE-001', '2026-03-03')));
  assert.deepEqual(far, { allow: false, rule: 'booking-horizon', reason: 'bookings can be made at most 60 days ahead (2026-03-03 is later)',
    hint: 'offer the customer a date within the next 60 days' });
  assert.equal(d(call(care, 'create_booking', booking('MSIL-PUNE-001', '2026-03-02T00:00:01Z'))).rule, 'booking-horizon');
  assert.equal(d(call(care, 'create_booking', booking('MSIL-PUNE-001', 'next tuesday'))).reason,
    'bookings can be made at most 60 days ahead (the date next tuesday cannot be read)');
  assert.equal(d(call(care, 'create_booking', booking('MSIL-PUNE-001', '2026-02-30'))).rule, 'booking-horizon');
  assert.equal(d(call(care, 'create_booking', { dealer_id: 'MSIL-PUNE-001' })).rule, 'booking-horizon');
  assert.equal(d(call(dealer, 'create_booking', booking('MSIL-MUM-001', '2027-01-01'))).rule, 'dealer-own-dealers');
  assert.deepEqual(d(call(care, 'cancel_booking', { booking_id: 'BK1' })), confirm);
  assert.deepEqual(d(call(analyst, 'create_booking', booking('MSIL-PUNE-001', '2027-01-01'))), confirm);
  assert.deepEqual(d(undefined), { allow: true }, 'the default, as in Rego');
});

test('the OPA sidecar of the Kubernetes deployment ships docs/opa/mcp.rego unchanged', () => {
  const doc = readFileSync(join(h.REPO, 'docs', 'opa', 'mcp.rego'), 'utf8');
  const shipped = readFileSync(join(h.REPO, 'deploy', 'k8s', 'components', 'opa-sidecar', 'policies', 'mcp.rego'), 'utf8');
  assert.equal(shipped, doc, 'copy docs/opa/mcp.rego to deploy/k8s/components/opa-sidecar/policies/');
});

test('start-up refuses an OPA engine without a usable URL or path', () => {
  for (const [settings, re] of [
    [{ GW_POLICY_ENGINE: 'opa', GW_OPA_URL: '' }, /GW_POLICY_ENGINE=opa needs GW_OPA_URL/],
    [{ GW_POLICY_ENGINE: 'both', GW_OPA_URL: 'ftp://127.0.0.1:8181' }, /http:\/\/ or https:\/\//],
    [{ GW_POLICY_ENGINE: 'opa', GW_OPA_URL: 'http://u:p@127.0.0.1:8181' }, /credentials/],
    [{ GW_POLICY_ENGINE: 'opa', GW_OPA_URL: 'http://127.0.0.1:8181/?x=1' }, /query/],
    [{ GW_POLICY_ENGINE: 'opa', GW_OPA_PATH: '../secret' }, /GW_OPA_PATH/],
    [{ GW_POLICY_ENGINE: 'opa', GW_OPA_FAILURE: 'maybe' }, /GW_OPA_FAILURE/],
  ]) {
    const r = h.mcpgw({ ...env, ...settings }, ['governance', 'show']);
    assert.notEqual(r.status, 0, JSON.stringify(settings));
    assert.match(r.stderr, re, JSON.stringify(settings));
  }
});

// ---------------------------------------------------------------- gateway A: opa, fail closed

test('engine opa: OPA decides the policies (object results, fail closed, cache)', async (t) => {
  const adminPortFile = join(dir, 'admin-port-a');
  const gw = await startGw({ GW_POLICY_ENGINE: 'opa', GW_OPA_PATH: 'msil/mcp/decision',
    GW_OPA_FAILURE: 'closed', GW_OPA_TIMEOUT_MS: '250', GW_OPA_CACHE_SECONDS: '2', GW_WORKERS: '1',
    GW_ADMIN_LISTEN: '127.0.0.1:0' }, ['--admin-port-file', adminPortFile]);
  const dealer = await h.connectClient(gw.mcpUrl, 'opa-dealer', { headers: auth(key.dealer) });
  const asked = [];
  const cc = await h.connectClient(gw.mcpUrl, 'opa-cc', { headers: auth(key.cc),
    elicit: (p) => { asked.push(p); return h.acceptAll(); } });
  const n = () => opa.dataRequests('msil/mcp/decision').length;
  opa.fault = null;

  await t.test('allow: OPA receives the documented input and the token', async () => {
    const n0 = n();
    const args = { dealer_id: 'MSIL-PUNE-001', date: day };
    const r = await dealer.callTool({ name: T.getAvailableSlots, arguments: args });
    assert.ok(!r.isError, h.resultText(r));
    assert.equal(n(), n0 + 1);
    const req = opa.requests.at(-1);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(req.headers['content-type'], /application\/json/);
    const { principal, tool, arguments: a, context } = req.input;
    assert.equal(principal.subject, 'dealer@msil.example');
    assert.deepEqual(principal.roles, ['dealer']);
    assert.deepEqual(principal.claims.dealer_ids, ['MSIL-PUNE-001']);
    assert.equal(principal.method, 'api_key');
    assert.deepEqual({ name: tool.name, bundle: tool.bundle, risk: tool.risk },
      { name: T.getAvailableSlots, bundle: 'service-booking', risk: 'read' });
    assert.ok(Array.isArray(tool.tags));
    assert.deepEqual(a, args);
    assert.ok(Math.abs(context.now - Date.now() / 1000) < 30, `now ${context.now}`);
    assert.equal(context.peer, '127.0.0.1');
    assert.equal(context.transport, 'http');
    assert.equal(context.method, 'tools/call');
  });

  await t.test("deny: -32004 with OPA's reason, rule, hint and the policy version opa:<path>", async () => {
    const s0 = h.apiCalls(await mock.stats());
    const e = await rpcError(dealer.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-MUM-001', date: day } }));
    assert.equal(e.code, -32004);
    assert.match(e.message, /MSIL-MUM-001 is not one of yours/);
    assert.equal(e.data.rule, 'dealer-own-dealers');
    assert.equal(e.data.policyVersion, 'opa:msil/mcp/decision');
    assert.match(e.data.hint, /dealer_ids/);
    assert.equal(h.apiCalls(await mock.stats()), s0, 'the upstream was not called');
  });

  await t.test('OPA asks for confirmation: the user is asked, the booking is made', async () => {
    const slots = h.resultJson(await cc.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-PUNE-001', date: day } }));
    const slot = slots.slots.find((s) => s.available && s.available_capacity > 0);
    const res = await cc.callTool({ name: T.createBooking, arguments: { customer_id: 'CUST001234',
      registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: slot.time } });
    assert.ok(!res.isError, h.resultText(res));
    assert.equal(asked.length, 1);
    assert.match(asked[0].message, /a booking changes the customer's appointments/);
    const row = mock.bookings().bookings.find((b) => b.booking_id === h.resultJson(res).booking_id);
    assert.equal(row?.status, 'CONFIRMED');
    // a client that cannot ask: -32006 naming OPA's rule and version
    const plain = await h.connectClient(gw.mcpUrl, 'opa-cc-plain', { headers: auth(key.cc) });
    const e = await rpcError(plain.callTool({ name: T.createBooking, arguments: { customer_id: 'CUST001234',
      registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: '16:30' } }));
    assert.equal(e.code, -32006);
    assert.equal(e.data.rule, 'confirm-bookings');
    assert.equal(e.data.policyVersion, 'opa:msil/mcp/decision');
    await plain.close();
  });

  await t.test('a booking OPA refuses is refused before anyone is asked', async () => {
    const before = asked.length;
    const far = h.addDays(day, 120);
    const e = await rpcError(cc.callTool({ name: T.createBooking, arguments: { customer_id: 'CUST001234',
      registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: far, time: '10:00' } }));
    assert.equal(e.code, -32004);
    assert.equal(e.data.rule, 'booking-horizon');
    assert.match(e.message, /at most 60 days ahead/);
    assert.equal(asked.length, before, 'the user was not asked');
  });

  await t.test('cache: a second identical call within the TTL does not reach OPA', async () => {
    const args = { dealer_id: 'MSIL-PUNE-001' };
    const n0 = n();
    assert.ok(!(await dealer.callTool({ name: T.getDealer, arguments: args })).isError);
    assert.equal(n(), n0 + 1);
    assert.ok(!(await dealer.callTool({ name: T.getDealer, arguments: args })).isError);
    assert.equal(n(), n0 + 1, 'answered from the cache');
    // denials are cached too
    const deny = { dealer_id: 'MSIL-DEL-009' };
    assert.equal((await rpcError(dealer.callTool({ name: T.getDealer, arguments: deny }))).code, -32004);
    assert.equal((await rpcError(dealer.callTool({ name: T.getDealer, arguments: deny }))).code, -32004);
    assert.equal(n(), n0 + 2);
    // other arguments, another principal: other inputs
    await cc.callTool({ name: T.getDealer, arguments: args });
    assert.equal(n(), n0 + 3);
    // after the TTL OPA is asked again
    await new Promise((r) => setTimeout(r, 2200));
    assert.ok(!(await dealer.callTool({ name: T.getDealer, arguments: args })).isError);
    assert.equal(n(), n0 + 4);
  });

  await t.test('timeout: refused quickly (fail closed) while another call goes through', async () => {
    opa.fault = { mode: 'slow', delayMs: 3000, tool: T.resolveVehicle };
    try {
      const t0 = Date.now();
      let slowDone = 0;
      const slow = cc.callTool({ name: T.resolveVehicle, arguments: { registration_number: 'MH12AB1234' } })
        .then((r) => { slowDone = Date.now(); return r; });
      // the same loop (one worker) serves another call meanwhile
      const other = await dealer.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } });
      const otherDone = Date.now();
      assert.ok(!other.isError, h.resultText(other));
      const r = await slow;
      assert.equal(r.isError, true);
      assert.match(h.resultText(r), /could not check this call/);
      assert.ok(slowDone - t0 < 2000, `refused after ${slowDone - t0} ms`);
      assert.ok(otherDone <= slowDone, 'the other call was not held up');
      await logged(gw, /OPA could not decide resolve_vehicle: no decision within 250 ms \(GW_OPA_TIMEOUT_MS\); refused/);
    } finally {
      opa.fault = null;
    }
  });

  await t.test('garbage, HTTP 500, undefined, wrong type, oversized: all refused', async () => {
    const cases = [
      ['garbage', /not a JSON object/],
      ['status500', /HTTP 500 internal_error: eval_conflict_error/],
      ['undefined', /decision is undefined/],
      ['wrong-type', /neither a boolean nor an object/],
      ['huge', /larger than 65536 bytes/],
    ];
    const s0 = h.apiCalls(await mock.stats());
    for (const [i, [mode, re]] of cases.entries()) {
      opa.fault = { mode };
      const r = await cc.callTool({ name: T.resolveVehicle, arguments: { registration_number: `MH12AB${1000 + i}` } });
      assert.equal(r.isError, true, mode);
      assert.match(h.resultText(r), /could not check this call/, mode);
      await logged(gw, re);
    }
    opa.fault = null;
    assert.equal(h.apiCalls(await mock.stats()), s0, 'the upstream was never called');
  });

  await t.test('OPA down: refused; back up: allowed again', async () => {
    await opa.stop();
    try {
      const r = await cc.callTool({ name: T.resolveVehicle, arguments: { registration_number: 'MH12AB2001' } });
      assert.equal(r.isError, true);
      assert.match(h.resultText(r), /could not check this call/);
      await logged(gw, /the server cannot be reached \(connect/);
    } finally {
      await opa.start();
    }
    const r = await cc.callTool({ name: T.resolveVehicle, arguments: { registration_number: 'MH12AB1234' } });
    assert.ok(!r.isError, h.resultText(r));
  });

  await t.test('the policy tester asks OPA', async () => {
    await h.waitFor(() => existsSync(adminPortFile) && Number(readFileSync(adminPortFile, 'utf8')) > 0, 5000);
    const admin = `http://127.0.0.1:${Number(readFileSync(adminPortFile, 'utf8'))}/admin/api`;
    const test = async (args) => {
      const res = await fetch(admin + '/policies/test', { method: 'POST',
        headers: { ...auth(key.ops), 'Content-Type': 'application/json' },
        body: JSON.stringify({ principal: { roles: ['dealer'], claims: { dealer_ids: ['MSIL-PUNE-001'] } },
          tool: T.getAvailableSlots, arguments: args }) });
      assert.equal(res.status, 200);
      return res.json();
    };
    const n0 = n();
    const no = await test({ dealer_id: 'MSIL-MUM-001', date: day });
    assert.equal(no.decision, 'deny', JSON.stringify(no));
    assert.equal(no.rule, 'dealer-own-dealers');
    assert.equal(no.opa.decision, 'deny');
    assert.equal(no.opa.policyVersion, 'opa:msil/mcp/decision');
    assert.ok(no.fired.some((f) => f.section === 'opa' && f.id === 'dealer-own-dealers'));
    const yes = await test({ dealer_id: 'MSIL-PUNE-001', date: day });
    assert.equal(yes.decision, 'allow', JSON.stringify(yes));
    assert.equal(yes.opa.decision, 'allow');
    assert.equal(n(), n0 + 2);
    opa.fault = { mode: 'garbage' };
    const broken = await test({ dealer_id: 'MSIL-PUNE-001', date: day });
    opa.fault = null;
    assert.equal(broken.decision, 'deny');
    assert.equal(broken.opa.decision, 'error');
    assert.equal(broken.opa.failureMode, 'closed');
  });

  await dealer.close();
  await cc.close();
  const exit = await gw.stop();
  assert.ok(h.cleanExit(exit, gw.stderr()), `gateway exit ${JSON.stringify(exit)}`);
  assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
  assert.doesNotMatch(gw.stderr(), new RegExp(TOKEN), 'the OPA token is never logged');
});

// ---------------------------------------------------------------- gateway B: both, fail open

test('engine both: the built-in policies first, then OPA (boolean results, fail open, no cache)', async (t) => {
  const gw = await startGw({ GW_POLICY_ENGINE: 'both', GW_OPA_PATH: 'msil/mcp/allow',
    GW_OPA_FAILURE: 'open', GW_OPA_TIMEOUT_MS: '250', GW_OPA_CACHE_SECONDS: '0' });
  const dealer = await h.connectClient(gw.mcpUrl, 'opa-b-dealer', { headers: auth(key.dealer) });
  const asked = [];
  const cc = await h.connectClient(gw.mcpUrl, 'opa-b-cc', { headers: auth(key.cc),
    elicit: (p) => { asked.push(p); return h.acceptAll(); } });
  const n = () => opa.dataRequests('msil/mcp/allow').length;
  opa.fault = null;

  await t.test('boolean true allows; no cache: every call asks OPA', async () => {
    const n0 = n();
    for (let i = 0; i < 2; i++) {
      const r = await dealer.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } });
      assert.ok(!r.isError, h.resultText(r));
    }
    assert.equal(n(), n0 + 2);
  });

  await t.test('a built-in refusal comes first: OPA is not asked', async () => {
    const n0 = n();
    const e = await rpcError(dealer.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-MUM-001' } }));
    assert.equal(e.code, -32004);
    assert.equal(e.data.rule, 'dealer-own-dealers');
    assert.ok(e.data.policyVersion.startsWith('embedded-2026.12+'), e.data.policyVersion);
    assert.equal(n(), n0);
  });

  await t.test('boolean false refuses with the path as the policy version', async () => {
    opa.fault = { mode: 'deny', tool: T.getDealer };
    try {
      const e = await rpcError(cc.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } }));
      assert.equal(e.code, -32004);
      assert.equal(e.data.rule, 'opa');
      assert.equal(e.data.policyVersion, 'opa:msil/mcp/allow');
      assert.match(e.message, /msil\/mcp\/allow refused get_dealer/);
    } finally {
      opa.fault = null;
    }
  });

  await t.test("the built-in confirmation is asked only after OPA allowed", async () => {
    const args = { customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: '17:00' };
    opa.fault = { mode: 'deny', tool: T.createBooking };
    const n0 = mock.bookings().bookings.length;
    try {
      const e = await rpcError(cc.callTool({ name: T.createBooking, arguments: args }));
      assert.equal(e.code, -32004);
      assert.equal(asked.length, 0, 'nobody was asked to confirm a refused call');
    } finally {
      opa.fault = null;
    }
    const slots = h.resultJson(await cc.callTool({ name: T.getAvailableSlots, arguments: { dealer_id: 'MSIL-PUNE-001', date: day } }));
    const slot = slots.slots.find((s) => s.available && s.available_capacity > 0);
    const ok = await cc.callTool({ name: T.createBooking, arguments: { ...args, time: slot.time } });
    assert.ok(!ok.isError, h.resultText(ok));
    assert.equal(asked.length, 1);
    assert.match(asked[0].message, /a booking changes the customer's appointments/);
    assert.equal(mock.bookings().bookings.length, n0 + 1);
  });

  await t.test('fail open: OPA slow or down lets the call through, the failure logged', async () => {
    opa.fault = { mode: 'slow', delayMs: 3000 };
    try {
      const t0 = Date.now();
      const r = await cc.callTool({ name: T.resolveVehicle, arguments: { registration_number: 'MH12AB1234' } });
      assert.ok(!r.isError, h.resultText(r));
      assert.ok(Date.now() - t0 < 2500, `${Date.now() - t0} ms`);
      await logged(gw, /OPA could not decide resolve_vehicle: no decision within 250 ms \(GW_OPA_TIMEOUT_MS\); allowed \(GW_OPA_FAILURE=open\)/);
    } finally {
      opa.fault = null;
    }
    await opa.stop();
    try {
      const r = await cc.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } });
      assert.ok(!r.isError, h.resultText(r));
    } finally {
      await opa.start();
    }
  });

  await dealer.close();
  await cc.close();
  const exit = await gw.stop();
  assert.ok(h.cleanExit(exit, gw.stderr()), `gateway exit ${JSON.stringify(exit)}`);
  assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
});
