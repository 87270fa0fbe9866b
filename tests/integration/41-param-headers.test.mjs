// tests/integration/41-param-headers.test.mjs
// x-mcp-header (MCP 2026-07-28, SEP-2243) end to end on the registry's tools: an OpenAPI
// parameter marked `x-mcp-header` is imported as a declaration on its input-schema property
// (tools/list shows it; a spec whose declarations break the rules is imported without them,
// with a warning); a 2026-07-28 tools/call of such a tool needs the Mcp-Param-* header equal to
// the argument (plain or =?base64?...?=), is refused with 400 -32020 before any upstream call
// when it is missing, different or badly encoded, and reaches the upstream when it matches;
// the MCP Inspector in the 2026-07-28 era mirrors the header itself (plain and base64 values)
// and its calls reach the upstream; legacy-era sessions, which know nothing of the header,
// call the same tool without it. The
// admin API refuses a tool definition with an invalid declaration (400 naming it) and a
// declaration added by PATCH applies to the next calls.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as h from './lib/e2e-harness.mjs';
import { post, request } from './lib/gw.mjs';

const V = '2026-07-28';
let nextId = 1;

function modern(gw, name, args, headers = {}) {
  const id = nextId++;
  const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args,
    _meta: { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} } } };
  return post(gw, body, { headers: { 'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/call', 'Mcp-Name': name, ...headers } })
    .then((res) => ({ ...res, id }));
}

function refused(res, says) {
  assert.equal(res.status, 400, res.body);
  assert.equal(res.json?.error?.code, -32020, res.body);
  assert.match(res.json.error.message, says);
}

