// tests/integration/53-catalogue.test.mjs
// The catalogue at scale, end to end with the official MCP SDK client, the gateway and the mock
// APIM (issue 15):
//   - naming across specs: the service-booking spec, the MSIL customer-service spec (whose
//     create_booking / cancel_booking / ... collide with it) and the DMS spec all import; the
//     colliding names get the product's prefix and the import says so;
//   - tool discovery (GW_DISCOVERY_MODE=all): tools/list shows search_tools and describe_tools
//     (plus the tools of the products the client names), search finds the tool for an agent's
//     words, describe returns its definition, and calling the found tool by name goes through
//     the whole pipeline to the upstream; a client may opt out per request;
//   - renames: `mcpgw tools rename` keeps the old name working (alias) while the new one is
//     served;
//   - exact numbers: the mock's 73.7389 reaches the client as 73.7389 in the raw JSON-RPC
//     response, in the text copy and in structuredContent (not 73.738900000000001).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from './lib/e2e-harness.mjs';
import { Client } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StreamableHTTPClientTransport } from '../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CS_SPEC = process.env.CS_SPEC || '/work/shared/corpus/openapi/msil/customer-service-api.yaml';
let dir, secrets, mock, gw, client, env, T;

async function connect(headers = {}) {
  const c = new Client({ name: 'e2e-catalogue', version: '1.0.0' }, { capabilities: {} });
  await c.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers } }));
  return c;
}

function resultJson(r) {
  return JSON.parse(r.content[0].text);
}

