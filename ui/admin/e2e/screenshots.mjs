// ui/admin/e2e/screenshots.mjs — screenshots of every page of the console into docs/admin-ui/
// (run by scripts/ui-screenshots.sh): the real gateway with the service-booking and DMS specs
// imported and realistic state made through the real APIs first: API keys of a customer-care
// agent, a dealer's agent and an analyst; an exposure rule and a rate limit added from the
// console's API; about 90 s of MCP traffic from those agents (lookups, slots, bookings, an
// unknown booking -> upstream 404, a dealer asking for another dealer -> policy denial, the
// analyst over the rate limit -> refusals); a booking waiting for a person's approval; a tool
// disabled; a draft import preview. Then each page at a laptop size (1366x768 viewport).
// Usage: node screenshots.mjs [outdir]   (SHOTS_TRAFFIC_SECONDS: traffic duration, default 90)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startStack, launchBrowser, newPage, open, PAGES, REPO, DMS_SPEC, adminApi, createKey, mcpToolCall, sleep } from './lib.mjs';

const out = process.argv[2] || join(REPO, 'docs', 'admin-ui');
const TRAFFIC_S = Number(process.env.SHOTS_TRAFFIC_SECONDS || 90);
mkdirSync(out, { recursive: true });
const stack = await startStack({ withDms: true });
const browser = await launchBrowser();
const must = (r, what) => { if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`); return r.json; };

try {
  const api = adminApi(stack.admin, stack.adminKey);
  must(await api('POST', '/tools/get_booking/disable'), 'disable');
  must(await api('POST', '/tools/get_booking/activate'), 'activate'); // history: two changes
  must(await api('POST', '/tools/cancel_booking/disable'), 'disable cancel_booking');
  const key = async (name, subject, roles, claims) => must(await createKey(api, stack.gw.url, { name, subject, roles, ...(claims ? { claims } : {}) }), `key ${name}`).key;
  const agent = await key('care-desk-pune', 'agent7', ['customer-care']);
  const dealer = await key('dealer-pune-001', 'dealer-pune-001', ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] });
  const analyst = await key('reporting', 'analyst-3', ['analyst']);
  // governance made in the console: a stored exposure rule and a rate limit
  must(await api('POST', '/exposure/rules', { id: 'analysts-see-bookings', description: 'Analysts may look bookings up', effect: 'allow', roles: ['analyst'], tools: ['get_booking', 'list_bookings'] }), 'exposure rule');
  must(await api('POST', '/limits', { id: 'dealer-lookups-per-user', description: 'Dealer look-ups per person', rate: '6/min', per: ['user'], match: { tools: ['get_dealer'] } }), 'limit');

  // traffic: the agents at work for TRAFFIC_S seconds, a few calls every second or two
  const today = (await stack.mock.health()).today;
  const day = (n) => new Date(Date.parse(`${today}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
  const call = (k, name, args) => mcpToolCall(stack.gw.url, k, name, args);
  const stats = { ok: 0, error: 0, denied: 0 };
  const count = (r) => { if (r.error) stats[[-32003, -32004, -32005, -32006, -32008].includes(r.error.code) ? 'denied' : 'error']++; else if (r.result?.isError) stats.error++; else stats.ok++; };
  const end = Date.now() + TRAFFIC_S * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const burst = [
      call(agent, 'resolve_customer', { mobile: '+91 98765 43210' }),
      call(agent, 'find_nearby_dealers', { location: i % 2 ? 'Hinjewadi, Pune' : 'Baner, Pune' }),
      call(dealer, 'get_available_slots', { dealer_id: 'MSIL-PUNE-001', date: day(2 + (i % 5)) }),
      call(analyst, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' }),
    ];
    if (i % 3 === 0) burst.push(call(agent, 'resolve_vehicle', { registration_number: 'MH12AB1234' }));
    if (i % 4 === 1) burst.push(call(dealer, 'get_dealer', { dealer_id: 'MSIL-PUNE-002' })); // not theirs: denied
    if (i % 5 === 2) burst.push(call(analyst, 'get_booking', { booking_id: `BK-2026-9${String(i).padStart(5, '0')}` })); // 404
    if (i % 7 === 3) burst.push(call(dealer, 'get_dealer', { dealer_id: 'MSIL-PUNE-001' }));
    for (const r of await Promise.all(burst)) count(r);
    await sleep(600 + (i % 4) * 500);
  }
  // a booking waiting for a person (the agent's client cannot ask its user)
  const wait = await call(agent, 'create_booking', { customer_id: 'CUST001234', registration_number: 'MH12AB1234', dealer_id: 'MSIL-PUNE-001', date: day(3), time: '10:00', service_type: 'periodic' });
  if (wait.error?.code !== -32006) throw new Error(`expected an approval: ${JSON.stringify(wait)}`);
  console.log(`[screenshots] traffic: ${stats.ok} ok, ${stats.error} errors, ${stats.denied} denied; approval ${wait.error.data.approval.id} waiting`);
  await sleep(1500); // a checkpoint covers the last records (every second here)

  const page = await newPage(browser, { credential: stack.adminKey });
  for (const p of PAGES) {
    await open(page, stack.admin, p);
    if (p.name === 'dashboard') {
      await page.getByRole('button', { name: '15 min' }).click();
      await page.getByRole('button', { name: '15 min', pressed: true }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('figure.chart polyline').length >= 5);
    }
    if (p.name === 'import') {
      await page.setInputFiles('#specfile', join(dirname(DMS_SPEC), 'customer-service-api.yaml'));
      await page.fill('#imp-bundle', 'customer-service');
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByText(/Tools \(\d+ of \d+ selected\)/).waitFor({ timeout: 20000 });
    }
    if (p.name === 'exposure') {
      await page.getByLabel('Principal type').selectOption('role');
      await page.getByLabel('Principal', { exact: true }).fill('analyst');
      await page.getByRole('button', { name: 'View as' }).click();
      await page.getByTestId('view-as').getByText(/visible to role analyst/).waitFor();
    }
    if (p.name === 'policies') {
      await page.getByLabel('Roles (comma separated)').fill('dealer');
      await page.getByLabel('Tool').fill('get_dealer');
      await page.getByLabel('Claims (JSON)').fill('{"dealer_ids":["MSIL-PUNE-001"]}');
      await page.getByLabel('Arguments (JSON)').fill('{"dealer_id":"MSIL-PUNE-002"}');
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await page.getByTestId('decision').getByText(/Decision: deny/).waitFor();
    }
    if (p.name === 'approvals') await page.locator('.card').filter({ hasText: 'agent7' }).first().waitFor();
    if (p.name === 'rate-limits') await page.getByTestId('refusals').getByRole('row').filter({ hasText: 'analyst-3' }).first().waitFor();
    if (p.name === 'audit') {
      await page.getByRole('button', { name: 'Verify now' }).click();
      await page.getByText(/^Chain verified: \d+ records$/).waitFor();
      await page.locator('.toast').first().waitFor({ state: 'detached', timeout: 10000 }); // the toast would cover the table
    }
    if (p.name === 'tools') await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0)); // a form's focus may have scrolled: the sticky bars would land mid-picture
    await page.screenshot({ path: join(out, `${p.name}.png`), fullPage: !['settings', 'tools', 'audit'].includes(p.name) });
    console.log(`[screenshots] ${p.name}.png`);
    if (p.name === 'audit') {
      // a record: the customer lookup, its masked arguments and its inclusion proof
      await page.getByLabel('User').fill('agent7');
      await page.getByLabel('Tool').fill('resolve_customer');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-records"] tbody tr')].every((r) => r.textContent.includes('resolve_customer')));
      await page.getByTestId('audit-records').locator('tbody tr').last().getByRole('button').click();
      await page.getByRole('dialog').getByRole('button', { name: 'Inclusion proof' }).click();
      await page.getByRole('dialog').getByTestId('proof').waitFor();
      await page.screenshot({ path: join(out, 'audit-record.png') });
      console.log('[screenshots] audit-record.png');
    }
  }
  // sign-in page (how it looks when the gateway requires authentication)
  const anon = await newPage(browser);
  await anon.goto(`${stack.admin}/admin/`);
  await anon.getByRole('heading', { name: 'Sign in' }).waitFor();
  await anon.screenshot({ path: join(out, 'sign-in.png') });
  console.log('[screenshots] sign-in.png');
  const problems = [...page.problems(), ...anon.problems()];
  if (problems.length) console.error(`[screenshots] page problems:\n${problems.join('\n')}`);
  writeFileSync(join(out, 'README.txt'), 'Generated by scripts/ui-screenshots.sh; do not edit.\n');
  if (problems.length) process.exitCode = 1;
} finally {
  await browser.close();
  await stack.stop();
}
