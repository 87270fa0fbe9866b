// ui/chat/e2e/lib.mjs
// Plumbing of the chat page's browser tests and screenshots: the mock APIM with the
// service-booking spec imported, the LLM stand-in (tests/support/llm-standin.mjs), and one real
// gateway per provider wire format (GW_CHAT_PROVIDER openai and anthropic, the stand-in as base
// URL, the embedded governance rules, authentication required, the page from ui/chat/dist at
// /chat/), with API keys of a customer-care agent and an analyst made with the CLI; Debian's
// Chromium through playwright-core; axe-core in the page. Only 127.0.0.1 is ever contacted.
// Environment: GW_BIN / BUILD_DIR / REPO as the integration tests; CHROMIUM (default
// /usr/bin/chromium).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import {
  REPO, SERVICE_BOOKING_SPEC, startMock, freshSecrets, tempDir, writeUpstreams, serviceBookingUpstream,
  gatewayEnv, importSpec, startGateway, stopAll, cleanupDir, sanitizerReports, mcpgw,
} from '../../../tests/integration/lib/e2e-harness.mjs';
import { startStandin } from '../../../tests/support/llm-standin.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const UI_DIST = resolve(process.env.GW_CHAT_UI_DIR || join(here, '..', 'dist'));
export const SENTENCE = 'Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune';
/** A dealer's agent asking for another dealer: the gateway's policy refuses it. */
export const OTHER_DEALER = 'Book a service for MH12AB1234 tomorrow at 10 AM at dealer MSIL-MUMBAI-001';
export { REPO };

function makeKey(env, name, subject, roles, claims) {
  const args = ['keys', 'create', '--name', name, '--subject', subject, '--json'];
  if (claims) args.push('--claims', JSON.stringify(claims));
  for (const r of roles) args.push('--role', r);
  const r = mcpgw(env, args);
  if (r.status !== 0) throw new Error(`mcpgw keys create: ${r.stderr}`);
  return JSON.parse(r.stdout).key;
}

/** Starts mock APIM + LLM stand-in + one gateway per provider. Returns {gw: {openai, anthropic},
 * keys: {cc, analyst, dealer}, mock, llm, stop()}. */
export async function startStack({ providers = ['openai', 'anthropic'] } = {}) {
  if (!existsSync(join(UI_DIST, 'index.html')))
    throw new Error(`${UI_DIST}/index.html is missing: build the page first (npm run build in ui/chat)`);
  const dir = tempDir('chatui');
  const secrets = freshSecrets();
  const mock = await startMock({ dir, secrets });
  const llmKey = 'sk-standin-' + secrets.apiKey;
  const llm = await startStandin({ key: llmKey });
  const keyFile = join(dir, 'llm-key');
  writeFileSync(keyFile, llmKey);
  const upstreamsFile = writeUpstreams(dir, { 'service-booking': serviceBookingUpstream(mock.url) });
  const env = gatewayEnv({
    dir, upstreamsFile, secrets,
    settings: {
      GW_AUTH_MODE: 'required', GW_GOVERNANCE_FILE: join(REPO, 'deploy', 'embedded', 'governance.yaml'),
      GW_LOG_LEVEL: 'info', GW_CHAT_UI_DIR: UI_DIST, GW_CHAT_BASE_URL: llm.url, GW_CHAT_API_KEY_FILE: keyFile,
      GW_CHAT_LLM_STALL_SECONDS: '3',
    },
  });
  importSpec(env, SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  const keys = {
    cc: makeKey(env, 'cc', 'cc.agent@msil.example', ['customer-care']),
    analyst: makeKey(env, 'analyst', 'analyst@msil.example', ['analyst']),
    dealer: makeKey(env, 'dealer', 'dealer.agent@dealer-pune.example', ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] }),
  };
  const gw = {};
  for (const p of providers)
    gw[p] = await startGateway({ ...env, GW_CHAT_PROVIDER: p, GW_CHAT_MODEL: `${p}-standin` }, dir);
  return {
    gw, keys, mock, llm, dir, llmKey,
    async stop() {
      await stopAll();
      await llm.close();
      const reports = Object.values(gw).flatMap((g) => sanitizerReports(g.stderr()));
      cleanupDir(dir);
      return reports;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/** A new page (laptop size) that records console errors, page errors and CSP violations. */
export async function newPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // expected: the refusals the tests provoke on purpose
    if (/status of (401|409)/.test(m.text())) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.problems = () => problems.slice();
  return page;
}

/** Opens /chat/ and signs in with an API key through the form. */
export async function signIn(page, base, key) {
  await page.goto(`${base}/chat/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in with the key' }).click();
  await page.getByRole('button', { name: 'New conversation' }).waitFor();
}

/** Types a message and sends it with Enter. */
export async function say(page, text) {
  const box = page.getByLabel('Your message');
  await box.fill(text);
  await box.press('Enter');
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core (WCAG 2.1 A/AA) on the page; returns the violations. */
export async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}