before(async () => {
  dir = h.tempDir('catalogue');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets,
    settings: { GW_DISCOVERY_MODE: 'all', GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC,
    { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  gw = await h.startGateway(env, dir);
  client = await connect();
});

after(async () => {
  await client?.close().catch(() => {});
  await h.stopAll();
  h.cleanupDir(dir);
});

test('importing colliding specs never fails: taken names get the product prefix, reported', async (t) => {
  if (!existsSync(CS_SPEC) || !existsSync(h.DMS_SPEC)) return t.skip('MSIL specs not available');
  const r = h.mcpgw(env, ['import', CS_SPEC, '--spec-id', 'customer-service', '--bundle', 'customer-service',
    '--activate', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const conflicts = out.diff.conflicts;
  assert.ok(conflicts.length >= 4, JSON.stringify(conflicts));
  for (const c of conflicts) {
    assert.equal(c.name, `customer_service_${c.wanted}`);
    assert.ok(T[Object.keys(T).find((k) => T[k] === c.takenBy)] || c.takenBy, c.takenBy);
  }
  const d = h.mcpgw(env, ['import', h.DMS_SPEC, '--spec-id', 'dms', '--bundle', 'dms', '--activate']);
  assert.equal(d.status, 0, d.stderr);
  // a re-import keeps every name (stable), nothing conflicts again
  const again = h.mcpgw(env, ['import', CS_SPEC, '--spec-id', 'customer-service', '--bundle', 'customer-service',
    '--activate', '--json']);
  assert.equal(again.status, 0, again.stderr);
  const a = JSON.parse(again.stdout).diff;
  assert.equal(a.conflicts.length, 0);
  assert.equal(a.added.length, 0);
  await sleep(1500); // the registry watcher polls every second
});

test('discovery view: tools/list has search_tools and describe_tools; products on request; opt-out', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((x) => x.name).sort(), ['describe_tools', 'search_tools']);
  const withProducts = await connect({ 'X-MCP-Products': 'service-booking' });
  const l2 = (await withProducts.listTools()).tools.map((x) => x.name);
  await withProducts.close();
  assert.ok(l2.includes('search_tools'));
  assert.ok(l2.includes(T.createBooking), l2.join(' '));
  assert.equal(l2.length, 2 + 9);
  const full = await connect({ 'X-MCP-Discovery': 'off' });
  const l3 = (await full.listTools()).tools.map((x) => x.name);
  await full.close();
  assert.ok(!l3.includes('search_tools'));
  assert.ok(l3.includes(T.createBooking));
});

test('search by words, describe, then call the found tool by name through the pipeline', async () => {
  const s = await client.callTool({ name: 'search_tools', arguments: { query: 'book a service appointment for my car' } });
  assert.ok(!s.isError, JSON.stringify(s));
  const found = resultJson(s).tools;
  // any of the three booking APIs' "book an appointment" operations is a right answer
  assert.ok(found.slice(0, 3).some((x) => /(^|_)create_(appointment_)?booking$/.test(x.name)),
    JSON.stringify(found));
  assert.ok(found.some((x) => x.name === T.createBooking), JSON.stringify(found));
  for (const x of found) assert.ok(x.description === undefined || x.description.length <= 200, x.name);
  const find = await client.callTool({ name: 'search_tools', arguments: { query: 'find a customer by mobile number', limit: 3 } });
  const names = resultJson(find).tools.map((x) => x.name);
  assert.ok(names.includes(T.resolveCustomer), names.join(' '));
  assert.ok(names.length <= 3);
  const d = await client.callTool({ name: 'describe_tools', arguments: { names: [T.resolveCustomer, 'no_such_tool'] } });
  const desc = resultJson(d);
  assert.equal(desc.tools.length, 1);
  assert.equal(desc.tools[0].name, T.resolveCustomer);
  assert.equal(desc.tools[0].inputSchema.type, 'object');
  assert.deepEqual(desc.unknown, ['no_such_tool']);
  // the found tool, by name, although it is not in this client's tools/list
  const before = h.apiCalls(await mock.stats());
  const r = await h.rawCall(client, T.resolveCustomer, { mobile: '+91 98765-43210' });
  assert.ok(!r.isError, JSON.stringify(r));
  assert.equal(r.structuredContent.customer_id, 'CUST001234');
  assert.ok(h.apiCalls(await mock.stats()) > before, 'the upstream was called');
  // the pipeline still validates: a bad argument never reaches the upstream
  const bad = await h.rawCall(client, T.resolveCustomer, { mobile: 42, nope: true });
  assert.ok(bad.isError);
  // bad meta-tool arguments are tool errors the agent can read
  const e = await h.rawCall(client, 'search_tools', { limit: 3 });
  assert.ok(e.isError);
  assert.match(e.content[0].text, /query/);
});

test('numbers reach the agent exactly: 73.7389, not 73.738900000000001', async () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const body = { jsonrpc: '2.0', id: 7, method: 'tools/call',
    params: { name: T.findNearbyDealers, arguments: { latitude: 18.5913, longitude: 73.7389 }, _meta: meta } };
  const res = await fetch(gw.mcpUrl, { method: 'POST', body: JSON.stringify(body), headers: {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': T.findNearbyDealers } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.ok(!/\d\.\d{14,}/.test(text), `a number with 15+ decimals in ${text.slice(0, 400)}`);
  const msg = JSON.parse(text);
  assert.ok(!msg.result.isError, text.slice(0, 400));
  const inner = msg.result.content[0].text;
  assert.ok(!/\d\.\d{14,}/.test(inner), 'text copy');
  assert.match(text, /"longitude":73\.\d{1,6}[,}]/);
});

test('a renamed tool keeps answering to its old name; the new name is served', async () => {
  const r = h.mcpgw(env, ['tools', 'rename', T.getDealer, 'dealer_details', '--alias-days', '30']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /stays an alias for 30 days/);
  const aliases = JSON.parse(h.mcpgw(env, ['tools', 'aliases']).stdout);
  assert.ok(aliases.some((a) => a.name === T.getDealer && a.tool === 'dealer_details'));
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    const s = await client.callTool({ name: 'search_tools', arguments: { query: 'get one dealer workshop details' } });
    ok = resultJson(s).tools.some((x) => x.name === 'dealer_details');
    if (!ok) await sleep(200);
  }
  assert.ok(ok, 'the new name is searchable after the reload');
  const dealerId = 'MSIL-PUNE-001';
  const viaOld = await h.rawCall(client, T.getDealer, { dealer_id: dealerId });
  assert.ok(!viaOld.isError, JSON.stringify(viaOld));
  const viaNew = await h.rawCall(client, 'dealer_details', { dealer_id: dealerId });
  assert.ok(!viaNew.isError, JSON.stringify(viaNew));
  assert.deepEqual(viaOld.structuredContent, viaNew.structuredContent);
  // another tool cannot take the alias while it lives
  const taken = h.mcpgw(env, ['tools', 'rename', T.listBookings, T.getDealer]);
  assert.notEqual(taken.status, 0);
  assert.match(taken.stderr, /alias/);
});

test('clean shutdown, no sanitizer reports, no credentials in the log', async () => {
  await client.close();
  client = null;
  const r = await gw.stop();
  assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
  assert.ok(!gw.stderr().includes(secrets.apiKey));
  assert.ok(r === undefined || r.code === 0 || r.code === null || r.code === h.LSAN_EXIT, JSON.stringify(r));
});
