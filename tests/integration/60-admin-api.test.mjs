// tests/integration/60-admin-api.test.mjs
// The admin REST API (src/admin, docs/admin-api.md) of a real `mcpgw serve`, over raw fetch:
// health; the import flow on the MSIL DMS spec (preview from the body writes nothing, approve a
// subset with an edited description and activate it); the approved tools reach the MCP data
// plane (official SDK client, tools/list) and a disabled one leaves it; PATCH with If-Match
// (ok, then 409); history; specs; bad input (400/404/405); the admin API is not served on the
// MCP port; a non-loopback GW_ADMIN_LISTEN refuses to start.
// Needs the lead's wiring: GW_ADMIN_LISTEN honoured by `serve` and `--admin-port-file FILE`
// (the bound admin port, like --port-file). Until then every test SKIPS with "admin not wired
// yet" (detected from the usage error / missing port file), never passes silently.
// Environment: GW_BIN, REPO (see lib/gw.mjs); DMS_SPEC (default: the vendored tests/data copy).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LEAK_TODO, cleanExit, leakReports, sanitizerReports } from './lib/e2e-harness.mjs';
import { GW_BIN, REPO, withTimeout } from './lib/gw.mjs';
import { Client, StreamableHTTPClientTransport } from './lib/sdk.mjs';

const DMS_SPEC = process.env.DMS_SPEC || join(REPO, 'tests/data/openapi/msil/dms-preprod-swagger.json');
const NOT_WIRED = 'admin not wired yet (needs GW_ADMIN_LISTEN + --admin-port-file in mcpgw serve)';
const SUBSET = ['get_am_list_by_name', 'get_dealer_master', 'get_service_details'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const leaks = []; // LeakSanitizer reports of the gateways at exit (ASan builds)
let skipReason = null; // set when the binary has no admin API wiring yet

/**
 * Starts `mcpgw serve` with the admin API on 127.0.0.1:0. Resolves to
 * { wired: false, reason } when the binary does not know --admin-port-file yet, else to a
 * gateway handle { base, admin, stop(), stderr() }.
 */
async function startWithAdmin(sets = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-admin-it-'));
  const portFile = join(dir, 'port');
  const adminPortFile = join(dir, 'admin-port');
  const all = {
    GW_DATA_DIR: join(dir, 'data'),
    GW_ADMIN_LISTEN: '127.0.0.1:0',
    GW_REGISTRY_POLL_SECONDS: '1',
    GW_SHUTDOWN_GRACE_SECONDS: '2',
    GW_WORKERS: '1',
    GW_AUTH_MODE: 'off',
    GW_ADMIN_DEV_MODE: 'true', // loopback dev mode: the admin API without credentials
    ...sets,
  };
  const args = ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile, '--admin-port-file',
    adminPortFile];
  for (const [k, v] of Object.entries(all)) args.push('--set', `${k}=${v}`);
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('GW_') && k !== 'DATABASE_URL') env[k] = v;
  const proc = spawn(GW_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { err += d; });
  let exitInfo = null;
  const exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  exited.then((x) => { exitInfo = x; });
  const readPort = (f) => (existsSync(f) ? parseInt(readFileSync(f, 'utf8'), 10) || 0 : 0);
  const t0 = Date.now();
  let port = 0;
  let adminPort = 0;
  while (!port || !adminPort) {
    if (exitInfo) {
      rmSync(dir, { recursive: true, force: true });
      if (/unrecognized option|admin-port-file|unknown option/i.test(err))
        return { wired: false, reason: NOT_WIRED };
      return { wired: true, failed: true, exitInfo, stderr: err };
    }
    port = readPort(portFile);
    adminPort = readPort(adminPortFile);
    if (Date.now() - t0 > 15000) {
      proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      if (port && !adminPort) return { wired: false, reason: NOT_WIRED };
      throw new Error(`mcpgw did not write its port files in 15 s:\n${err}`);
    }
    if (!port || !adminPort) await sleep(20);
  }
  return {
    wired: true,
    base: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${adminPort}/admin/api`,
    stderr: () => err,
    /** SIGTERM, wait, fail on ASan/UBSan reports; leaks are collected for the leak tests. */
    async stop() {
      if (!exitInfo) proc.kill('SIGTERM');
      const res = await withTimeout(exited, 15000);
      rmSync(dir, { recursive: true, force: true });
      if (!res) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error('mcpgw did not exit within 15 s of SIGTERM');
      }
      assert.deepEqual(sanitizerReports(err), [], 'sanitizer reports in the gateway log');
      leaks.push(...leakReports(err));
      assert.ok(cleanExit(res, err), `gateway exit status ${res.code} (signal ${res.signal})`);
      return res;
    },
  };
}

/** fetch + JSON: { status, body, headers }. */
async function api(gw, method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Buffer ? body : JSON.stringify(body);
    if (!init.headers['content-type']) init.headers['content-type'] = 'application/json';
  }
  const r = await fetch(gw.admin + path, init);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, body: json, headers: r.headers, text };
}

async function mcpToolNames(gw) {
  const client = new Client({ name: 'admin-it', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.base}/mcp`)));
  try {
    const names = [];
    let cursor;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      for (const t of page.tools) names.push(t.name);
      cursor = page.nextCursor;
    } while (cursor);
    return names;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Polls fn until it returns truthy or timeoutMs passes; returns the last value. */
async function waitFor(fn, timeoutMs = 8000) {
  const t0 = Date.now();
  let v;
  while (Date.now() - t0 < timeoutMs) {
    v = await fn();
    if (v) return v;
    await sleep(50);
  }
  return v;
}

