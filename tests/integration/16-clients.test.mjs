// tests/integration/16-clients.test.mjs
// The MCP clients the product brief names besides the SDK, against a gateway that requires
// authentication (an API key) and serves the service-booking tools over the mock APIM:
//   - the MCP Inspector (2.x, its CLI mode) over Streamable HTTP with the key in a header:
//     tools/list with --strict (the service-booking tools' schemas carry no portability finding
//     of the Inspector's checks, not even a warning) and tools/call of find_nearby_dealers (the Delhi
//     dealers), in the legacy era and in the stateless 2026-07-28 one; and over stdio, starting
//     `mcpgw stdio` itself (41-param-headers drives it against x-mcp-header tools);
//   - mcp-remote (the stdio bridge desktop clients use for remote servers), driven by the SDK's
//     stdio client: initialize, tools/list, tools/call through it.
// The key never appears in the gateway's log. Clients from tests/node/clients (scripts/setup.sh).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as h from './lib/e2e-harness.mjs';
import * as a from './lib/auth-harness.mjs';
import { Client, StdioClientTransport } from './lib/sdk.mjs';

const CLIENTS = join(h.REPO, 'tests/node/clients/node_modules');
const INSPECTOR = join(CLIENTS, '@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const MCP_REMOTE = join(CLIENTS, 'mcp-remote/dist/proxy.js');
const NODE = process.execPath;

/** Runs a client to completion (bounded); returns {code, stdout, stderr}. */
function run(args, env, timeoutMs = 60000) {
  return new Promise((resolveRun) => {
    const p = spawn(NODE, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolveRun({ code, stdout: out, stderr: err }); });
  });
}

/** The first JSON document a client printed (the Inspector prints one per command). */
function firstJson(text) {
  const i = text.indexOf('{');
  assert.ok(i >= 0, `no JSON in: ${text.slice(0, 500)}`);
  return JSON.parse(text.slice(i));
}

describe('16-clients: the MCP Inspector and mcp-remote against the gateway', () => {
  let ctx, gw, key, clientEnv;

  before(async () => {
    ctx = await a.setup({ tag: 'clients', idp: false });
    key = a.createKey(ctx.env, { name: 'desktop-clients', subject: 'alice', roles: ['admin'] }).key;
    gw = await a.startAuthGateway(ctx, a.authSettings(null));
    // the clients keep state under $HOME (the Inspector's catalogue, mcp-remote's auth folder)
    clientEnv = { PATH: process.env.PATH, HOME: ctx.dir, NO_COLOR: '1', CI: '1' };
  });

  after(async () => {
    await h.stopAll();
    await ctx?.echo.stop();
    if (gw) assert.ok(!gw.stderr().includes(key), 'the API key appears in the gateway log');
    if (ctx) h.cleanupDir(ctx.dir);
  });

  test('Inspector CLI, Streamable HTTP: tools/list --strict and tools/call', async () => {
    const auth = ['--header', `Authorization: Bearer ${key}`];
    const list = await run([INSPECTOR, '--cli', gw.mcpUrl, ...auth, '--method', 'tools/list', '--strict'], clientEnv);
    assert.equal(list.code, 0, `exit ${list.code}: ${list.stderr.slice(0, 2000)}`);
    const names = firstJson(list.stdout).tools.map((t) => t.name);
    // no error at all; warnings only for the test's echo tool (its nullable fields), none for
    // the service-booking tools
    assert.doesNotMatch(list.stderr, /^Error: tool/m, list.stderr.slice(0, 2000));
    const warned = new Set([...list.stderr.matchAll(/^Warning: tool "([^"]+)"/gm)].map((m) => m[1]));
    assert.ok(warned.has('whoami'), 'the check reports findings (the echo tool\'s type arrays)');
    assert.deepEqual([...warned].filter((t) => t !== 'whoami'), [], list.stderr.slice(0, 2000));
    for (const t of ['find_nearby_dealers', 'get_available_slots', 'create_booking'])
      assert.ok(names.includes(t), `${t} missing from ${names}`);
    const call = await run([INSPECTOR, '--cli', gw.mcpUrl, ...auth, '--method', 'tools/call',
      '--tool-name', 'find_nearby_dealers', '--tool-arg', 'location=Delhi'], clientEnv);
    assert.equal(call.code, 0, `exit ${call.code}: ${call.stdout.slice(0, 1000)} ${call.stderr.slice(0, 1000)}`);
    const result = firstJson(call.stdout);
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(result.structuredContent?.count, 3, JSON.stringify(result).slice(0, 500));
    // and in the stateless 2026-07-28 era (no initialize, no session)
    const modern = await run([INSPECTOR, '--cli', gw.mcpUrl, ...auth, '--protocol-era', 'modern', '--method', 'tools/call',
      '--tool-name', 'find_nearby_dealers', '--tool-arg', 'location=Delhi'], clientEnv);
    assert.equal(modern.code, 0, `exit ${modern.code}: ${modern.stdout.slice(0, 1000)} ${modern.stderr.slice(0, 1000)}`);
    assert.equal(firstJson(modern.stdout).structuredContent?.count, 3, modern.stdout.slice(0, 500));
  });

  test('Inspector CLI, stdio: it starts `mcpgw stdio` and lists the same tools', async () => {
    const env = Object.entries({ ...ctx.env, GW_AUTH_MODE: 'off' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const list = await run([INSPECTOR, '--cli', ...env, '--transport', 'stdio', '--method', 'tools/list', '--',
      h.GW_BIN, 'stdio'], clientEnv);
    assert.equal(list.code, 0, `exit ${list.code}: ${list.stderr.slice(0, 2000)}`);
    assert.ok(firstJson(list.stdout).tools.some((t) => t.name === 'find_nearby_dealers'));
  });

  test('mcp-remote: the SDK stdio client reaches the gateway through the bridge', async () => {
    const transport = new StdioClientTransport({
      command: NODE,
      args: [MCP_REMOTE, gw.mcpUrl, '--header', `Authorization: Bearer ${key}`, '--transport', 'http-only'],
      env: clientEnv,
      stderr: 'pipe',
    });
    let bridgeLog = '';
    transport.stderr?.on('data', (d) => { bridgeLog += d; });
    const client = new Client({ name: 'desktop-via-mcp-remote', version: '1.0.0' });
    await client.connect(transport);
    try {
      assert.equal(client.getServerVersion()?.name, 'msil-mcp-gateway');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'find_nearby_dealers'), bridgeLog.slice(0, 2000));
      const r = await client.callTool({ name: 'find_nearby_dealers', arguments: { location: 'Delhi' } });
      assert.notEqual(r.isError, true, JSON.stringify(r).slice(0, 500));
      assert.equal(r.structuredContent?.count, 3, JSON.stringify(r).slice(0, 500));
    } finally {
      await client.close();
    }
    assert.match(bridgeLog, /Connected to remote server using StreamableHTTPClientTransport/);
  });
});