describe('41-param-headers: Mcp-Param-* headers of x-mcp-header arguments', () => {
  let dir, env, gw, upstream, tools;
  const seen = [];

  before(async () => {
    dir = h.tempDir('param-headers');
    upstream = createServer((req, res) => {
      seen.push({ url: req.url, region: req.headers['x-region'] ?? null });
      const body = JSON.stringify({ url: req.url, region: req.headers['x-region'] ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${upstream.address().port}`;
    const answer = { 200: { description: 'what the upstream saw', content: { 'application/json': {
      schema: { type: 'object', properties: { url: { type: 'string' }, region: { type: ['string', 'null'] } } } } } } };
    const spec = join(dir, 'dealers.json');
    writeFileSync(spec, JSON.stringify({
      openapi: '3.0.3', info: { title: 'Dealers', version: '1' }, servers: [{ url }],
      paths: {
        '/dealers': { get: { operationId: 'listDealers', summary: 'Dealers of a region', parameters: [
          { name: 'X-Region', in: 'header', required: true, schema: { type: 'string' }, 'x-mcp-header': 'Region' },
          { name: 'limit', in: 'query', schema: { type: 'integer' }, 'x-mcp-header': 'Limit' },
          { name: 'city', in: 'query', schema: { type: 'string' } },
        ], responses: answer } },
        '/bad': { get: { operationId: 'badDeclarations', summary: 'Two declarations differing in case',
          parameters: [
            { name: 'a', in: 'query', schema: { type: 'string' }, 'x-mcp-header': 'Same' },
            { name: 'b', in: 'query', schema: { type: 'string' }, 'x-mcp-header': 'SAME' },
          ], responses: answer } },
      },
    }));
    const secrets = h.freshSecrets();
    const upstreamsFile = h.writeUpstreams(dir, { dealers: { baseUrls: { mock: url } } });
    env = h.gatewayEnv({ dir, upstreamsFile, secrets, settings: { GW_ADMIN_LISTEN: '127.0.0.1:0' } });
    const imp = h.importSpec(env, spec, { specId: 'dealers', upstream: 'dealers' });
    assert.match(imp.stdout + imp.stderr, /x-mcp-header declarations dropped.*declared twice/, 'the import warns about the dropped declarations');
    tools = h.toolMap(env).op;
    gw = await h.startGateway(env, dir, [], { admin: true });
  });

  after(async () => {
    if (gw) await gw.stop();
    if (upstream) await new Promise((r) => { upstream.closeAllConnections(); upstream.close(() => r()); });
    h.cleanupDir(dir);
  });

  test('tools/list carries the declarations; invalid ones were dropped at import', async () => {
    const res = await post(gw, { jsonrpc: '2.0', id: nextId++, method: 'tools/list', params: { _meta: {
      'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} } } },
    { headers: { 'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/list' } });
    assert.equal(res.status, 200, res.body);
    const byName = Object.fromEntries(res.json.result.tools.map((t) => [t.name, t]));
    const props = byName[tools.listDealers].inputSchema.properties;
    const region = Object.values(props).find((p) => p['x-mcp-header'] === 'Region');
    assert.ok(region, JSON.stringify(props));
    assert.equal(region.type, 'string');
    assert.ok(Object.values(props).some((p) => p['x-mcp-header'] === 'Limit'));
    assert.ok(!JSON.stringify(byName[tools.badDeclarations].inputSchema).includes('x-mcp-header'));
  });

  test('a matching header reaches the upstream; plain and base64 forms alike', async () => {
    const schema = await toolSchema(gw, tools.listDealers);
    const regionArg = Object.entries(schema.properties).find(([, p]) => p['x-mcp-header'] === 'Region')[0];
    const before = seen.length;
    let r = await modern(gw, tools.listDealers, { [regionArg]: 'north', limit: 5, city: 'Delhi' },
      { 'Mcp-Param-Region': 'north', 'Mcp-Param-Limit': '5' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.result.isError, undefined, r.body);
    assert.equal(seen.at(-1).region, 'north');
    r = await modern(gw, tools.listDealers, { [regionArg]: 'nørth' },
      { 'mcp-param-region': `=?base64?${Buffer.from('nørth').toString('base64')}?=` });
    assert.equal(r.status, 200, r.body);
    assert.equal(seen.length, before + 2);
  });

  test('missing, different or badly encoded: 400 -32020, the upstream not called', async () => {
    const schema = await toolSchema(gw, tools.listDealers);
    const regionArg = Object.entries(schema.properties).find(([, p]) => p['x-mcp-header'] === 'Region')[0];
    const before = seen.length;
    refused(await modern(gw, tools.listDealers, { [regionArg]: 'north' }), /Mcp-Param-Region header is required/);
    refused(await modern(gw, tools.listDealers, { [regionArg]: 'north' }, { 'Mcp-Param-Region': 'south' }),
      /does not match argument/);
    refused(await modern(gw, tools.listDealers, { [regionArg]: 'north' }, { 'Mcp-Param-Region': '=?base64?bm9ydGg?=' }),
      /not padded base64/);
    refused(await modern(gw, tools.listDealers, { [regionArg]: 'north', limit: 5 },
      { 'Mcp-Param-Region': 'north', 'Mcp-Param-Limit': '6' }), /Mcp-Param-Limit/);
    refused(await modern(gw, tools.listDealers, { [regionArg]: 'north' },
      { 'Mcp-Param-Region': 'north', 'Mcp-Param-Limit': '5' }), /argument 'limit' is absent/);
    assert.equal(seen.length, before, 'no refused call reached the upstream');
  });

  test('the MCP Inspector (2026-07-28 era) mirrors the header itself: plain and non-ASCII values', async () => {
    const inspector = join(h.REPO, 'tests/node/clients/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
    const schema = await toolSchema(gw, tools.listDealers);
    const regionArg = Object.entries(schema.properties).find(([, p]) => p['x-mcp-header'] === 'Region')[0];
    for (const region of ['west', 'Pune nørth']) {
      const before = seen.length;
      // asynchronously: the upstream answers from this process
      const r = await runAsync([inspector, '--cli', gw.mcpUrl, '--protocol-era', 'modern', '--method', 'tools/call',
        '--tool-name', tools.listDealers, '--tool-arg', `${regionArg}=${region}`],
      { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', CI: '1' });
      assert.equal(r.status, 0, `exit ${r.status}: ${r.stdout.slice(0, 800)} ${r.stderr.slice(0, 800)}`);
      assert.equal(seen.length, before + 1, 'the call reached the upstream');
      assert.equal(seen.at(-1).region, Buffer.from(region).toString('latin1'), 'the upstream got the region');
    }
  });

  test('a legacy-era session calls the same tool without the header', async () => {
    const schema = await toolSchema(gw, tools.listDealers);
    const regionArg = Object.entries(schema.properties).find(([, p]) => p['x-mcp-header'] === 'Region')[0];
    const init = await post(gw, { jsonrpc: '2.0', id: nextId++, method: 'initialize', params: {
      protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    assert.equal(init.status, 200, init.body);
    const session = init.headers['mcp-session-id'];
    await post(gw, { jsonrpc: '2.0', method: 'notifications/initialized' }, { session, version: '2025-06-18' });
    const r = await post(gw, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: {
      name: tools.listDealers, arguments: { [regionArg]: 'east' } } }, { session, version: '2025-06-18' });
    assert.equal(r.status, 200, r.body);
    const msg = r.json ?? r.events?.map((e) => e.json).find((m) => m?.result || m?.error);
    assert.equal(msg.error, undefined, r.body);
    assert.equal(seen.at(-1).region, 'east');
  });

  test('the admin API refuses an invalid declaration and applies a valid one', async () => {
    const path = `/admin/api/tools/${tools.badDeclarations}`;
    const get = await request(gw.adminPort, { path });
    assert.equal(get.status, 200, get.body);
    const input = get.json.inputSchema;
    const [first] = Object.keys(input.properties);
    const bad = structuredClone(input);
    bad.properties[first] = { type: 'array', items: { type: 'string' }, 'x-mcp-header': 'List' };
    let r = await request(gw.adminPort, { method: 'PATCH', path, body: { inputSchema: bad },
      headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /x-mcp-header/);
    const good = structuredClone(input);
    good.properties[first] = { ...good.properties[first], 'x-mcp-header': 'First' };
    r = await request(gw.adminPort, { method: 'PATCH', path, body: { inputSchema: good },
      headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200, r.body);
    // the registry polls every second: the declaration applies to the next calls
    await h.waitFor(async () => (await modern(gw, tools.badDeclarations, { [first]: 'v' })).status === 400, 8000);
    const ok = await modern(gw, tools.badDeclarations, { [first]: 'v' }, { 'Mcp-Param-First': 'v' });
    assert.equal(ok.status, 200, ok.body);
  });
});

/** Runs node with args (bounded); {status, stdout, stderr}. */
function runAsync(args, env, timeoutMs = 60000) {
  return new Promise((resolveRun) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => { clearTimeout(timer); resolveRun({ status, stdout, stderr }); });
  });
}

async function toolSchema(gw, name) {
  const res = await post(gw, { jsonrpc: '2.0', id: nextId++, method: 'tools/list', params: { _meta: {
    'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} } } },
  { headers: { 'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/list' } });
  return res.json.result.tools.find((t) => t.name === name).inputSchema;
}
