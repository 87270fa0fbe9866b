// tests/integration/54-discovery-governance.test.mjs
// Tool discovery under governance, end to end (issue 15): authentication required, the embedded
// default's rules (deploy/embedded/governance.yaml), API keys of two client applications, the
// official SDK client and the mock APIM:
//   - the discovery view is chosen per client application of the principal
//     (GW_DISCOVERY_MODE=clients): a key of the configured client gets search_tools and
//     describe_tools, a key of another client gets its full (governed) list, and an
//     X-Client-Id header cannot change an authenticated caller's client;
//   - search_tools answers only with tools the caller is exposed to: the analyst (read tools
//     only) never finds create_booking, the operator does for the same words;
//   - describe_tools answers a hidden tool exactly like an unknown one, and a hidden tool's call
//     is "Unknown tool" (-32602), while a found visible tool is called by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as h from './lib/e2e-harness.mjs';

const RULES = join(h.REPO, 'deploy', 'embedded', 'governance.yaml');
const READ_TOOLS = ['find_nearby_dealers', 'get_available_slots', 'get_booking', 'get_dealer',
  'list_bookings', 'resolve_customer', 'resolve_vehicle'];
let dir, secrets, mock, gw, env, T;
const key = {};

function makeKey(name, roles, clientId) {
  const args = ['keys', 'create', '--name', name, '--subject', `${name}@msil.example`,
    '--client-id', clientId, '--json'];
  for (const r of roles) args.push('--role', r);
  const r = h.mcpgw(env, args);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).key;
}

const auth = (k, more = {}) => ({ headers: { Authorization: `Bearer ${k}`, ...more } });

before(async () => {
  dir = h.tempDir('discovery-gov');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
    GW_AUTH_MODE: 'required', GW_ADMIN_DEV_MODE: 'false', GW_GOVERNANCE_FILE: RULES,
    GW_DISCOVERY_MODE: 'clients', GW_DISCOVERY_CLIENTS: 'agent-app, other-agent',
    GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  key.agent = makeKey('analyst-agent', ['analyst'], 'agent-app');
  key.plain = makeKey('analyst-ui', ['analyst'], 'dashboard');
  key.ops = makeKey('ops-agent', ['operator'], 'agent-app');
  gw = await h.startGateway(env, dir);
});

after(async () => {
  await h.stopAll();
  h.cleanupDir(dir);
});

const names = (tools) => tools.map((t) => t.name).sort();

async function search(c, query) {
  const r = await c.callTool({ name: 'search_tools', arguments: { query } });
  assert.ok(!r.isError, h.resultText(r));
  return h.resultJson(r).tools.map((t) => t.name);
}

test('the discovery view follows the principal\'s client application, not a header', async () => {
  const a = await h.connectClient(gw.mcpUrl, 'disc-agent', auth(key.agent));
  assert.deepEqual(names((await a.listTools()).tools), ['describe_tools', 'search_tools']);
  await a.close();
  // another client application of the same role: its full governed list
  const p = await h.connectClient(gw.mcpUrl, 'disc-ui', auth(key.plain));
  assert.deepEqual(names((await p.listTools()).tools), READ_TOOLS);
  await p.close();
  // an authenticated caller's client id is its credential's, whatever a header says
  const q = await h.connectClient(gw.mcpUrl, 'disc-ui-header', auth(key.plain, { 'X-Client-Id': 'agent-app' }));
  assert.deepEqual(names((await q.listTools()).tools), READ_TOOLS);
  await q.close();
});

test('search_tools finds only tools the caller is exposed to; hidden ones are unknown', async () => {
  const query = 'book a service appointment for my car at a dealer';
  const a = await h.connectClient(gw.mcpUrl, 'disc-agent', auth(key.agent));
  const found = await search(a, query);
  assert.ok(found.length > 0, 'the analyst finds something');
  for (const n of found) assert.ok(READ_TOOLS.includes(n), `${n} is not exposed to the analyst`);
  assert.ok(!found.includes(T.createBooking));
  // describe: the hidden tool is reported like a tool that does not exist
  const d = h.resultJson(await a.callTool({ name: 'describe_tools',
    arguments: { names: [T.createBooking, T.getDealer, 'no_such_tool'] } }));
  assert.deepEqual(d.tools.map((t) => t.name), [T.getDealer]);
  assert.deepEqual(d.unknown, [T.createBooking, 'no_such_tool']);
  // calling the hidden tool by name: Unknown tool; a found visible tool works
  const e = await a.callTool({ name: T.createBooking, arguments: {} }).then(() => null, (x) => x);
  assert.ok(e, 'the hidden tool was called');
  assert.equal(e.code, -32602);
  const dealers = await search(a, 'get one dealer workshop details');
  assert.ok(dealers.slice(0, 3).includes(T.getDealer), dealers.join());
  const r = await a.callTool({ name: T.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } });
  assert.ok(!r.isError, h.resultText(r));
  await a.close();

  // the operator (who may see write tools) finds the booking tool with the same words
  const o = await h.connectClient(gw.mcpUrl, 'disc-ops', auth(key.ops));
  assert.deepEqual(names((await o.listTools()).tools), ['describe_tools', 'search_tools']);
  const opsFound = await search(o, query);
  assert.ok(opsFound.slice(0, 3).includes(T.createBooking), opsFound.join());
  await o.close();
});
