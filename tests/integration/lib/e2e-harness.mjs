// tests/integration/lib/e2e-harness.mjs
// Shared plumbing of the end-to-end tests of upstream execution (tests/integration/5x-*.test.mjs):
// starts the mock APIM and the gateway on free loopback ports (port 0 + port files) in a private
// temp dir, writes an upstreams file, imports specs with `mcpgw import`, connects the official
// MCP SDK client over Streamable HTTP, and reads the mock's stats/faults/bookings.
// Every process started here is registered and killed by stopAll() (call it from after()).
// Process stderr is collected in memory (and in <dir>/<name>.log) so tests can assert on it:
// sanitizer reports ("ERROR: AddressSanitizer", "runtime error:") and leaked credentials.
// Environment: GW_BIN (mcpgw), BUILD_DIR (mock at $BUILD_DIR/tools/mock-apim/mock-apim), REPO;
// E2E_KEEP=1 keeps the temp dirs; E2E_CLI_BIN runs the CLI steps with another mcpgw (debugging).
// Nothing here talks to anything but 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '../../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StreamableHTTPClientTransport } from '../../node/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema } from '../../node/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = process.env.REPO || resolve(here, '../../..');
export const BUILD_DIR = resolve(process.env.BUILD_DIR || join(REPO, 'build', 'ci'));
export const GW_BIN = resolve(process.env.GW_BIN || join(BUILD_DIR, 'mcpgw'));
export const MOCK_BIN = join(BUILD_DIR, 'tools', 'mock-apim', 'mock-apim');
/** mcpgw for the CLI steps (import, tools ...); E2E_CLI_BIN overrides it (debugging only). */
export const CLI_BIN = resolve(process.env.E2E_CLI_BIN || GW_BIN);
export const SERVICE_BOOKING_SPEC = join(REPO, 'tools', 'mock-apim', 'openapi', 'service-booking.yaml');
export const DMS_SPEC = process.env.DMS_SPEC || join(REPO, 'tests/data/openapi/msil/dms-preprod-swagger.json');

/** Sanitizer / UB report markers: any of them in a process's stderr fails the test. */
export const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:'];
/** LeakSanitizer's report (checked separately: leaks at exit are reported by a todo test while
 * a known leak is open) and its exit status. */
export const LEAK_MARKER = 'ERROR: LeakSanitizer';
export const LSAN_EXIT = 23;

const live = new Set();

/**
 * A loopback TCP port free right now, for a server that must know its own address up front.
 * Drawn below the kernel's ephemeral range: a port got by binding to 0 is an ephemeral one, and
 * outgoing connections made meanwhile (other suites, the gateway's own) can take it first.
 * Drawn above 10080 too, the highest of the ports fetch() and browsers refuse ("bad port").
 * Nothing reserves it: callers that can retry on EADDRINUSE should.
 */
export async function freePort() {
  let lo = 32768;
  try { lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || lo; } catch { /* not Linux */ }
  const FIRST = 11000; // above fetch's blocked ports (the highest is 10080)
  lo = Math.max(lo, FIRST + 1000);
  for (let i = 0; i < 200; i++) {
    const port = FIRST + Math.floor(Math.random() * (lo - FIRST));
    const free = await new Promise((res) => {
      const s = createNetServer();
      s.once('error', () => res(false));
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (free) return port;
  }
  throw new Error('freePort: no free loopback port below the ephemeral range');
}

/** A fresh temp dir for one test file. */
export function tempDir(tag) {
  return mkdtempSync(join(tmpdir(), `mcpgw-e2e-${tag}-`));
}

/** Random credentials for one test run: never the documented defaults, so a leak is attributable. */
export function freshSecrets() {
  return {
    apiKey: 'ak-' + randomBytes(12).toString('hex'),
    clientId: 'e2e-client-' + randomBytes(3).toString('hex'),
    clientSecret: 'cs-' + randomBytes(16).toString('hex'),
  };
}

/** Environment for our children: the parent's without any GW_/MOCK_APIM_/DATABASE_URL setting. */
function baseEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GW_') || k.startsWith('MOCK_APIM_') || k === 'DATABASE_URL') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

async function waitPortFile(file, proc, what, timeoutMs = 15000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.spawnFailed)
      throw new Error(`${what} exited before listening (code ${proc.exitCode}, signal ${proc.signalCode}):\n${proc.stderrText().slice(-4000)}`);
    if (existsSync(file)) {
      const txt = readFileSync(file, 'utf8').trim();
      const port = Number(txt);
      if (port > 0) return port;
    }
    await sleep(20);
  }
  throw new Error(`${what} did not write its port file within ${timeoutMs} ms`);
}