describe('60-admin-api: the admin REST API of mcpgw serve', () => {
  let gw;

  before(async () => {
    gw = await startWithAdmin();
    if (!gw.wired) skipReason = gw.reason;
    else if (gw.failed)
      throw new Error(`mcpgw serve with the admin API failed (${JSON.stringify(gw.exitInfo)}):\n${gw.stderr}`);
  });

  after(async () => {
    if (gw && gw.wired && !gw.failed) await gw.stop();
  });

  test('health names the store and its schema version', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = await api(gw, 'GET', '/health');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.store, 'sqlite');
    assert.ok(r.body.schemaVersion >= 1);
  });

  test('the admin API is not served on the MCP port', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = await fetch(`${gw.base}/admin/api/health`);
    assert.equal(r.status, 404);
  });

  test('preview, approve a subset with an edit, serve it over MCP, govern it', async (t) => {
    if (skipReason) return t.skip(skipReason);
    if (!existsSync(DMS_SPEC)) return t.skip(`${DMS_SPEC} absent`);
    const doc = readFileSync(DMS_SPEC);

    const p = await api(gw, 'POST', '/imports/preview?fileName=dms.json', doc);
    assert.equal(p.status, 200, p.text.slice(0, 500));
    assert.equal(p.body.tools.length, 50);
    assert.equal(p.body.diff.added.length, 50);
    assert.equal(p.body.spec.fileName, 'dms.json');
    const specId = p.body.spec.id;
    const l0 = await api(gw, 'GET', '/tools');
    assert.equal(l0.body.total, 0, 'the preview wrote nothing');

    const approved = p.body.tools.filter((x) => SUBSET.includes(x.name));
    assert.equal(approved.length, SUBSET.length);
    approved.find((x) => x.name === 'get_dealer_master').description = 'Dealer master (edited)';
    const a = await api(gw, 'POST', '/imports', { spec: p.body.spec, tools: approved, activate: true },
      { 'x-change-reason': 'integration test' });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual([...a.body.diff.added].sort(), [...SUBSET].sort());

    const g = await api(gw, 'GET', '/tools/get_dealer_master');
    assert.equal(g.status, 200);
    assert.equal(g.body.description, 'Dealer master (edited)');
    assert.equal(g.headers.get('etag'), '"1"');

    // the data plane serves exactly the approved tools (registry reload after the write)
    const served = await waitFor(async () => {
      const names = await mcpToolNames(gw);
      return SUBSET.every((n) => names.includes(n)) ? names : null;
    });
    assert.ok(served, 'approved tools reach tools/list');
    assert.ok(!served.includes('get_pin'), 'unapproved tools are not served');

    // optimistic concurrency
    const ok = await api(gw, 'PATCH', '/tools/get_dealer_master', { risk: 'privileged' }, { 'if-match': '"1"' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('etag'), '"2"');
    const stale = await api(gw, 'PATCH', '/tools/get_dealer_master', { risk: 'read' }, { 'if-match': '"1"' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'conflict');

    // disabling takes it out of tools/list
    const d = await api(gw, 'POST', '/tools/get_dealer_master/disable');
    assert.equal(d.status, 200);
    assert.equal(d.body.status, 'disabled');
    const gone = await waitFor(async () => !(await mcpToolNames(gw)).includes('get_dealer_master'));
    assert.ok(gone, 'a disabled tool leaves tools/list');

    const h = await api(gw, 'GET', '/tools/get_dealer_master/history');
    assert.equal(h.status, 200);
    assert.ok(h.body.items.length >= 3);
    assert.equal(h.body.items.at(-1).reason, 'integration test');

    const s = await api(gw, 'GET', '/specs');
    assert.equal(s.status, 200);
    assert.equal(s.body.items.length, 1);
    assert.equal(s.body.items[0].id, specId);
    const ri = await api(gw, 'POST', `/specs/${specId}/reimport?dryRun=true`);
    assert.equal(ri.status, 200, ri.text);
    assert.equal(ri.body.diff.added.length, 50 - SUBSET.length);
  });

  test('bad input gets precise 4xx answers', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const cases = [
      ['POST', '/imports/preview', '{nope', 400],
      ['POST', '/imports/preview', '', 400],
      ['POST', '/imports/preview', '{"url":"http://127.0.0.1:1/spec.json"}', 400],
      ['POST', '/imports', '{"spec":{},"tools":[]}', 400],
      ['GET', '/tools/no_such_tool', undefined, 404],
      ['GET', '/tools/bad%20name', undefined, 400],
      ['GET', '/tools?limit=0', undefined, 400],
      ['PUT', '/tools', undefined, 405],
      ['GET', '/nope', undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await api(gw, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.body.error.code, 'string');
      assert.equal(typeof r.body.error.message, 'string');
    }
  });

  test('a non-loopback GW_ADMIN_LISTEN refuses to start', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const g2 = await startWithAdmin({ GW_ADMIN_LISTEN: '0.0.0.0:0' });
    if (!g2.failed) {
      await g2.stop();
      assert.fail('started with the admin API on 0.0.0.0');
    }
    assert.notEqual(g2.exitInfo.code, 0);
    assert.match(g2.stderr, /loopback/);
    assert.deepEqual(sanitizerReports(g2.stderr), []);
  });
});

// Leaks at exit, known ones apart (run after the suite above has stopped its gateway).
test('the gateway leaks nothing at exit apart from the known MCP leak (ASan builds)', (t) => {
  if (skipReason) return t.skip(skipReason);
  assert.deepEqual(leaks.filter((l) => !l.includes('gw_mcp_http_attach')), []);
});

test('the gateway leaks nothing at exit (LeakSanitizer, ASan builds)', { todo: LEAK_TODO }, (t) => {
  if (skipReason) return t.skip(skipReason);
  assert.deepEqual(leaks, []);
});
