// tests/integration/70-auth-oidc.test.mjs
// Identity end to end with a real OpenID provider (oidc-provider, tests/support/idp.mjs) and a
// gateway that REQUIRES authentication (GW_AUTH_MODE=required, GW_OIDC_ISSUER=<idp>,
// GW_PUBLIC_URL=<its own address>):
//   - no credential: 401 with the RFC 9728 challenge; the protected-resource metadata (path and
//     root forms) names the resource and the authorization server;
//   - the official TypeScript SDK client completes the MCP authorization flow by itself:
//     401 -> protected-resource metadata -> authorization-server metadata -> dynamic client
//     registration -> authorization code + PKCE with `resource` -> token whose audience is the
//     gateway -> tools/list and tools/call (service-booking read tools, and an echo upstream
//     that shows the caller identity the gateway forwards and that no token goes upstream);
//   - client credentials (the SDK's ClientCredentialsProvider) for a service client;
//   - refused: a token for another audience, an opaque token, an expired token (also after the
//     verified-token cache accepted it), a token in the query string, other schemes;
//   - ES256 and EdDSA signed tokens accepted (GW_OIDC_ALGORITHMS default);
//   - sessions are bound to the principal (A's session id with B's token -> 404), on the old
//     HTTP+SSE transport too;
//   - part of the JWT attack catalogue over HTTP: alg none, HS256 keyed with the public key,
//     tampered payload, stripped signature, and validly signed tokens with jku/jwk/crit
//     headers, a future nbf or another issuer;
//   - no token in the gateway log; clean exit without sanitizer reports.
// The gateway runs with GW_OIDC_CLOCK_SKEW_SECONDS=0 so that a 2-second token expires fast.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import * as h from './lib/e2e-harness.mjs';
import * as a from './lib/auth-harness.mjs';
import { jwtHeader, jwtPayload } from '../support/idp.mjs';
import { openStream } from './lib/gw.mjs';

let ctx, idp, gw;
const issued = []; // every access token this file saw (the log must contain none)
const leaks = [];

before(async () => {
  ctx = await a.setup({ tag: 'oidc' });
  idp = ctx.idp;
  gw = await a.startAuthGateway(ctx, a.authSettings(idp, { GW_OIDC_CLOCK_SKEW_SECONDS: '0' }));
});

after(async () => {
  await h.stopAll();
  await idp?.stop();
  await ctx?.echo.stop();
  if (ctx) h.cleanupDir(ctx.dir);
});

/** A client-credentials token of svc-booking for `resource` (default: this gateway). */
async function serviceToken(resource = gw.resource, clientId = 'svc-booking') {
  const t = (await idp.clientCredentials(clientId, { resource })).access_token;
  issued.push(t);
  return t;
}

async function userToken(account) {
  const t = (await idp.userToken(account, { resource: gw.resource })).access_token;
  issued.push(t);
  return t;
}

/** tools/list with a fresh session for `token`: the HTTP status of initialize (and the answer). */
async function tryToken(token) {
  return a.mcpPost(gw.mcpUrl, a.initialize(), { auth: token });
}