/** Spawns a long-running child with stderr captured; registers it for stopAll(). */
function startProc(name, bin, args, env, dir) {
  const proc = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  const chunks = [];
  const logFile = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
  proc.stderr.on('data', (b) => { chunks.push(b); if (!logFile.writableEnded) logFile.write(b); });
  proc.stderrText = () => Buffer.concat(chunks).toString('utf8');
  // 'close' (not 'exit'): fires once the process has ended AND its stderr is drained, so the
  // text is complete and nothing is written to the log file after it was ended
  proc.exited = new Promise((res) => {
    proc.on('close', (code, signal) => { logFile.end(); res({ code, signal }); });
    proc.on('error', () => { logFile.end(); res({ code: -1, signal: null }); });
  });
  proc.procName = name;
  proc.on('error', (e) => (proc.spawnFailed = true) && chunks.push(Buffer.from(`spawn error: ${e.message}\n`)));
  live.add(proc);
  proc.exited.then(() => live.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL after graceMs. Resolves to {code, signal}. */
export async function stopProc(proc, graceMs = 10000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.spawnFailed) return proc ? proc.exited : null;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
  const r = await proc.exited;
  clearTimeout(timer);
  return r;
}

/** Kills everything this file started (for after()). */
export async function stopAll() {
  await Promise.all([...live].map((p) => stopProc(p, 3000)));
}

/** Lines of `text` that carry a sanitizer report (AddressSanitizer, UBSan). */
export function sanitizerReports(text) {
  return text.split('\n').filter((l) => SANITIZER_MARKERS.some((m) => l.includes(m)));
}

/** LeakSanitizer reports in `text`: the report line plus the first frames of each leak. */
export function leakReports(text) {
  if (!text.includes(LEAK_MARKER)) return [];
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++)
    if (/^(Direct|Indirect) leak/.test(lines[i])) out.push(lines.slice(i, i + 5).map((l) => l.trim()).join(' | '));
  return out.length ? out : [LEAK_MARKER];
}

/**
 * A clean exit: status 0, or LeakSanitizer's way out (status 23, or SIGABRT with
 * abort_on_error=1) when, and only when, it reported a leak (counted by the leak test).
 */
export function cleanExit(r, text) {
  return r.code === 0 ||
    ((r.code === LSAN_EXIT || r.signal === 'SIGABRT') && leakReports(text).length > 0 && sanitizerReports(text).length === 0);
}

/** The todo text of the leak test while the known leak is open. */
export const LEAK_TODO = 'src/mcp/mcp_http.c gw_mcp_http_attach allocates its http_state "for the life of the process" and never frees it: LeakSanitizer reports 24 bytes at every gateway exit, and the process exits 23 (or aborts with abort_on_error=1) under detect_leaks=1';

// ---------------------------------------------------------------------------------------------
// Mock APIM

/**
 * Starts the mock APIM. opts: dir (temp dir), secrets ({apiKey, clientId, clientSecret}),
 * args (extra serve flags), db (path; default <dir>/mock-apim.db), accessLog (default off).
 * Returns an object with url, port, db and helpers (stats, faults, bookings, stop).
 */
