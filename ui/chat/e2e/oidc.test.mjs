// ui/chat/e2e/oidc.test.mjs
// The chat page's OIDC sign-in in Debian's Chromium: a real OpenID provider (oidc-provider,
// tests/support/idp.mjs) and the gateway with GW_OIDC_ISSUER, GW_PUBLIC_URL and the chat's own
// public client (GW_CHAT_OIDC_CLIENT_ID, redirect URI <gateway>/chat/). The page runs
// authorization code + PKCE with the gateway's resource as audience, the code never stays in the
// URL, and the customer-care person (roles from the token's claims) books through the agent;
// the access token is not kept in localStorage. The provider's origin is allowed by the page's
// CSP only through GW_CHAT_UI_CONNECT_SRC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { launchBrowser, newPage, say, SENTENCE, UI_DIST, REPO } from './lib.mjs';
import * as h from '../../../tests/integration/lib/e2e-harness.mjs';
import { freePort } from '../../../tests/integration/lib/auth-harness.mjs';
import { startIdp, defaultClients } from '../../../tests/support/idp.mjs';
import { startStandin } from '../../../tests/support/llm-standin.mjs';

let dir, mock, llm, idp, gw, browser, base;

before(async () => {
  dir = h.tempDir('chatoidc');
  const secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  llm = await startStandin({ key: 'sk-oidc-test' });
  writeFileSync(join(dir, 'llm-key'), 'sk-oidc-test');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startIdp({
    clients: [...defaultClients(), { client_id: 'chat-page', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [`${base}/chat/`] }],
  });
  const upstreamsFile = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  const env = h.gatewayEnv({ dir, upstreamsFile, secrets, settings: {
    GW_AUTH_MODE: 'required', GW_OIDC_ISSUER: idp.issuer, GW_PUBLIC_URL: base,
    GW_GOVERNANCE_FILE: join(REPO, 'deploy', 'embedded', 'governance.yaml'), GW_LOG_LEVEL: 'info',
    GW_CHAT_UI_DIR: UI_DIST, GW_CHAT_OIDC_CLIENT_ID: 'chat-page', GW_CHAT_UI_CONNECT_SRC: idp.issuer,
    GW_CHAT_PROVIDER: 'anthropic', GW_CHAT_MODEL: 'standin', GW_CHAT_BASE_URL: llm.url,
    GW_CHAT_API_KEY_FILE: join(dir, 'llm-key') } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  gw = await h.startGateway(env, dir, [], { listen: `127.0.0.1:${port}` });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await h.stopAll();
  await llm?.close();
  await idp?.stop();
  h.cleanupDir(dir);
});

test('OIDC code + PKCE sign-in, then the booking journey under the token\'s identity', async () => {
  const before = mock.bookings().bookings.length;
  const page = await newPage(browser);
  await page.goto(`${base}/chat/`);
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.getByText('Signed in as').waitFor();
  assert.equal(new URL(page.url()).search, '', 'the code is not left in the URL');
  assert.match(await page.locator('.who').innerText(), /customer-care/);
  const stored = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: sessionStorage.getItem('mcpgw.chat.session') }));
  assert.ok(!/eyJ/.test(stored.local), 'no token in localStorage');
  assert.match(stored.session, /"method":"oidc"/);
  await say(page, SENTENCE);
  const dialog = page.getByRole('dialog', { name: /Confirm: create booking/i });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Accept' }).click();
  const summary = page.locator('.msg.assistant .bubble', { hasText: /Done: your service is booked\. Booking BK-\d{4}-\d{6} .*\(status CONFIRMED\)/ });
  await summary.waitFor();
  const id = /BK-\d{4}-\d{6}/.exec(await summary.innerText())[0];
  assert.ok(mock.bookings().bookings.some((b) => b.booking_id === id));
  assert.equal(mock.bookings().bookings.length, before + 1);
  assert.deepEqual(page.problems(), []);
  assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
  await page.context().close();
});
