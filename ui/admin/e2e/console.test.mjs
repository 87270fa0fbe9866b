// ui/admin/e2e/console.test.mjs — the admin console in Debian's Chromium (playwright-core)
// against the real gateway (GW_BIN) and mock APIM: the console is served at /admin/ with its
// CSP; every page renders with no console error and passes axe-core (WCAG 2.1 AA) at a laptop
// size without horizontal scrolling; keyboard navigation; each page's main task: search and
// filter tools, change a tool's risk (checked through the API, history recorded), bulk
// disable/activate, import a spec with an edited description and see the tools, create a
// product and add a tool, the settings with sources and redaction; governance (the embedded
// rules): add an exposure rule and see "view as" change, test a policy decision, approve a call
// waiting for a person, add a rate limit and see a caller refused; the dashboard shows exactly
// the calls, errors and denials this file made (charts, top tools, upstreams, audit lag); find
// an audit record (by user, tool, decision), open it with its masked arguments, verify the
// chain, check its inclusion proof (recomputed here from the hashes) and export the search;
// sign-in with an API key, create and revoke a key, a non-admin refused.
// Bounded: one gateway, one browser, about a minute.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startStack, launchBrowser, newPage, open, PAGES, axe, fmtViolations, adminApi, createKey, mcpToolCall, DMS_SPEC } from './lib.mjs';

let stack, browser, page, api;
let authConfig = null; // the gateway's /auth/config, or null when it has no authentication yet

before(async () => {
  stack = await startStack();
  api = adminApi(stack.admin, stack.adminKey);
  browser = await launchBrowser();
  page = await newPage(browser, { credential: stack.adminKey });
  const c = await api('GET', '/auth/config');
  authConfig = c.status === 200 ? c.json : null;
});

after(async () => {
  await browser?.close();
  const reports = await stack?.stop();
  assert.deepEqual(reports || [], [], 'sanitizer reports in the gateway log');
});

