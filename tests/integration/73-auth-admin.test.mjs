// tests/integration/73-auth-admin.test.mjs
// Who may use the admin API, and the other authentication modes, with the real OpenID provider:
//   - GW_ADMIN_DEV_MODE=false: no credential -> 401 with a challenge; /admin/api/auth/config is
//     public (what a sign-in page needs);
//   - a principal without the admin role (OIDC user, service client, API key) -> 403 whose
//     message names the role; GET /admin/api/whoami answers for anyone authenticated;
//   - with the role (OIDC user with roles:["admin"], a client-credentials service client with it,
//     an API key created with --role admin) -> allowed, and writes are attributed to them;
//   - bad tokens at the admin API -> 401;
//   - a second gateway: GW_AUTH_MODE=optional (anonymous allowed, a bad token still refused),
//     GW_OIDC_ALGORITHMS=RS256 (an ES256 token refused) and GW_ADMIN_DEV_MODE=true on loopback
//     (no credential = the development administrator);
//   - a third gateway with GW_OIDC_REQUIRED_SCOPES: 403 insufficient_scope naming the scope; the
//     401 challenge asks for it too, so the official SDK client's token carries it at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import * as h from './lib/e2e-harness.mjs';
import * as a from './lib/auth-harness.mjs';
import { jwtPayload } from '../support/idp.mjs';

let ctx, idp, gw, adminKey, plainKey;
const gws = [];

before(async () => {
  ctx = await a.setup({ tag: 'admin', mock: false });
  idp = ctx.idp;
  adminKey = a.createKey(ctx.env, { name: 'ops-automation', subject: 'ops-bot', roles: ['admin'] });
  plainKey = a.createKey(ctx.env, { name: 'reporting', subject: 'report-bot', roles: ['reporting'] });
  gw = await a.startAuthGateway(ctx, a.authSettings(idp));
  gws.push(gw);
});

after(async () => {
  await h.stopAll();
  await idp?.stop();
  await ctx?.echo.stop();
  if (ctx) h.cleanupDir(ctx.dir);
});

const user = async (account, g = gw) => (await idp.userToken(account, { resource: g.resource })).access_token;
const service = async (clientId, g = gw) => (await idp.clientCredentials(clientId, { resource: g.resource })).access_token;

