// tests/integration/15-stdio-client-config.test.mjs
// A new user's desktop client (Claude Desktop, VS Code) starts `mcpgw stdio` from its own
// folder. `mcpgw config client` prints the server entry with absolute paths; started from
// another folder exactly as the client would (command, args, env of the entry) the gateway
// serves the registry's tools and creates nothing where it stands. Without any configuration
// in a folder without a registry, `mcpgw stdio` explains how to configure it instead of
// serving 0 tools from a new empty database there.
// Environment: GW_BIN, REPO (see lib/gw.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { GW_BIN, REPO } from './lib/gw.mjs';
import { Client, StdioClientTransport } from './lib/sdk.mjs';

const SPEC = join(REPO, 'tools/mock-apim/openapi/service-booking.yaml');
let home, elsewhere;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'gw-client-home-'));     // where the user ran the gateway
  elsewhere = mkdtempSync(join(tmpdir(), 'gw-client-cwd-')); // where the desktop client runs it
  const r = spawnSync(GW_BIN, ['import', SPEC, '--spec-id', 'service-booking', '--bundle', 'service-booking',
    '--upstream', 'service-booking', '--activate'], { cwd: home, encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

function clientConfig(target, extraEnv = {}) {
  const r = spawnSync(GW_BIN, ['config', 'client', '--for', target, '--env', 'MOCK_APIM_API_KEY'], {
    cwd: home, encoding: 'utf8',
    env: { PATH: process.env.PATH, GW_UPSTREAMS_FILE: 'upstreams.json', GW_UPSTREAM_ENV: 'mock',
      MOCK_APIM_API_KEY: 'mock-apim-dev-key', ...extraEnv },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('15-stdio-client-config: mcpgw stdio from a desktop client', () => {
  test('config client --for claude: absolute command and paths, requested env copied', () => {
    const cfg = clientConfig('claude');
    const s = cfg.mcpServers['msil-mcp'];
    assert.ok(isAbsolute(s.command), s.command);
    assert.deepEqual(s.args, ['stdio']);
    assert.equal(s.env.GW_DATA_DIR, join(home, 'data'));
    assert.equal(s.env.GW_UPSTREAMS_FILE, join(home, 'upstreams.json'));
    assert.equal(s.env.GW_UPSTREAM_ENV, 'mock');
    assert.equal(s.env.MOCK_APIM_API_KEY, 'mock-apim-dev-key');
    assert.ok(!('DATABASE_URL' in s.env) && !('GW_SESSION_SECRET' in s.env), 'no secret unless asked');
  });

  test('config client --for vscode: the servers map with type stdio', () => {
    const s = clientConfig('vscode').servers['msil-mcp'];
    assert.equal(s.type, 'stdio');
    assert.ok(isAbsolute(s.command));
  });

  test('started from another folder as the client does: serves the registry, creates nothing there', async () => {
    const s = clientConfig('claude', { GW_UPSTREAMS_FILE: '' }).mcpServers['msil-mcp'];
    const transport = new StdioClientTransport({ command: s.command, args: s.args, env: { PATH: process.env.PATH, ...s.env },
      cwd: elsewhere, stderr: 'pipe' });
    const client = new Client({ name: 'desktop', version: '1' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    await client.close();
    assert.equal(tools.length, 9, `tools: ${tools.map((t) => t.name).join(', ')}`);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing created in the client folder');
  });

  test('no configuration, no registry: stdio explains instead of serving 0 tools', () => {
    const r = spawnSync(GW_BIN, ['stdio'], { cwd: elsewhere, encoding: 'utf8', input: '', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /mcpgw config client/);
    assert.equal(r.stdout, '', 'stdout carries MCP messages only');
    assert.ok(!existsSync(join(elsewhere, 'data')), 'no database created');
  });
});