describe('serving', () => {
  test('/admin/ is the console with a strict CSP; the API keeps /admin/api/', async () => {
    const r = await fetch(`${stack.admin}/admin/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    const html = await r.text();
    const js = html.match(/src="(\/admin\/assets\/[^"]+\.js)"/)[1];
    const a = await fetch(stack.admin + js, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(a.status, 200);
    assert.match(a.headers.get('cache-control'), /immutable/);
    assert.equal((await api('GET', '/health')).status, 200);
    // a client-side route gets the app; traversal does not get anywhere
    assert.equal((await fetch(`${stack.admin}/admin/tools/create_booking`)).status, 200);
    for (const p of ['/admin/..%2f..%2fetc%2fpasswd', '/admin/%2e%2e/%2e%2e/etc/passwd', '/admin/.env'])
      assert.ok([400, 404].includes((await fetch(stack.admin + p)).status), p);
    // the MCP port does not serve the console
    assert.equal((await fetch(`${stack.gw.url}/admin/`)).status, 404);
  });
});

describe('every page', () => {
  for (const p of PAGES) {
    test(`${p.name}: renders, no console error, axe-core passes, fits a laptop screen`, async () => {
      page.clearProblems();
      await open(page, stack.admin, p);
      const v = await axe(page);
      assert.equal(v.length, 0, `axe violations on ${p.path}:\n${fmtViolations(v)}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${p.path} scrolls horizontally by ${overflow}px at 1366x768`);
      // visually hidden text stays hidden: nothing .sr-only takes room (a hidden table once made the dashboard a screen taller)
      const hidden = await page.evaluate(() => [...document.querySelectorAll('.sr-only')].map((e) => e.getBoundingClientRect().height).filter((h) => h > 2));
      assert.deepEqual(hidden, [], `${p.path}: visually hidden elements that take room`);
      assert.deepEqual(page.problems(), [], `problems on ${p.path}`);
    });
  }
});

describe('keyboard', () => {
  test('skip link, then the navigation by Tab and Enter', async () => {
    await open(page, stack.admin, PAGES[0]);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    // Tab until the "Tools" navigation link has focus, then Enter
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent?.trim())) === 'Tools') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tools' }).waitFor();
    assert.match(page.url(), /\/admin\/tools$/);
  });
});

describe('tools', () => {
  test('search and filter', async () => {
    await open(page, stack.admin, PAGES[1]);
    await page.getByRole('searchbox', { name: 'Search tools' }).fill('booking');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length < 9);
    const rows = await page.locator('tbody tr').allInnerTexts();
    for (const r of rows) assert.match(r, /book/i);
    const names = await page.locator('tbody tr a.row-title').allInnerTexts();
    for (const n of ['cancel_booking', 'create_booking', 'get_booking', 'list_bookings']) assert.ok(names.includes(n), n);
    await page.getByLabel('Risk').selectOption('read');
    await page.waitForFunction(() => [...document.querySelectorAll('tbody tr')].every((r) => r.innerText.includes('read')));
    assert.ok(!(await page.locator('tbody tr a.row-title').allInnerTexts()).includes('create_booking'));
    assert.match(page.url(), /risk=read/);
  });

  test("change a tool's risk: saved through the API with If-Match, in the history", async () => {
    page.clearProblems();
    await open(page, stack.admin, PAGES[2]);
    await page.getByLabel('Risk', { exact: true }).selectOption('privileged');
    await page.getByLabel('Requires confirmation').check();
    await page.getByLabel('Reason for the change').fill('bookings need a person');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(/Saved create_booking \(version 2\)/).waitFor();
    const t = await api('GET', '/tools/create_booking');
    assert.equal(t.json.risk, 'privileged');
    assert.equal(t.json.requiresConfirmation, true);
    assert.equal(t.json.version, 2);
    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByText('“bookings need a person”').waitFor();
    assert.deepEqual(page.problems(), []);
  });

  test('a stale edit is refused (409) and explained', async () => {
    await open(page, stack.admin, PAGES[2]);
    await api('PATCH', '/tools/create_booking', { rateLimitTier: 'strict' }); // someone else
    await page.getByLabel('Risk', { exact: true }).selectOption('write');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: /Someone else changed this tool/ }).waitFor();
    assert.equal((await api('GET', '/tools/create_booking')).json.risk, 'privileged');
    page.clearProblems(); // the 409 was the point of this test
  });

  test('rename a tool: the new name in the registry, the old one kept as an alias no other tool may take', async () => {
    page.clearProblems();
    await open(page, stack.admin, { path: '/admin/tools/list_bookings', heading: 'list_bookings' });
    await page.getByRole('button', { name: 'Rename' }).click();
    const dlg = page.getByRole('dialog', { name: 'Rename list_bookings' });
    await dlg.getByLabel('New name').fill('list_service_bookings');
    await dlg.getByLabel(/Keep the old name as an alias/).fill('7');
    await dlg.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { level: 1, name: 'list_service_bookings' }).waitFor();
    assert.match(page.url(), /\/admin\/tools\/list_service_bookings$/);
    assert.equal((await api('GET', '/tools/list_service_bookings')).status, 200);
    // taking the alias for another tool is refused, and the dialog says why
    await page.getByRole('button', { name: 'Rename' }).click();
    const again = page.getByRole('dialog', { name: 'Rename list_service_bookings' });
    assert.equal((await api('POST', '/tools/get_booking/rename', { to: 'list_bookings' })).status, 409);
    await again.getByLabel('New name').fill('get_booking');
    await again.getByRole('button', { name: 'Rename' }).click();
    await again.getByRole('alert').waitFor();
    await again.getByRole('button', { name: 'Cancel' }).click();
    page.clearProblems(); // the 409 was expected
    // back to its name (the other tests use it)
    assert.equal((await api('POST', '/tools/list_service_bookings/rename', { to: 'list_bookings' })).status, 200);
  });

  test('bulk disable and activate', async () => {
    await open(page, stack.admin, PAGES[1]);
    await page.getByLabel('Select get_dealer').check();
    await page.getByLabel('Select find_nearby_dealers').check();
    await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Disabled 2 tools').waitFor();
    assert.equal((await api('GET', '/tools/get_dealer')).json.status, 'disabled');
    assert.equal((await api('GET', '/tools/find_nearby_dealers')).json.status, 'disabled');
    await page.getByLabel('Select get_dealer').check();
    await page.getByLabel('Select find_nearby_dealers').check();
    await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Activate' }).click();
    await page.getByText('Activated 2 tools').waitFor();
    assert.equal((await api('GET', '/tools/get_dealer')).json.status, 'active');
  });
});

describe('import', () => {
  test('upload a spec, preview, edit a description, approve a subset, see the tools', async () => {
    const spec = join(dirname(DMS_SPEC), 'customer-service-api.yaml');
    page.clearProblems();
    await open(page, stack.admin, PAGES.find((p) => p.name === 'import'));
    await page.setInputFiles('#specfile', spec);
    await page.getByLabel('API product').fill('customer-service');
    await page.getByRole('button', { name: 'Preview' }).click();
    const header = page.getByText(/Tools \(\d+ of \d+ selected\)/);
    await header.waitFor({ timeout: 20000 });
    const total = Number((await header.innerText()).match(/of (\d+)/)[1]);
    // a name the registry has already (service-booking's create_booking) goes under the product's prefix, said on its row
    assert.match(await page.getByTestId('stored-as-create_booking').innerText(), /^as customer_service_create_booking: create_booking is taken$/);
    assert.ok(total >= 3, `preview made ${total} tools`);
    const boxes = page.getByRole('checkbox', { name: /^Approve / });
    const names = (await boxes.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label').slice(8))));
    const [first, second, ...rest] = names;
    // nothing written by the preview
    assert.equal((await api('GET', `/tools/${first}`)).status, 404);
    for (const n of rest) await page.getByLabel(`Approve ${n}`).uncheck();
    await page.getByRole('button', { name: `Edit description of ${first}` }).click();
    await page.getByRole('textbox', { name: `Description of ${first}` }).fill('Edited in the console: looks up a customer.');
    await page.getByRole('button', { name: `Edit description of ${first}` }).click();
    await page.getByLabel(`Risk of ${second}`).selectOption('privileged');
    await page.getByLabel('Activate new tools now').check();
    await page.getByRole('button', { name: 'Approve 2 tools' }).click();
    await page.getByRole('heading', { name: /is in the registry/ }).waitFor({ timeout: 20000 });
    const a = await api('GET', `/tools/${first}`);
    assert.equal(a.json.description, 'Edited in the console: looks up a customer.');
    assert.equal(a.json.status, 'active');
    assert.equal(a.json.bundle, 'customer-service');
    assert.equal((await api('GET', `/tools/${second}`)).json.risk, 'privileged');
    assert.equal((await api('GET', `/tools/${rest[0]}`)).status, 404, 'an unselected tool was imported');
    await page.getByRole('link', { name: 'View tools' }).click();
    await page.getByRole('searchbox', { name: 'Search tools' }).fill(first);
    await page.getByRole('link', { name: first }).waitFor();
    assert.deepEqual(page.problems(), []);
  });

  test('a broken spec shows the parser error and where it is', async () => {
    await open(page, stack.admin, PAGES.find((p) => p.name === 'import'));
    await page.setInputFiles('#specfile', { name: 'broken.yaml', mimeType: 'application/yaml', buffer: Buffer.from('openapi: 3.0.3\ninfo:\n  title: x\n  version: 1\npaths:\n  /a: [\n') });
    await page.getByRole('button', { name: 'Preview' }).click();
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    assert.match(await alert.innerText(), /line|column|YAML|syntax/i);
  });
});

describe('API products', () => {
  test('create a product and add a tool to it', async () => {
    await open(page, stack.admin, { path: '/admin/products', heading: 'API products' });
    await page.getByRole('button', { name: 'New product' }).click();
    await page.getByLabel('Name').fill('dealer-locator');
    await page.getByLabel('Title').fill('Dealer locator');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Dealer locator', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Add tools' }).click();
    await page.getByRole('searchbox', { name: 'Search tools to add' }).fill('get_dealer');
    await page.getByRole('dialog').getByLabel('get_dealer').check();
    await page.getByRole('button', { name: 'Add 1' }).click();
    await page.getByRole('button', { name: 'Remove get_dealer from dealer-locator' }).waitFor();
    assert.equal((await api('GET', '/tools/get_dealer')).json.bundle, 'dealer-locator');
    assert.equal((await api('GET', '/bundles/dealer-locator')).json.toolCount, 1);
  });
});

describe('settings', () => {
  test('effective values with their source; secrets redacted', async () => {
    await open(page, stack.admin, PAGES.find((p) => p.name === 'settings'));
    await page.getByRole('searchbox', { name: 'Search settings' }).fill('GW_ADMIN_UI_DIR');
    const row = page.getByRole('row').filter({ hasText: 'GW_ADMIN_UI_DIR' });
    await row.waitFor();
    assert.match(await row.innerText(), /environment/);
    await page.getByRole('searchbox', { name: 'Search settings' }).fill('DATABASE_URL');
    assert.match(await page.getByRole('row', { name: /^DATABASE_URL/ }).innerText(), /not set|redacted/);
  });
});

/** What every tools/call of this file ended as (the dashboard must show exactly these). */
const made = { calls: 0, errors: 0, denials: 0, byTool: {} };
// forbidden, policy, elevation, approval needed, approval invalid, rate limit
const DENIALS = new Set([-32003, -32004, -32005, -32006, -32007, -32008]);
function tally(name, body) {
  const kind = body.error ? (DENIALS.has(body.error.code) ? 'denials' : 'errors') : body.result?.isError ? 'errors' : 'ok';
  made.calls++;
  if (kind !== 'ok') made[kind]++;
  made.byTool[name] = (made.byTool[name] || 0) + 1;
  return body;
}

/** A 2026-07-28 tools/call straight to the MCP endpoint, as a client that cannot elicit. */
async function mcpCall(key, name, args) {
  return tally(name, await mcpToolCall(stack.gw.url, key, name, args));
}

describe('governance', () => {
  test('add an exposure rule and "view as" shows the change; remove it again', async () => {
    page.clearProblems();
    await open(page, stack.admin, PAGES.find((p) => p.name === 'exposure'));
    // the rules file's rules are listed, read-only
    await page.getByRole('cell', { name: /customer-care-booking/ }).waitFor();
    await page.getByLabel('Principal type').selectOption('role');
    await page.getByLabel('Principal', { exact: true }).fill('analyst');
    await page.getByRole('button', { name: 'View as' }).click();
    const view = page.getByTestId('view-as');
    await view.getByText(/visible to role analyst/).waitFor();
    const before = await view.locator('li').allInnerTexts();
    assert.ok(before.length > 0 && before.every((t) => /\bread\b/.test(t)), `analysts see read tools only: ${before}`);
    assert.ok(!before.some((t) => t.startsWith('cancel_booking')));
    // show cancel_booking to analysts: they see it, but may not run it (risk above their ceiling)
    await page.getByLabel('Rule id').fill('e2e-analyst-cancel');
    await page.getByLabel('Who').selectOption('roles');
    await page.getByLabel('Roles (comma separated)').fill('analyst');
    await page.getByLabel('Sees').selectOption('tools');
    await page.getByLabel('Tool names (comma separated)').fill('cancel_booking');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Rule e2e-analyst-cancel added').waitFor();
    const item = view.locator('li').filter({ hasText: 'cancel_booking' });
    await item.waitFor();
    assert.match(await item.innerText(), /deny/);
    assert.match(await item.innerText(), /shown by e2e-analyst-cancel/);
    const stored = (await api('GET', '/exposure/rules')).json.items.find((r) => r.id === 'e2e-analyst-cancel');
    assert.deepEqual({ roles: stored.roles, tools: stored.tools, source: stored.source }, { roles: ['analyst'], tools: ['cancel_booking'], source: 'database' });
    await page.getByRole('button', { name: 'Remove rule e2e-analyst-cancel' }).click();
    await page.getByText('Rule e2e-analyst-cancel removed').waitFor();
    await item.waitFor({ state: 'detached' });
    assert.equal((await api('GET', '/exposure/rules')).json.items.find((r) => r.id === 'e2e-analyst-cancel'), undefined);
    assert.deepEqual(page.problems(), []);
  });

  test('test a decision: a dealer for another dealer is denied, with why and what would allow it', async () => {
    page.clearProblems();
    await open(page, stack.admin, PAGES.find((p) => p.name === 'policies'));
    await page.getByLabel('Roles (comma separated)').fill('dealer');
    await page.getByLabel('Tool').fill('get_dealer');
    await page.getByLabel('Claims (JSON)').fill('{"dealer_ids":["MSIL-PUNE-001"]}');
    await page.getByLabel('Arguments (JSON)').fill('{"dealer_id":"MSIL-PUNE-002"}');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const d = page.getByTestId('decision');
    await d.getByText(/Decision: deny/).waitFor();
    const text = await d.innerText();
    assert.match(text, /MSIL-PUNE-002 is not one of yours/);
    assert.match(text, /What would allow it: use one of the dealer ids/);
    assert.match(text, /dealer-own-dealers/);
    await page.getByLabel('Arguments (JSON)').fill('{"dealer_id":"MSIL-PUNE-001"}');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await d.getByText(/Decision: allow/).waitFor();
    // bad JSON is explained, not sent
    await page.getByLabel('Claims (JSON)').fill('{dealer');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByText('The claims are not a JSON object.').waitFor();
    assert.deepEqual(page.problems(), []);
  });

  test('a call waiting for a person is approved from the inbox', async () => {
    page.clearProblems();
    await api('PATCH', '/tools/create_booking', { risk: 'write' }); // an earlier test made it privileged
    const cc = await createKey(api, stack.gw.url, { name: 'e2e-cc', subject: 'agent7@msil.example', roles: ['customer-care'] });
    assert.equal(cc.status, 201);
    const today = (await stack.mock.health()).today;
    const day = new Date(Date.parse(`${today}T00:00:00Z`) + 2 * 86400000).toISOString().slice(0, 10);
    // a client that cannot ask its user (no elicitation): the call waits for a person
    const e = (await mcpCall(cc.json.key, 'create_booking',
      { customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day, time: '10:00' })).error;
    assert.equal(e?.code, -32006, JSON.stringify(e));
    const id = e.data.approval.id;
    await open(page, stack.admin, PAGES.find((p) => p.name === 'approvals'));
    const card = page.locator('.card').filter({ hasText: 'agent7@msil.example' });
    await card.waitFor();
    assert.match(await card.innerText(), /MSIL-PUNE-001/);
    await card.getByLabel(/Comment/).fill('customer confirmed by phone');
    await page.getByRole('button', { name: 'Approve create_booking for agent7@msil.example' }).click();
    await page.getByText('Approved create_booking for agent7@msil.example').waitFor();
    const a = (await api('GET', `/approvals/${id}`)).json;
    assert.equal(a.status, 'approved');
    assert.match(a.decided_by, /e2e-admin@msil.example$/);
    assert.equal(a.comment, 'customer confirmed by phone');
    await page.getByRole('tab', { name: 'Approved' }).click();
    await page.locator('.card').filter({ hasText: 'customer confirmed by phone' }).waitFor();
    assert.deepEqual(page.problems(), []);
  });

  test('add a rate limit; a caller over it shows up as refused; remove it', async () => {
    page.clearProblems();
    const k = await createKey(api, stack.gw.url, { name: 'e2e-analyst', subject: 'analyst-3', roles: ['analyst'] });
    await open(page, stack.admin, PAGES.find((p) => p.name === 'rate-limits'));
    await page.getByLabel('Limit id').fill('e2e-dealer-lookups');
    await page.getByLabel('Rate', { exact: true }).fill('1/min');
    await page.getByLabel('Counted per').selectOption('user');
    await page.getByLabel('Only these tools (comma separated, empty: all)').fill('get_dealer');
    await page.getByRole('button', { name: 'Add limit' }).click();
    await page.getByText('Limit e2e-dealer-lookups added').waitFor();
    const rule = (await api('GET', '/limits')).json.rules.find((r) => r.id === 'e2e-dealer-lookups');
    assert.deepEqual({ limit: rule.limit, period: rule.period, per: rule.per, match: rule.match, source: rule.source },
      { limit: 1, period: 60, per: ['user'], match: { tools: ['get_dealer'] }, source: 'db' });
    const first = await mcpCall(k.json.key, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' });
    assert.ok(first.result, JSON.stringify(first));
    const second = await mcpCall(k.json.key, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' });
    assert.equal(second.error?.code, -32008, JSON.stringify(second));
    await page.reload();
    const row = page.getByTestId('refusals').getByRole('row').filter({ hasText: 'analyst-3' });
    await row.waitFor();
    assert.match(await row.innerText(), /get_dealer\s+e2e-dealer-lookups\s+1/);
    await page.getByRole('button', { name: 'Remove limit e2e-dealer-lookups' }).click();
    await page.getByText('Limit e2e-dealer-lookups removed').waitFor();
    assert.equal((await api('GET', '/limits')).json.rules.find((r) => r.id === 'e2e-dealer-lookups'), undefined);
    assert.deepEqual(page.problems(), []);
  });
});

/** The hidden data table of a chart: one row per interval, its numbers per series. */
async function chartTable(chart) {
  return chart.locator('table tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
}

describe('dashboard', () => {
  test('shows exactly the calls, errors and denials made, with charts, top tools, upstreams and audit lag', async () => {
    page.clearProblems();
    const k = await createKey(api, stack.gw.url, { name: 'e2e-dash', subject: 'dash-user', roles: ['analyst'] });
    assert.equal(k.status, 201);
    for (let i = 0; i < 3; i++) assert.ok((await mcpCall(k.json.key, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' })).result);
    const miss = await mcpCall(k.json.key, 'get_booking', { booking_id: 'BK-2026-999999' }); // the upstream's 404
    assert.equal(miss.result?.isError, true, JSON.stringify(miss));
    assert.ok((await mcpCall(k.json.key, 'resolve_customer', { mobile: '+91 98765 43210' })).result);
    assert.ok(made.denials >= 1 && made.errors >= 1, JSON.stringify(made));
    const stat = (label) => page.getByTestId('traffic').locator('.stat').filter({ has: page.locator('.stat-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.stat-value');
    for (const w of ['1 hour', '15 min']) {
      await open(page, stack.admin, PAGES[0]);
      if (w !== '1 hour') {
        await Promise.all([page.waitForResponse((r) => r.url().includes('/metrics/summary') && r.url().includes('window=900')),
          page.getByRole('button', { name: w }).click()]);
        await page.getByRole('button', { name: w, pressed: true }).waitFor();
      }
      await stat('Calls').waitFor();
      assert.equal(await stat('Calls').innerText(), String(made.calls), `calls (${w})`);
      assert.equal(await stat('Errors').innerText(), String(made.errors), `errors (${w})`);
      assert.equal(await stat('Denials').innerText(), String(made.denials), `denials (${w})`);
      assert.match(await stat('Latency p95').innerText(), /^\d+(\.\d)? ms$/);
    }
    // the charts: lines drawn, and their data tables add up to the same numbers
    const charts = page.locator('figure.chart');
    assert.equal(await charts.count(), 2);
    assert.ok(await charts.nth(0).locator('svg polyline').count() >= 3, 'calls, errors and denials lines');
    const rows = await chartTable(charts.nth(0));
    assert.equal(rows.length, 60);
    const col = (i) => rows.reduce((a, r) => a + Number(r[i]), 0);
    assert.deepEqual([col(1), col(2), col(3)], [made.calls, made.errors, made.denials]);
    assert.ok((await chartTable(charts.nth(1))).some((r) => /^\d/.test(r[2])), 'a p95 value in some interval');
    // top tools (by calls) and the upstream with its breaker
    const top = Object.entries(made.byTool).sort((a, b) => b[1] - a[1])[0];
    const first = page.getByRole('region', { name: 'Top tools' }).locator('.barlist-row').first();
    assert.match(await first.innerText(), new RegExp(`^${top[0]}\\s+${top[1]}\\b`));
    const up = page.getByTestId('upstreams').locator('li').filter({ hasText: 'service-booking' });
    assert.match(await up.innerText(), /breaker closed/);
    // the audit trail keeps up
    const audit = page.getByTestId('audit-lag');
    assert.match(await audit.innerText(), /writing/);
    assert.match(await audit.innerText(), /\d+(\.\d)? ms mean/);
    const v = await axe(page);
    assert.equal(v.length, 0, `axe violations on the dashboard with traffic:\n${fmtViolations(v)}`);
    assert.deepEqual(page.problems(), []);
  });
});

/** RFC 6962/9162: recomputes the root from a leaf hash and its audit path (base64 hashes). */
function rootFromPath(leafB64, path) {
  const h = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
  let r = Buffer.from(leafB64, 'base64');
  for (const p of path) {
    const s = Buffer.from(p.hash, 'base64');
    r = p.side === 'left' ? h(Buffer.from([1]), s, r) : h(Buffer.from([1]), r, s);
  }
  return r.toString('base64');
}

describe('audit', () => {
  test('find a record by user, tool and decision; masked arguments; verify the chain; inclusion proof; export', async () => {
    page.clearProblems();
    await open(page, stack.admin, PAGES.find((p) => p.name === 'audit'));
    // the refused call of the rate-limit test: by user and decision
    await page.getByLabel('User').fill('analyst-3');
    await page.getByLabel('Decision').selectOption('deny');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByTestId('audit-records').locator('tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-records"] tbody tr').length === 1);
    assert.match(await rows.first().innerText(), /analyst-3\s+get_dealer\s+deny/);
    // the customer lookup of the dashboard test: by user, tool and decision
    await page.getByLabel('Decision').selectOption('allow');
    await page.getByLabel('User').fill('dash-user');
    await page.getByLabel('Tool').fill('resolve_customer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => {
      const r = document.querySelectorAll('[data-testid="audit-records"] tbody tr');
      return r.length === 1 && r[0].textContent.includes('resolve_customer');
    });
    const seq = Number((await rows.first().getByRole('button').innerText()).slice(1));
    // the record: who, what, and the arguments with the phone number masked
    await rows.first().getByRole('button', { name: `Open record ${seq}` }).click();
    const dialog = page.getByRole('dialog', { name: `Audit record #${seq}` });
    await dialog.getByTestId('record').waitFor();
    const rec = await dialog.getByTestId('record').innerText();
    assert.match(rec, /dash-user/);
    assert.match(rec, /resolve_customer/);
    assert.match(rec, /allow/);
    const args = await dialog.getByLabel('Masked arguments').innerText();
    assert.match(args, /\[(phone|mobile):[a-z]{16}\]/);
    assert.doesNotMatch(args, /98765|43210/);
    const v = await axe(page);
    assert.equal(v.length, 0, `axe violations in the record dialog:\n${fmtViolations(v)}`);
    // the proof: once a checkpoint covers the record (signed every second here)
    const chainNow = async () => (await api('GET', '/audit/chain')).json;
    for (let i = 0; i < 100 && !((await chainNow()).checkpoint?.seq > seq); i++) await new Promise((r) => setTimeout(r, 100));
    await dialog.getByRole('button', { name: 'Inclusion proof' }).click();
    const proofNote = dialog.getByTestId('proof');
    await proofNote.waitFor();
    assert.match(await proofNote.innerText(), /^Included in the signed checkpoint of \d+ records: \d+ hashes lead/);
    const proof = (await api('GET', `/audit/${seq}/proof`)).json;
    assert.equal(proof.valid, true);
    assert.equal(rootFromPath(proof.leafHash, proof.path), proof.checkpoint.hash, 'the path recomputes the signed root');
    assert.equal(proof.leafHash, (await dialog.getByTestId('record').locator('dd').last().innerText()).trim());
    await dialog.getByRole('button', { name: 'Close' }).first().click();
    // verify the whole chain now
    await page.getByRole('button', { name: 'Verify now' }).click();
    await page.getByText(/^Chain verified: \d+ records$/).waitFor();
    const chain = page.getByTestId('chain');
    await chain.getByText('ok', { exact: true }).waitFor();
    assert.match(await chain.innerText(), /Checkpoint\s+\d+ records/);
    // a verification that outlasts the request (a long log): the request is sent with wait=0,
    // so the gateway answers 202 with its progress and the console follows /audit/chain to the end
    const verified = page.getByText(/^Chain verified: \d+ records$/);
    await verified.waitFor({ state: 'detached' }); // the first toast has gone
    const pattern = '**/admin/api/audit/verify?*';
    await page.route(pattern, (route) => route.continue({ url: route.request().url().replace(/wait=\d+/, 'wait=0') }));
    const answered = page.waitForResponse((res) => res.url().includes('/admin/api/audit/verify'));
    await page.getByRole('button', { name: 'Verify now' }).click();
    assert.equal((await answered).status(), 202);
    await verified.waitFor();
    await page.unroute(pattern);
    await chain.getByText('ok', { exact: true }).waitFor();
    // export the search: the record is in it, nothing else
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'seq,time,subject,client_id,tool,method,decision,outcome,request_id,hash');
    assert.equal(csv.length, 2, csv.join('\n'));
    assert.match(csv[1], new RegExp(`^"${seq}",.*"dash-user",.*"resolve_customer","tools/call","allow"`));
    assert.deepEqual(page.problems(), []);
  });

  // With the audit database copy the list is every replica's log (tests/integration/
  // 74-audit-pg.test.mjs checks the API against PostgreSQL); this stack has one replica and no
  // copy, so the API's answers of such a deployment are replayed to the console here.
  test("every replica's log: which replica wrote each record; another replica's record and proof open by its log", async () => {
    page.clearProblems();
    const rec = (log, seq, tool) => ({ id: `${log}:${seq}`, seq, log, time: '2026-12-07T10:00:00.000Z', subject: 'dash-user', tool,
      method: 'tools/call', decision: 'allow', outcome: 'ok', hash: 'bGVhZg==', reasons: [], arguments: {} });
    const list = { items: [rec('mcp-server-b', 7, 'resolve_customer'), rec('mcp-server-a', 3, 'find_nearby_dealers')], next: null,
      scope: 'all', log: 'mcp-server-a' };
    const asked = [];
    let verifiedB = false;
    const routes = [
      ['**/admin/api/audit?*', (route) => route.fulfill({ json: list })],
      ['**/admin/api/audit/logs?*', (route) => route.fulfill({ json: { log: 'mcp-server-a', logs: [
        { log: 'mcp-server-b', origin: 'o/mcp-server-b', records: 8, checkpoint: { size: 8, time: '2026-12-07T10:00:01Z' }, createdAt: '2026-12-07T09:00:00Z', lastRecordAt: '2026-12-07T10:00:00.000Z', archivedRecords: 5, prunedBelow: 2, this: false,
          verification: verifiedB ? { status: 'ok', verifiedThrough: 8, checkedAt: '2026-12-07T10:01:00Z', run: 1 } : { status: 'unknown' } },
        { log: 'mcp-server-a', origin: 'o/mcp-server-a', records: 4, checkpoint: null, createdAt: '2026-12-07T09:00:00Z', lastRecordAt: null, this: true, verification: { status: 'unknown' } }] } })],
      ['**/admin/api/audit/verify?*', (route) => { asked.push(route.request().url()); verifiedB = true; route.fulfill({ json: {
        ok: true, log: 'mcp-server-b', records: 8, problems: [], notes: [] } }); }],
      ['**/admin/api/audit/7?*', (route) => { asked.push(route.request().url()); route.fulfill({ json: list.items[0] }); }],
      ['**/admin/api/audit/7/proof?*', (route) => { asked.push(route.request().url()); route.fulfill({ json: {
        id: '7', seq: 7, log: 'mcp-server-b', leafHash: 'bGVhZg==', path: [], checkpoint: { seq: 8, hash: 'cm9vdA==' }, valid: true } }); }],
    ];
    for (const [pattern, fn] of routes) await page.route(pattern, fn);
    try {
      await open(page, stack.admin, PAGES.find((p) => p.name === 'audit'));
      await page.getByText("every replica's log, merged by time", { exact: false }).waitFor();
      const table = page.getByTestId('audit-records');
      await table.getByRole('columnheader', { name: 'Replica' }).waitFor();
      assert.match(await table.locator('tbody tr').first().innerText(), /^mcp-server-b\s+#7/);
      const logRows = page.getByTestId('audit-logs').locator('tbody tr');
      await logRows.nth(1).waitFor();
      assert.match(await logRows.nth(0).innerText(), /^mcp-server-b\s+8\s+\S.*\s+8 .*\s+5 · database from #2\s+—\s+Verify$/);
      assert.match(await logRows.nth(1).innerText(), /^mcp-server-a \(this one\)\s+4\s+—\s+—\s+—\s+—$/);
      // another replica's log verified from the console: the gateway reads it from its
      // database copy; the row then shows the outcome
      await page.getByRole('button', { name: 'Verify log mcp-server-b' }).click();
      await page.getByText('mcp-server-b verified: 8 records').waitFor();
      await logRows.nth(0).getByText('ok').waitFor();
      assert.match(await logRows.nth(0).innerText(), /\sok\s+8\s+Verify$/);
      const v = new URL(asked.shift());
      assert.equal(v.pathname, '/admin/api/audit/verify');
      assert.equal(v.searchParams.get('log'), 'mcp-server-b');
      await page.getByRole('button', { name: 'Open record mcp-server-b 7' }).click();
      const dialog = page.getByRole('dialog', { name: 'Audit record mcp-server-b #7' });
      await dialog.waitFor();
      assert.match(await dialog.getByTestId('record').innerText(), /Replica\s+mcp-server-b/);
      await dialog.getByRole('button', { name: 'Inclusion proof' }).click();
      await dialog.getByTestId('proof').waitFor();
      assert.deepEqual(asked.map((u) => new URL(u).searchParams.get('log')), ['mcp-server-b', 'mcp-server-b']);
      await dialog.getByRole('button', { name: 'Close' }).first().click();
    } finally {
      for (const [pattern] of routes) await page.unroute(pattern);
    }
    assert.deepEqual(page.problems(), []);
  });
});

describe('identities and sign-in', () => {
  test('sign in with an API key, create and revoke a key; a non-admin is refused', async () => {
    assert.equal(authConfig?.mode, 'required', 'the admin API requires a credential');
    const adminKey = stack.adminKey;
    assert.ok(adminKey, 'the admin key made with mcpgw keys create');
    const p = await newPage(browser);
    await p.goto(`${stack.admin}/admin/`);
    await p.getByLabel('API key').fill(adminKey);
    await p.getByRole('button', { name: 'Sign in with API key' }).click();
    await p.getByTestId('whoami').waitFor();
    await open(p, stack.admin, PAGES.find((x) => x.name === 'identities'));
    await p.getByRole('button', { name: 'New API key' }).click();
    await p.getByLabel('Name').fill('viewer-e2e');
    await p.getByLabel('Roles (comma separated)').fill('viewer');
    await p.getByRole('button', { name: 'Create key' }).click();
    const key = await p.getByTestId('new-key').innerText();
    assert.match(key, /^mcpgw_/);
    await p.getByRole('button', { name: 'I have stored it' }).click();
    // a non-admin: signs in, tries to change a tool's risk, gets the API's refusal
    const q = await newPage(browser);
    await q.goto(`${stack.admin}/admin/`);
    await q.getByLabel('API key').fill(key);
    await q.getByRole('button', { name: 'Sign in with API key' }).click();
    await q.getByTestId('whoami').waitFor(); // signed in (the credential is stored) before navigating
    await q.goto(`${stack.admin}/admin/tools/get_dealer`);
    await q.getByText('You do not have permission to see this').waitFor();
    assert.match(await q.locator('main').innerText(), /requires the role 'admin'; api_key 'viewer-e2e' does not have it/);
    // revoke it
    await p.getByRole('button', { name: 'Revoke viewer-e2e' }).click();
    await p.getByText('Revoked viewer-e2e').waitFor();
    const keys = await adminApi(stack.admin, adminKey)('GET', '/keys');
    assert.ok(keys.json.keys.find((k) => k.name === 'viewer-e2e').revoked_at);
  });
});