export async function startMock(opts) {
  const dir = opts.dir;
  const db = opts.db || join(dir, 'mock-apim.db');
  const portFile = join(dir, `mock-port-${randomBytes(3).toString('hex')}`);
  const s = opts.secrets;
  const env = baseEnv({
    MOCK_APIM_API_KEY: s.apiKey,
    MOCK_APIM_CLIENT_ID: s.clientId,
    MOCK_APIM_CLIENT_SECRET: s.clientSecret,
  });
  const listen = opts.port ? `127.0.0.1:${opts.port}` : '127.0.0.1:0';
  const args = ['serve', '--listen', listen, '--port-file', portFile, '--db', db,
    '--access-log', opts.accessLog ? 'on' : 'off', ...(opts.args || [])];
  const proc = startProc('mock-apim', MOCK_BIN, args, env, dir);
  const port = await waitPortFile(portFile, proc, 'mock-apim');
  const url = `http://127.0.0.1:${port}`;
  const admin = async (method, path, body) => {
    const r = await fetch(url + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const txt = await r.text();
    if (!r.ok) throw new Error(`mock ${method} ${path}: ${r.status} ${txt}`);
    return txt ? JSON.parse(txt) : null;
  };
  return {
    proc, port, url, db,
    health: () => admin('GET', '/health'),
    stats: () => admin('GET', '/__mock/stats'),
    resetStats: () => admin('DELETE', '/__mock/stats'),
    addFault: (rule) => admin('POST', '/__mock/faults', rule),
    clearFaults: () => admin('DELETE', '/__mock/faults'),
    faults: () => admin('GET', '/__mock/faults'),
    /** `mock-apim bookings --db PATH` (the CLI, read-only open). */
    bookings: () => {
      const r = spawnSync(MOCK_BIN, ['bookings', '--db', db], { encoding: 'utf8', env: baseEnv({}) });
      if (r.status !== 0) throw new Error(`mock-apim bookings failed: ${r.status} ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    stop: () => stopProc(proc),
  };
}

/** Count of one "METHOD /path" key in mock stats (0 when absent). */
export function statCount(stats, key) {
  return (stats && stats.requests && stats.requests[key]) || 0;
}

/** Sum of all API requests in stats (everything except /__mock/, /health and the token endpoint). */
export function apiCalls(stats) {
  let n = 0;
  for (const [k, v] of Object.entries((stats && stats.requests) || {}))
    if (!k.includes('/__mock/') && !k.endsWith('/health') && !k.includes('/oauth2/token')) n += v;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Gateway

/**
 * Writes an upstreams file into dir and returns its path. `upstreams` is the object under
 * "upstreams"; `defaults` is optional.
 */
export function writeUpstreams(dir, upstreams, defaults) {
  const file = join(dir, `upstreams-${randomBytes(3).toString('hex')}.json`);
  const doc = { description: 'written by an e2e test', upstreams };
  if (defaults) doc.defaults = defaults;
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

/**
 * The service-booking upstream as deploy/embedded/upstreams.json describes it, pointed at the
 * mock at `mockUrl`; secrets come from env vars E2E_API_KEY / E2E_CLIENT_ID / E2E_CLIENT_SECRET.
 */
export function serviceBookingUpstream(mockUrl, extra = {}) {
  return {
    baseUrls: { mock: mockUrl, staging: 'https://apim-staging.msil.example/service-booking',
      production: 'https://apim.msil.example/service-booking' },
    credentials: {
      apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', value: { env: 'E2E_API_KEY' }, always: true },
      oauth2: { type: 'oauth2', tokenUrl: `${mockUrl}/oauth2/token`,
        clientId: { env: 'E2E_CLIENT_ID' }, clientSecret: { env: 'E2E_CLIENT_SECRET' } },
    },
    callerIdentity: { userHeader: 'X-MSIL-User', clientHeader: 'X-MSIL-Client' },
    ...extra,
  };
}

/** Gateway environment for one test: its data dir, upstreams file, secrets and settings. */
export function gatewayEnv({ dir, upstreamsFile, secrets, settings = {} }) {
  return baseEnv({
    GW_DATA_DIR: join(dir, 'gw-data'),
    GW_UPSTREAMS_FILE: upstreamsFile || '',
    GW_UPSTREAM_ENV: 'mock',
    GW_LOG_LEVEL: 'debug',
    GW_SHUTDOWN_GRACE_SECONDS: '2',
    GW_REGISTRY_POLL_SECONDS: '1',
    // authentication off and the admin API in loopback dev mode unless a test sets them
    GW_AUTH_MODE: 'off',
    GW_ADMIN_DEV_MODE: 'true',
    E2E_API_KEY: secrets.apiKey,
    E2E_CLIENT_ID: secrets.clientId,
    E2E_CLIENT_SECRET: secrets.clientSecret,
    ...settings,
  });
}

/** Runs `mcpgw import` (blocking); returns stdout. Throws with stderr on failure. */
export function importSpec(env, spec, { specId, bundle, upstream }) {
  const args = ['import', spec, '--spec-id', specId, '--activate'];
  if (bundle) args.push('--bundle', bundle);
  if (upstream) args.push('--upstream', upstream);
  const r = spawnSync(CLI_BIN, args, { env, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`mcpgw import failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/**
 * Tool names of the imported specs, looked up in the registry (`mcpgw tools list --json`), so the
 * tests do not depend on the importer's naming rule: op[operationId] and route["METHOD /path"].
 */
export function toolMap(env) {
  const r = spawnSync(CLI_BIN, ['tools', 'list', '--json'], { env, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`mcpgw tools list failed: ${r.stderr}`);
  const list = JSON.parse(r.stdout);
  const tools = Array.isArray(list) ? list : list.tools;
  const op = {};
  const route = {};
  for (const t of tools) {
    if (t.source && t.source.operationId) op[t.source.operationId] = t.name;
    if (t.source && t.source.method) route[`${t.source.method.toUpperCase()} ${t.source.path}`] = t.name;
  }
  const strict = (o, what) => new Proxy(o, { get: (x, k) => {
    if (typeof k === 'string' && !(k in x)) throw new Error(`no tool for ${what} ${k}`);
    return x[k];
  } });
  return { op: strict(op, 'operationId'), route: strict(route, 'route'), tools };
}

/** Runs any mcpgw CLI command (blocking) with `env`; returns {status, stdout, stderr}. */
export function mcpgw(env, args) {
  return spawnSync(CLI_BIN, args, { env, encoding: 'utf8', timeout: 60000 });
}

/**
 * Starts `mcpgw serve` on a free port. Returns {proc, port, url, mcpUrl, stderr(), stop()}.
 * opts.listen: the address (default 127.0.0.1:0; a fixed port when the gateway must know its
 * own URL, e.g. GW_PUBLIC_URL); opts.admin: also wait for the admin API (GW_ADMIN_LISTEN must be
 * set) and return adminPort/adminUrl (".../admin/api").
 */
export async function startGateway(env, dir, extraArgs = [], opts = {}) {
  const tag = randomBytes(3).toString('hex');
  const portFile = join(dir, `gw-port-${tag}`);
  const adminPortFile = join(dir, `gw-admin-port-${tag}`);
  const args = ['serve', '--listen', opts.listen || '127.0.0.1:0', '--port-file', portFile];
  if (opts.admin) args.push('--admin-port-file', adminPortFile);
  const proc = startProc('gateway', GW_BIN, [...args, ...extraArgs], env, dir);
  const port = await waitPortFile(portFile, proc, 'mcpgw serve');
  const url = `http://127.0.0.1:${port}`;
  const gw = { proc, port, url, mcpUrl: `${url}/mcp`, stderr: () => proc.stderrText(), stop: () => stopProc(proc) };
  if (opts.admin) {
    gw.adminPort = await waitPortFile(adminPortFile, proc, 'mcpgw serve (admin API)');
    gw.adminUrl = `http://127.0.0.1:${gw.adminPort}/admin/api`;
  }
  return gw;
}

/**
 * A connected official SDK client (Streamable HTTP). opts.headers: sent on every request (e.g.
 * { Authorization: 'Bearer <key>' }); opts.elicit: when given, the client declares the
 * elicitation capability and answers every elicitation/create with elicit(params) (e.g. the
 * user accepting a confirmation: () => ({ action: 'accept', content: { confirm: true } })).
 */
export async function connectClient(mcpUrl, name = 'e2e', opts = {}) {
  const caps = opts.elicit ? { elicitation: {} } : {};
  const client = new Client({ name, version: '1.0.0' }, { capabilities: caps });
  if (opts.elicit)
    client.setRequestHandler(ElicitRequestSchema, async (req) => opts.elicit(req.params));
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl),
    opts.headers ? { requestInit: { headers: opts.headers } } : undefined);
  await client.connect(transport);
  return client;
}

/** The user accepting every confirmation the gateway asks for. */
export const acceptAll = () => ({ action: 'accept', content: { confirm: true } });

/**
 * tools/call through the same SDK client and transport but without the client's output-schema
 * check (Client.callTool throws when structuredContent does not match the tool's outputSchema,
 * which would hide what the gateway actually answered). Never throws on isError.
 */
export async function rawCall(client, name, args, options) {
  const res = await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, options);
  seenResults.push(JSON.stringify(res));
  return res;
}

/** Every tool result this process received through rawCall/timedCall (for leak checks). */
export const seenResults = [];

/** 64-hex-digit strings: the shape of the mock's bearer tokens (32 random bytes). */
const TOKEN_RE = /\b[0-9a-fA-F]{64}\b/g;

/**
 * SHA-256 (hex) of every access token the mock issued, from its database (the mock keeps only
 * these hashes): a 64-hex string in a log whose hash is here IS a token. Uses the sqlite3 CLI;
 * null when it is unavailable.
 */
export function tokenHashes(db) {
  const r = spawnSync('sqlite3', ['-readonly', db, 'SELECT token_hash FROM tokens'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

/**
 * Places in `text` where a secret shows: the API key, the client secret, its HTTP Basic form,
 * a bearer token the mock issued (by hash; any 64-hex string when the hashes are unknown), or
 * an "Authorization: Bearer <value>". Returns an array of findings (empty = clean).
 */
export function secretLeaks(text, secrets, hashes) {
  const found = [];
  const basic = Buffer.from(`${secrets.clientId}:${secrets.clientSecret}`).toString('base64');
  for (const [what, v] of [['api key', secrets.apiKey], ['client secret', secrets.clientSecret],
    ['basic credentials', basic]])
    if (v && text.includes(v)) found.push(what);
  for (const t of new Set(text.match(TOKEN_RE) || [])) {
    const h = createHash('sha256').update(t).digest('hex');
    if (!hashes || hashes.has(h)) found.push(`bearer token ${t.slice(0, 6)}…`);
  }
  const bearer = text.match(/Bearer\s+[A-Za-z0-9._~+\/-]{16,}/);
  if (bearer) found.push(`"${bearer[0].slice(0, 14)}…"`);
  return found;
}

/** Text content of a tool result (all text parts joined). */
export function resultText(res) {
  return (res.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Parsed JSON result of a successful tool call: structuredContent, else the text parsed. */
export function resultJson(res) {
  if (res.structuredContent !== undefined) return res.structuredContent;
  return JSON.parse(resultText(res));
}

/** Calls a tool and returns {res, ms}. Never throws on isError (only on protocol errors). */
export async function timedCall(client, name, args, options) {
  const t0 = performance.now();
  const res = await rawCall(client, name, args, options);
  return { res, ms: performance.now() - t0 };
}

/** Polls fn() until it returns truthy or timeoutMs passes; returns the last value. */
export async function waitFor(fn, timeoutMs = 5000, stepMs = 25) {
  const t0 = Date.now();
  let v;
  while (Date.now() - t0 < timeoutMs) {
    v = await fn();
    if (v) return v;
    await sleep(stepMs);
  }
  return v;
}

/** YYYY-MM-DD plus n days (UTC arithmetic on a calendar date). */
export function addDays(iso, n) {
  const d = new Date(iso + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The first day after `todayIso` that is a workday per the mock (Monday–Saturday). */
export function nextWorkday(todayIso) {
  let d = addDays(todayIso, 1);
  if (new Date(d + 'T00:00:00Z').getUTCDay() === 0) d = addDays(d, 1);
  return d;
}

/** DD-MON-YYYY (the DMS date style) of an ISO date. */
export function dmsDate(iso) {
  const m = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  const [y, mo, d] = iso.split('-');
  return `${d}-${m[Number(mo) - 1]}-${y}`;
}

/** Removes a temp dir unless E2E_KEEP is set (for debugging). */
export function cleanupDir(dir) {
  if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
}