/** Asserts a 401 invalid_token refusal whose description matches `re`. */
function assertRefused(r, re, what) {
  assert.equal(r.status, 401, `${what}: HTTP ${r.status} ${r.text}`);
  const c = a.challenge(r.headers);
  assert.ok(c, `${what}: WWW-Authenticate`);
  assert.equal(c.scheme, 'Bearer');
  assert.equal(c.error, 'invalid_token', `${what}: ${r.headers.get('www-authenticate')}`);
  assert.match(c.error_description, re, what);
  assert.equal(c.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`);
  assert.ok(r.json?.error, `${what}: a JSON-RPC error body`);
}

const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

test('no credential: 401 with an RFC 9728 challenge on POST/GET/DELETE; metadata at path and root', async () => {
  const r = await a.mcpPost(gw.mcpUrl, a.initialize());
  assert.equal(r.status, 401, r.text);
  const c = a.challenge(r.headers);
  assert.equal(c.scheme, 'Bearer');
  assert.equal(c.resource_metadata, `${gw.url}/.well-known/oauth-protected-resource/mcp`);
  assert.ok(c.scope.split(' ').includes('mcp:tools'), c.scope);
  assert.equal(c.error, undefined, 'no error code when no credential was sent (RFC 6750 §3.1)');
  assert.match(r.json.error.message, /authentication required/);
  for (const method of ['GET', 'DELETE']) {
    const x = await fetch(gw.mcpUrl, { method, headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' } });
    await x.text();
    assert.equal(x.status, 401, `${method} /mcp`);
    assert.ok(x.headers.get('www-authenticate'), `${method}: challenge`);
  }
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const m = await fetch(gw.url + path);
    assert.equal(m.status, 200, path);
    const doc = await m.json();
    assert.equal(doc.resource, gw.resource, path);
    assert.deepEqual(doc.authorization_servers, [idp.issuer], path);
    assert.deepEqual(doc.bearer_methods_supported, ['header']);
    assert.ok(doc.scopes_supported.includes('mcp:tools'));
  }
});

test('the official SDK client completes the OAuth flow (discovery, registration, code + PKCE, resource) and calls tools', async () => {
  idp.loginAs('agent-priya');
  const reg0 = idp.hits.reg;
  const provider = new a.TestOAuthProvider({ clientName: 'e2e-sdk-user' });
  const { client } = await a.connectWithOAuth(gw.mcpUrl, provider, 'e2e-sdk-user');
  try {
    assert.deepEqual(provider.events, ['registered', 'authorize', 'tokens'], 'registered itself, authorized, got tokens');
    assert.equal(idp.hits.reg, reg0 + 1, 'one dynamic registration at the IdP');
    const authz = provider.authorizationUrls[0];
    assert.equal(authz.origin, idp.issuer, 'authorization at the issuer named by the protected-resource metadata');
    assert.equal(authz.searchParams.get('resource'), gw.resource, 'RFC 8707 resource = the gateway');
    assert.equal(authz.searchParams.get('code_challenge_method'), 'S256', 'PKCE');
    assert.ok(authz.searchParams.get('scope').split(' ').includes('mcp:tools'));
    const token = provider.tokens().access_token;
    issued.push(token);
    const claims = jwtPayload(token);
    assert.equal(jwtHeader(token).typ, 'at+jwt');
    assert.equal(claims.aud, gw.resource, 'the token is for the gateway');
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.sub, 'agent-priya');
    assert.deepEqual(claims.roles, ['customer-care']);

    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const op of ['whoami', 'resolveCustomer', 'findNearbyDealers', 'getDealer'])
      assert.ok(names.includes(ctx.tools[op]), `${op} listed`);

    const cust = await client.callTool({ name: ctx.tools.resolveCustomer, arguments: { mobile: '+91 98765-43210' } });
    assert.ok(!cust.isError, h.resultText(cust));
    assert.equal(h.resultJson(cust).customer_id, 'CUST001234');
    const near = await client.callTool({ name: ctx.tools.findNearbyDealers, arguments: { location: 'Hinjewadi, Pune' } });
    assert.ok(!near.isError, h.resultText(near));
    assert.equal(h.resultJson(near).dealers[0].dealer_id, 'MSIL-PUNE-001');
    const dealer = await client.callTool({ name: ctx.tools.getDealer, arguments: { dealer_id: 'MSIL-PUNE-001' } });
    assert.ok(!dealer.isError, h.resultText(dealer));

    const before = ctx.echo.requests.length;
    const who = await client.callTool({ name: ctx.tools.whoami, arguments: {} });
    assert.ok(!who.isError, h.resultText(who));
    const seen = h.resultJson(who);
    assert.equal(seen.user, 'agent-priya', 'the upstream sees the signed-in user');
    assert.equal(seen.client, provider.clientInformation().client_id, 'and the registered client');
    assert.equal(seen.authorization, null, 'the client token is never forwarded upstream');
    assert.equal(ctx.echo.requests.length, before + 1);
  } finally {
    await client.close().catch(() => {});
  }
});

test('client credentials: the SDK ClientCredentialsProvider gets a token for the gateway and calls a tool', async () => {
  const svc = idp.clients['svc-booking'];
  const provider = new a.ClientCredentialsProvider({ clientId: svc.client_id, clientSecret: svc.client_secret,
    scope: 'mcp:tools', expectedIssuer: idp.issuer, clientName: 'svc-booking' });
  const transport = new (await import('./lib/sdk.mjs')).StreamableHTTPClientTransport(new URL(gw.mcpUrl), { authProvider: provider });
  const { Client } = await import('./lib/sdk.mjs');
  const client = new Client({ name: 'e2e-service', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  try {
    const token = provider.tokens().access_token;
    issued.push(token);
    assert.equal(jwtPayload(token).aud, gw.resource);
    assert.equal(jwtPayload(token).sub, 'svc-booking');
    const who = h.resultJson(await client.callTool({ name: ctx.tools.whoami, arguments: {} }));
    assert.equal(who.user, 'svc-booking');
    assert.equal(who.client, 'svc-booking');
    assert.equal(who.authorization, null);
  } finally {
    await client.close().catch(() => {});
  }
  // and a token fetched directly works as a plain bearer
  const r = await tryToken(await serviceToken());
  assert.equal(r.status, 200, r.text);
});

test('refused with 401 invalid_token: another audience, an opaque token, other schemes, a token in the query', async () => {
  const other = await serviceToken('http://127.0.0.1:9/other-api/mcp');
  assert.equal(jwtPayload(other).aud, 'http://127.0.0.1:9/other-api/mcp', 'the IdP issued it for the other resource');
  assertRefused(await tryToken(other), /audience/, 'token for another resource');

  // the same gateway host but another path is another resource too
  const sibling = await serviceToken(`${gw.url}/other`);
  assertRefused(await tryToken(sibling), /audience/, 'token for another path of the same host');

  // no resource indicator: oidc-provider issues an opaque token (no audience at all)
  const opaque = (await idp.clientCredentials('svc-booking', {})).access_token;
  issued.push(opaque);
  assert.notEqual(opaque.split('.').length, 3, 'opaque');
  assertRefused(await tryToken(opaque), /JWT|base64url/, 'opaque token');

  const good = await serviceToken();
  const basic = await a.mcpPost(gw.mcpUrl, a.initialize(), { auth: `Basic ${Buffer.from('svc:pw').toString('base64')}` });
  assert.equal(basic.status, 401);
  assert.equal(a.challenge(basic.headers).error, 'invalid_request');
  const q = await a.mcpPost(`${gw.mcpUrl}?access_token=${good}`, a.initialize());
  assert.equal(q.status, 401, 'a token in the query string is not a credential');
  assert.equal(a.challenge(q.headers).error, undefined);
  const twice = await a.mcpPost(gw.mcpUrl, a.initialize(), { auth: `Bearer ${good} ${good}` });
  assert.equal(twice.status, 401);
  assert.equal((await tryToken(good)).status, 200, 'the same token in the header works');
});

test('expiry: a 2-second token works, then is refused (also after the verified-token cache accepted it)', async () => {
  idp.setTtl(2);
  let token;
  try {
    token = await serviceToken();
  } finally {
    idp.setTtl(300);
  }
  const exp = jwtPayload(token).exp;
  const first = await tryToken(token);
  assert.equal(first.status, 200, `fresh short-lived token: ${first.text}`);
  assert.equal((await tryToken(token)).status, 200, 'again (from the verified-token cache)');
  // poll until refused; the deadline is the token's expiry plus a margin
  const deadline = exp * 1000 + 6000;
  let r;
  for (;;) {
    r = await tryToken(token);
    if (r.status !== 200 || Date.now() > deadline) break;
    await sleep(100);
  }
  assertRefused(r, /expired/, 'expired token');
  assert.ok(Date.now() / 1000 >= exp, 'refused only once exp has passed');

  // a token the IdP signed with an exp already in the past is refused at once
  idp.customizeNext((_hd, p) => { p.iat -= 600; p.exp = p.iat + 60; });
  assertRefused(await tryToken(await serviceToken()), /expired/, 'token issued already expired');
});

test('ES256 and EdDSA signed tokens are accepted (GW_OIDC_ALGORITHMS default)', async () => {
  try {
    for (const kind of ['ES256', 'EdDSA']) {
      idp.signWith(kind);
      const t = await serviceToken();
      assert.equal(jwtHeader(t).alg, kind);
      assert.equal(jwtHeader(t).kid, idp.keys[kind].kid);
      const r = await tryToken(t);
      assert.equal(r.status, 200, `${kind}: ${r.text}`);
    }
  } finally {
    idp.signWith('RS256');
  }
});

test('sessions are bound to the principal: A\'s session with B\'s token is 404', async () => {
  const tokA = await userToken('agent-priya');
  const tokB = await userToken('dealer-pune');
  assert.equal(jwtPayload(tokB).sub, 'dealer-pune');
  const { session, version } = await a.openSession(gw.mcpUrl, tokA);
  const list = (auth) => a.mcpPost(gw.mcpUrl, a.rpc('tools/list'), { auth, session, version });
  const okA = await list(tokA);
  assert.equal(okA.status, 200, okA.text);
  assert.ok(okA.json.result.tools.length > 0);
  const asB = await list(tokB);
  assert.equal(asB.status, 404, `B with A's session: ${asB.status} ${asB.text}`);
  const asSvc = await list(await serviceToken());
  assert.equal(asSvc.status, 404, 'a service token with A\'s session');
  const none = await list(null);
  assert.equal(none.status, 401, 'no credential at all is 401 before any session lookup');
  // B's refusal did not end A's session
  assert.equal((await list(tokA)).status, 200, 'A keeps the session');
  // A new token of the same user (same subject) keeps the session
  assert.equal((await list(await userToken('agent-priya'))).status, 200, 'same user, another token');
  // DELETE with B's token does not end A's session either
  const del = await fetch(gw.mcpUrl, { method: 'DELETE', headers: { authorization: `Bearer ${tokB}`, 'mcp-session-id': session,
    'mcp-protocol-version': version } });
  await del.text();
  assert.equal(del.status, 404);
  assert.equal((await list(tokA)).status, 200);
});

