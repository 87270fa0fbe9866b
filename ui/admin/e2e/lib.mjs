// ui/admin/e2e/lib.mjs
// Plumbing of the console's browser tests and screenshots: starts the real gateway (the build
// under test, GW_BIN) with its admin listener serving ui/admin/dist, and the mock APIM with the
// service-booking spec imported (tests/integration/lib/e2e-harness.mjs), on free loopback
// ports in a temp dir; drives Debian's Chromium through playwright-core; runs axe-core in the
// page; collects console errors. Nothing here talks to anything but 127.0.0.1.
// Environment: GW_BIN / BUILD_DIR / REPO as the integration tests; CHROMIUM (default
// /usr/bin/chromium); E2E_KEEP=1 keeps the temp dir.
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import {
  REPO, SERVICE_BOOKING_SPEC, startMock, freshSecrets, tempDir, writeUpstreams, serviceBookingUpstream,
  gatewayEnv, importSpec, startGateway, stopAll, cleanupDir, sanitizerReports, mcpgw,
} from '../../../tests/integration/lib/e2e-harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const UI_DIST = resolve(process.env.GW_ADMIN_UI_DIR || join(here, '..', 'dist'));
export const DMS_SPEC = process.env.DMS_SPEC || '/work/shared/corpus/openapi/msil/dms-preprod-swagger.json';
export { REPO, SERVICE_BOOKING_SPEC, sleep };

/**
 * Starts mock APIM + gateway with the console. Returns {gw, admin (base URL of the admin
 * listener), mock, env, dir, stop()}.
 */
export async function startStack({ settings = {}, withDms = false } = {}) {
  if (!existsSync(join(UI_DIST, 'index.html')))
    throw new Error(`${UI_DIST}/index.html is missing: build the console first (npm run build in ui/admin)`);
  const dir = tempDir('ui');
  const secrets = freshSecrets();
  const mock = await startMock({ dir, secrets });
  const upstreamsFile = writeUpstreams(dir, { 'service-booking': serviceBookingUpstream(mock.url) });
  const env = gatewayEnv({
    dir, upstreamsFile, secrets,
    // no loopback dev mode: the console signs in like in production (the admin key below)
    // authenticated and governed like scripts/run.sh's platform: the embedded roles and rules
    settings: { GW_ADMIN_LISTEN: '127.0.0.1:0', GW_ADMIN_UI_DIR: UI_DIST, GW_LOG_LEVEL: 'info', GW_ADMIN_DEV_MODE: 'false',
      GW_AUTH_MODE: 'required', GW_GOVERNANCE_FILE: join(REPO, 'deploy', 'embedded', 'governance.yaml'),
      // checkpoints every second: a record's inclusion proof is available at once
      GW_AUDIT_CHECKPOINT_SECONDS: '1', ...settings },
  });
  importSpec(env, SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  if (withDms) importSpec(env, DMS_SPEC, { specId: 'msil-dms', bundle: 'dms', upstream: 'service-booking' });
  // an administrator's API key (the admin API requires one), made with the CLI
  let adminKey = null;
  const k = mcpgw(env, ['keys', 'create', '--name', 'e2e-admin', '--subject', 'e2e-admin@msil.example', '--role', 'admin', '--json']);
  if (k.status === 0) adminKey = JSON.parse(k.stdout).key;
  const adminPortFile = join(dir, 'admin-port');
  const gw = await startGateway(env, dir, ['--admin-port-file', adminPortFile]);
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    if (existsSync(adminPortFile)) port = Number(readFileSync(adminPortFile, 'utf8').trim()) || 0;
    if (!port) await sleep(25);
  }
  if (!port) throw new Error('the gateway did not write its admin port');
  const admin = `http://127.0.0.1:${port}`;
  return {
    gw, mock, env, dir, admin, adminKey,
    async stop() {
      await stopAll();
      const reports = sanitizerReports(gw.stderr());
      cleanupDir(dir);
      return reports;
    },
  };
}