test('no credential: 401 with a challenge (dev mode off); auth/config and health are public', async () => {
  const health = await a.admin(gw, 'GET', '/health'); // load balancers and probes carry no credential
  assert.equal(health.status, 200, health.text);
  assert.equal(health.json.status, 'ok');
  for (const path of ['/tools', '/keys', '/whoami']) {
    const r = await a.admin(gw, 'GET', path);
    assert.equal(r.status, 401, `${path}: ${r.text}`);
    assert.equal(r.json.error.code, 'unauthenticated', path);
    const c = a.challenge(r.headers);
    assert.equal(c.scheme, 'Bearer', path);
    assert.equal(c.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`);
  }
  const w = await a.admin(gw, 'POST', '/keys', { body: { name: 'x', subject: 'y' } });
  assert.equal(w.status, 401);
  const cfg = await a.admin(gw, 'GET', '/auth/config');
  assert.equal(cfg.status, 200, cfg.text);
  assert.equal(cfg.json.mode, 'required', 'the admin API requires a credential');
  assert.equal(cfg.json.mcp_mode, 'required', 'and so does the data plane');
  assert.equal(cfg.json.resource, gw.resource);
  assert.equal(cfg.json.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`);
  assert.equal(cfg.json.oidc.issuer, idp.issuer);
  assert.equal(cfg.json.oidc.resource, gw.resource);
  assert.ok(cfg.json.oidc.scopes.includes('mcp:tools'));
  assert.equal(cfg.json.api_keys, true);
  assert.equal(cfg.json.dev_mode, false);
});

test('403 without the admin role (OIDC user, service client, API key): the message names the role', async () => {
  const agent = await user('agent-priya');
  const cases = [
    ['OIDC user', agent, 'agent-priya', 'oidc'],
    ['service client', await service('svc-booking'), 'svc-booking', 'oidc'],
    ['API key', plainKey.key, 'report-bot', 'api_key'],
  ];
  for (const [what, cred, subject, method] of cases) {
    for (const [m, path, body] of [['GET', '/tools'], ['GET', '/keys'], ['POST', '/keys', { name: 'x', subject: 'y' }]]) {
      const r = await a.admin(gw, m, path, { auth: cred, body });
      assert.equal(r.status, 403, `${what} ${m} ${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'forbidden');
      assert.match(r.json.error.message, /requires the role 'admin'/, what);
      assert.ok(r.json.error.message.includes(subject), `${what}: the message names the caller`);
    }
    const me = await a.admin(gw, 'GET', '/whoami', { auth: cred });
    assert.equal(me.status, 200, `${what} whoami: ${me.text}`);
    assert.equal(me.json.subject, subject);
    assert.equal(me.json.method, method);
    assert.equal(me.json.admin, false);
    assert.equal(me.headers.get('cache-control'), 'no-store');
  }
  const me = await a.admin(gw, 'GET', '/whoami', { auth: agent });
  assert.deepEqual(me.json.roles, ['customer-care'], 'roles from the token\'s roles claim');
  assert.equal(me.json.issuer, idp.issuer);
  assert.equal(me.json.tenant, 'msil');
  assert.ok(me.json.scopes.includes('mcp:tools'));
});

test('allowed with the admin role: OIDC user, service client and API key; writes are attributed', async () => {
  const opsToken = await user('ops-admin');
  assert.deepEqual(jwtPayload(opsToken).roles, ['admin', 'operator']);
  const creds = [
    ['OIDC user', opsToken, 'ops-admin', 'oidc'],
    ['service client', await service('svc-admin'), 'svc-admin', 'oidc'],
    ['API key', adminKey.key, 'ops-bot', 'api_key'],
  ];
  for (const [what, cred, subject, method] of creds) {
    const tools = await a.admin(gw, 'GET', '/tools', { auth: cred });
    assert.equal(tools.status, 200, `${what}: ${tools.text}`);
    assert.ok(tools.json.items.some((t) => t.name === ctx.tools.whoami), `${what}: tool list`);
    const me = await a.admin(gw, 'GET', '/whoami', { auth: cred });
    assert.equal(me.status, 200);
    assert.equal(me.json.subject, subject);
    assert.equal(me.json.method, method);
    assert.equal(me.json.admin, true, what);
    const health = await a.admin(gw, 'GET', '/health', { auth: cred });
    assert.equal(health.status, 200, `${what} health: ${health.text}`);
    const cr = await a.admin(gw, 'POST', '/keys', { auth: cred, body: { name: `made-by-${subject}`, subject: 'svc-x' } });
    assert.equal(cr.status, 201, `${what} POST /keys: ${cr.text}`);
    assert.equal(cr.json.created_by, `${method}:${subject}`, `${what}: the write is attributed`);
    const del = await a.admin(gw, 'DELETE', `/keys/${cr.json.id}`, { auth: cred });
    assert.equal(del.status, 200, del.text);
  }
});

test('bad tokens at the admin API: 401 (another audience, tampered payload, another scheme)', async () => {
  const other = (await idp.clientCredentials('svc-admin', { resource: 'http://127.0.0.1:9/admin' })).access_token;
  const r1 = await a.admin(gw, 'GET', '/tools', { auth: other });
  assert.equal(r1.status, 401, r1.text);
  assert.match(r1.json.error.message, /audience/);
  assert.equal(a.challenge(r1.headers).error, 'invalid_token');
  const good = await user('ops-admin');
  const [hb, , sig] = good.split('.');
  const forged = `${hb}.${Buffer.from(JSON.stringify({ ...jwtPayload(good), sub: 'someone-else' })).toString('base64url')}.${sig}`;
  const r2 = await a.admin(gw, 'GET', '/tools', { auth: forged });
  assert.equal(r2.status, 401, r2.text);
  assert.match(r2.json.error.message, /signature/);
  const r3 = await a.admin(gw, 'GET', '/tools', { auth: `Basic ${Buffer.from('admin:admin').toString('base64')}` });
  assert.equal(r3.status, 401);
});

test('optional mode + admin dev mode: anonymous MCP allowed, bad tokens and disallowed algorithms refused; no credential is the dev admin', async () => {
  const g = await a.startAuthGateway(ctx, a.authSettings(idp, { GW_AUTH_MODE: 'optional', GW_ADMIN_DEV_MODE: 'true',
    GW_OIDC_ALGORITHMS: 'RS256' }));
  gws.push(g);
  const anon = await a.mcpPost(g.mcpUrl, a.initialize());
  assert.equal(anon.status, 200, `anonymous in optional mode: ${anon.text}`);
  const bad = await a.mcpPost(g.mcpUrl, a.initialize(), { auth: 'not.a.token' });
  assert.equal(bad.status, 401, 'a bad credential is refused even when optional');
  const wrongAud = await a.mcpPost(g.mcpUrl, a.initialize(), { auth: await service('svc-booking') }); // gw's audience
  assert.equal(wrongAud.status, 401);
  const ok = await a.mcpPost(g.mcpUrl, a.initialize(), { auth: await service('svc-booking', g) });
  assert.equal(ok.status, 200, ok.text);
  // GW_OIDC_ALGORITHMS=RS256: a validly signed ES256 token is refused
  idp.signWith('ES256');
  let es;
  try {
    es = await service('svc-booking', g);
  } finally {
    idp.signWith('RS256');
  }
  const esr = await a.mcpPost(g.mcpUrl, a.initialize(), { auth: es });
  assert.equal(esr.status, 401, esr.text);
  assert.match(a.challenge(esr.headers).error_description, /ES256 is not accepted/);

  const me = await a.admin(g, 'GET', '/whoami');
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.method, 'dev');
  assert.equal(me.json.subject, 'dev-admin');
  assert.equal(me.json.admin, true);
  assert.equal((await a.admin(g, 'GET', '/tools')).status, 200, 'dev mode: admin API without credentials');
  const cfg = await a.admin(g, 'GET', '/auth/config');
  assert.equal(cfg.json.mode, 'optional', 'admin API in dev mode: a credential is optional');
  assert.equal(cfg.json.mcp_mode, 'optional');
  assert.equal(cfg.json.dev_mode, true);
  // a credential that is presented is still checked (and its roles apply)
  const withPlain = await a.admin(g, 'GET', '/tools', { auth: plainKey.key });
  assert.equal(withPlain.status, 403, withPlain.text);
  const withBad = await a.admin(g, 'GET', '/tools', { auth: 'mcpgw_bad' });
  assert.equal(withBad.status, 401);
  await a.stopChecked(g, assert);
});

test('required scopes: 403 insufficient_scope names the scope; the 401 challenge asks for it, so the SDK client gets it', async () => {
  const g = await a.startAuthGateway(ctx, a.authSettings(idp, { GW_OIDC_REQUIRED_SCOPES: 'mcp:admin' }));
  gws.push(g);
  const narrow = (await idp.clientCredentials('svc-booking', { resource: g.resource, scope: 'mcp:tools' })).access_token;
  const r = await a.mcpPost(g.mcpUrl, a.initialize(), { auth: narrow });
  assert.equal(r.status, 403, r.text);
  const c = a.challenge(r.headers);
  assert.equal(c.error, 'insufficient_scope');
  assert.equal(c.scope, 'mcp:admin');
  assert.equal(c.resource_metadata, `${g.url}/.well-known/oauth-protected-resource/mcp`);
  const wide = (await idp.clientCredentials('svc-booking', { resource: g.resource, scope: 'mcp:tools mcp:admin' })).access_token;
  assert.equal((await a.mcpPost(g.mcpUrl, a.initialize(), { auth: wide })).status, 200);

  // the 401 challenge and the metadata name the required scope too
  const none = await a.mcpPost(g.mcpUrl, a.initialize());
  assert.deepEqual(a.challenge(none.headers).scope.split(' ').sort(), ['mcp:admin', 'mcp:tools', 'openid']);
  const meta = await (await fetch(`${g.url}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.ok(meta.scopes_supported.includes('mcp:admin'));

  // the SDK requests (and registers with) the scopes of the 401 challenge: one authorization,
  // and the token passes. (An authorization server that binds a registered client to the
  // scopes it registered with refuses a later step-up to other scopes: invalid_scope.)
  idp.loginAs('ops-admin');
  const provider = new a.TestOAuthProvider({ clientName: 'e2e-required-scope' });
  const { client } = await a.connectWithOAuth(g.mcpUrl, provider, 'e2e-required-scope');
  try {
    assert.equal(provider.authorizationUrls.length, 1);
    assert.ok(provider.authorizationUrls[0].searchParams.get('scope').split(' ').includes('mcp:admin'));
    assert.ok(jwtPayload(provider.tokens().access_token).scope.split(' ').includes('mcp:admin'));
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === ctx.tools.whoami));
  } finally {
    await client.close().catch(() => {});
  }
  await a.stopChecked(g, assert);
});

test('clean SIGTERM of the main gateway; no credential in any gateway log', async () => {
  await a.stopChecked(gw, assert);
  for (const g of gws) {
    const log = g.stderr();
    assert.ok(!log.includes(adminKey.key) && !log.includes(plainKey.key), 'an API key in a gateway log');
    assert.ok(!/Bearer\s+[A-Za-z0-9._~+/-]{16,}/.test(log), 'a bearer credential in a gateway log');
    assert.match(log, /refused GET \/admin\/api\/tools|refused POST \/mcp/, 'refusals are logged');
  }
});