test('the old HTTP+SSE transport: /sse and /messages need a credential; the session is bound to the principal', async () => {
  const none = await fetch(`${gw.url}/sse`, { headers: { accept: 'text/event-stream' } });
  await none.text();
  assert.equal(none.status, 401);
  assert.ok(a.challenge(none.headers).resource_metadata);
  const tokA = await userToken('agent-priya');
  const tokB = await userToken('dealer-pune');
  const s = await openStream(gw.port, { path: '/sse', headers: { Accept: 'text/event-stream', Authorization: `Bearer ${tokA}` } });
  try {
    assert.equal(s.res.statusCode, 200);
    const ep = await s.wait((e) => e.event === 'endpoint');
    const post = async (auth) => {
      const r = await fetch(gw.url + ep.data, { method: 'POST', headers: { 'content-type': 'application/json',
        ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(a.initialize('2024-11-05')) });
      await r.text();
      return r.status;
    };
    assert.equal(await post(null), 401, 'no credential');
    assert.equal(await post(tokB), 404, 'another user\'s token with A\'s stream');
    assert.equal(await post(await serviceToken()), 404, 'a service token with A\'s stream');
    assert.equal(await post(tokA), 202, 'A posts to A\'s stream');
    const res = await s.wait((e) => e.json?.result?.protocolVersion);
    assert.equal(res.json.result.protocolVersion, '2024-11-05');
  } finally {
    s.close();
  }
});

test('JWT attacks over HTTP: each refused with 401 invalid_token and a precise description', async () => {
  const good = await serviceToken();
  const [hb, pb, sig] = good.split('.');
  const claims = jwtPayload(good);
  const rsKid = idp.keys.RS256.kid;

  // alg none, with and without a trailing signature
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${pb}.`;
  assertRefused(await tryToken(none), /signature|alg none|unsigned/, 'alg none, empty signature');
  const none2 = `${b64({ alg: 'none', typ: 'JWT', kid: rsKid })}.${pb}.${sig}`;
  assertRefused(await tryToken(none2), /alg none|unsigned/, 'alg none');

  // RS/HS confusion: HS256 keyed with the RSA public key (PEM and JWK forms)
  const pem = idp.keys.RS256.publicKey.export({ type: 'spki', format: 'pem' });
  for (const [label, secret] of [['PEM', pem], ['JWK', JSON.stringify(idp.publicJwk('RS256'))]]) {
    const head = b64({ alg: 'HS256', typ: 'at+jwt', kid: rsKid });
    const mac = createHmac('sha256', secret).update(`${head}.${pb}`).digest('base64url');
    assertRefused(await tryToken(`${head}.${pb}.${mac}`), /HMAC/, `HS256 with the public key (${label})`);
  }

  // tampered payload: role escalation and audience swap keep the original signature
  const tampered = `${hb}.${b64({ ...claims, roles: ['admin'] })}.${sig}`;
  assertRefused(await tryToken(tampered), /signature/, 'tampered payload');
  const flipped = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BA' : 'AA');
  assertRefused(await tryToken(`${hb}.${pb}.${flipped}`), /signature/, 'altered signature');
  assertRefused(await tryToken(`${hb}.${pb}.`), /signature/, 'stripped signature');
  assertRefused(await tryToken(`${hb}.${pb}`), /three|JWT/, 'two parts');

  // validly signed by the IdP's real key, but with headers/claims the gateway must refuse
  const signedWith = async (f) => {
    idp.customizeNext(f);
    return serviceToken();
  };
  assertRefused(await tryToken(await signedWith((hd) => { hd.jku = `${idp.issuer}/jwks`; })), /jku/, 'jku header');
  assertRefused(await tryToken(await signedWith((hd) => { hd.jwk = idp.publicJwk('RS256'); })), /jwk/, 'embedded jwk header');
  assertRefused(await tryToken(await signedWith((hd) => { hd.crit = ['b64']; hd.b64 = true; })), /crit/, 'crit header');
  assertRefused(await tryToken(await signedWith((_hd, p) => { p.nbf = p.iat + 3600; })), /not valid yet|nbf/, 'nbf in the future');
  assertRefused(await tryToken(await signedWith((_hd, p) => { p.iss = 'http://127.0.0.1:1/evil'; })), /issuer/, 'another issuer');
  assertRefused(await tryToken(await signedWith((hd) => { hd.typ = 'JWT-evil'; })), /typ/, 'not an access token type');

  // garbage of many shapes never crashes the gateway
  for (const junk of ['a.b.c', '...', 'x'.repeat(9000), `${hb}.${b64('[1,2]')}.${sig}`, `${b64('{"alg":"RS256","alg":"none"}')}.${pb}.${sig}`])
    assert.equal((await tryToken(junk)).status, 401, `junk ${junk.slice(0, 20)}`);

  // the genuine token still works afterwards
  assert.equal((await tryToken(good)).status, 200);
});

test('gateway log: refusals logged without any token; clean SIGTERM; no sanitizer report', async () => {
  const r = await gw.stop();
  const log = gw.stderr();
  assert.deepEqual(h.sanitizerReports(log), []);
  assert.ok(issued.length >= 10);
  for (const t of issued) {
    assert.ok(!log.includes(t), 'an access token appears in the gateway log');
    assert.ok(!log.includes(t.split('.')[2] || t), 'a token signature appears in the gateway log');
  }
  assert.deepEqual(h.secretLeaks(log, ctx.secrets, null).filter((x) => !/bearer token/.test(x)), []);
  assert.match(log, /refused POST \/mcp/, 'refusals are logged');
  leaks.push(...h.leakReports(log));
  assert.ok(h.cleanExit(r, log), `gateway exit ${r.code} (signal ${r.signal})`);
});

test('the gateway leaks nothing at exit (LeakSanitizer, ASan builds)', { todo: h.LEAK_TODO }, () => {
  assert.deepEqual(leaks, []);
});