/** The admin API, directly (for setting up and checking what the UI did). */
export function adminApi(base, credential) {
  return async (method, path, body) => {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (credential) headers.authorization = `Bearer ${credential}`;
    const r = await fetch(`${base}/admin/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: r.status, json, headers: r.headers };
  };
}

/** POST /keys through `api` (adminApi), then waits until the MCP endpoint at `gwUrl` accepts the
 * new key: the authenticator loads keys on its own thread a moment after the 201, so a key used
 * at once can still be "unknown" (a JSON-RPC ping, not a tools/call, probes it; at most 5 s).
 * Resolves to the POST's answer ({status, json}). */
export async function createKey(api, gwUrl, spec) {
  const r = await api('POST', '/keys', spec);
  if (r.status !== 201) return r;
  for (const end = Date.now() + 5000; ;) {
    const probe = await fetch(`${gwUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${r.json.key}`,
        'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
    });
    await probe.arrayBuffer();
    if (probe.status !== 401) return r;
    if (Date.now() > end) throw new Error(`API key ${spec.name}: still refused 5 s after it was created`);
    await sleep(20);
  }
}

/** A 2026-07-28 tools/call straight to the MCP endpoint of `gwUrl` with an API key, as a
 * client that cannot elicit; resolves to the JSON-RPC answer. */
export async function mcpToolCall(gwUrl, key, name, args) {
  const r = await fetch(`${gwUrl}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}`,
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args,
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
  });
  return r.json();
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * A new page at a laptop size that records console errors, page errors and CSP violations.
 * page.problems() lists them (every endpoint the console uses exists: any failed load is one).
 */
export async function newPage(browser, { width = 1366, height = 768, credential = null } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  if (credential) // signed in already (the sign-in form itself is tested separately)
    await context.addInitScript((c) => {
      if (!sessionStorage.getItem('mcpgw.admin.session'))
        sessionStorage.setItem('mcpgw.admin.session', JSON.stringify({ credential: c, method: 'api_key' }));
    }, credential);
  const page = await context.newPage();
  page.setDefaultTimeout(20000); // an ASan build on a loaded 2-core machine is slow to answer
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    problems.push(`console: ${m.text()} ${m.location()?.url || ''}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => d.accept()); // window.confirm of destructive actions
  page.problems = () => problems.slice();
  page.clearProblems = () => { problems.length = 0; };
  return page;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (WCAG 2.1 A/AA rules) on the page; returns the violations (empty = pass).
 * Injected over the DevTools protocol (page.evaluate), which the page's CSP does not apply to. */
export async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return res;
}

export function fmtViolations(v) {
  return v.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.join(' | ')}`).join('\n');
}

/** The console's pages: path, heading and a locator that proves the page rendered. */
export const PAGES = [
  { name: 'dashboard', path: '/admin/', heading: 'Dashboard' },
  { name: 'tools', path: '/admin/tools', heading: 'Tools' },
  { name: 'tool-detail', path: '/admin/tools/create_booking', heading: 'create_booking' },
  { name: 'import', path: '/admin/import', heading: 'Import an API' },
  { name: 'products', path: '/admin/products/service-booking', heading: 'API products' },
  { name: 'exposure', path: '/admin/exposure', heading: 'Exposure' },
  { name: 'policies', path: '/admin/policies', heading: 'Policies' },
  { name: 'approvals', path: '/admin/approvals', heading: 'Approvals' },
  { name: 'rate-limits', path: '/admin/limits', heading: 'Rate limits' },
  { name: 'identities', path: '/admin/identities', heading: 'Identities' },
  { name: 'audit', path: '/admin/audit', heading: 'Audit' },
  { name: 'settings', path: '/admin/settings', heading: 'Settings' },
];

/** Opens a page and waits until it has rendered (heading visible, no spinner left). */
export async function open(page, base, p) {
  await page.goto(base + p.path);
  await page.getByRole('heading', { level: 1, name: p.heading }).waitFor({ timeout: 15000 });
  await page.waitForFunction(() => !document.querySelector('.state-loading'), null, { timeout: 15000 });
}
