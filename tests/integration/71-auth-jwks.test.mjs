// tests/integration/71-auth-jwks.test.mjs
// The gateway and its identity provider's key set (JWKS), with a real oidc-provider whose JWKS
// endpoint the test breaks on purpose. The gateway runs ONE worker, so "a JWT request waiting
// for keys does not stall other requests" is tested on the same event loop.
//   - JWKS down from the start: JWT requests fail closed (503) quickly; API-key requests are
//     answered as usual; a burst of JWT requests does not become a burst of JWKS requests;
//   - JWKS slow (longer than GW_OIDC_FETCH_TIMEOUT_MS) or hanging: JWT requests fail closed
//     within about the fetch time limit, while API-key requests on the same worker keep being
//     answered at once;
//   - JWKS serving garbage: fail closed, and the log says why;
//   - JWKS back: the next JWT request gets the keys and is accepted;
//   - keys already loaded survive an outage (stale keys are used);
//   - rotation: a token signed with a new key (unknown kid) triggers one refetch and is
//     accepted; more unknown kids within GW_OIDC_JWKS_MIN_REFETCH_SECONDS trigger no request to
//     the provider; after the interval one refetch again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import * as h from './lib/e2e-harness.mjs';
import * as a from './lib/auth-harness.mjs';
import { jwtHeader } from '../support/idp.mjs';

const FETCH_TIMEOUT_MS = 1000;
const MIN_REFETCH_S = 2;
let ctx, idp, gw, apiKey;
const tokens = {};

before(async () => {
  ctx = await a.setup({ tag: 'jwks', mock: false });
  idp = ctx.idp;
  apiKey = a.createKey(ctx.env, { name: 'jwks-probe', subject: 'svc-probe' }).key;
  idp.jwksMode('down');
  gw = await a.startAuthGateway(ctx, a.authSettings(idp, {
    GW_WORKERS: '1',
    GW_OIDC_FETCH_TIMEOUT_MS: String(FETCH_TIMEOUT_MS),
    GW_OIDC_JWKS_MIN_REFETCH_SECONDS: String(MIN_REFETCH_S),
  }));
  // tokens can be issued while the JWKS endpoint is down (the IdP signs with its own keys)
  for (let i = 0; i < 8; i++)
    tokens[i] = (await idp.clientCredentials('svc-booking', { resource: gw.resource })).access_token;
});

after(async () => {
  idp?.jwksMode('ok');
  await h.stopAll();
  await idp?.stop();
  await ctx?.echo.stop();
  if (ctx) h.cleanupDir(ctx.dir);
});

const tryToken = (auth) => a.mcpPost(gw.mcpUrl, a.initialize(), { auth });

function assertUnavailable(r, what) {
  assert.equal(r.status, 503, `${what}: HTTP ${r.status} ${r.text}`);
  assert.match(r.json.error.message, /signing keys are not available/, what);
}

test('JWKS down from the start: JWT requests fail closed with 503 at once; API keys work', async (t) => {
  const hits0 = idp.hits.jwks;
  const r = await tryToken(tokens[0]);
  assertUnavailable(r, 'JWKS down');
  t.diagnostic(`503 after ${r.ms.toFixed(0)} ms`);
  assert.ok(r.ms < FETCH_TIMEOUT_MS * 4, `answered in ${r.ms.toFixed(0)} ms`);
  assert.ok(idp.hits.jwks > hits0 || hits0 > 0, 'the gateway asked the provider for its keys');
  const k = await tryToken(apiKey);
  assert.equal(k.status, 200, k.text);
  // a burst of JWT requests during the outage is not multiplied into requests to the provider:
  // between fetches (at most one per GW_OIDC_JWKS_MIN_REFETCH_SECONDS) they fail at once
  const hits1 = idp.hits.jwks;
  const t0 = Date.now();
  for (let i = 0; i < 30; i++) assertUnavailable(await tryToken(tokens[0]), 'JWKS down, burst');
  const seconds = (Date.now() - t0) / 1000;
  const fetched = idp.hits.jwks - hits1;
  t.diagnostic(`30 JWT requests in ${seconds.toFixed(2)} s caused ${fetched} JWKS requests`);
  assert.ok(fetched <= Math.ceil(seconds / MIN_REFETCH_S) + 1, `${fetched} JWKS requests for 30 JWT requests in ${seconds} s`);
});

/** Waits until the gateway may fetch again (the last fetch started over the interval ago). */
async function outsideRefetchInterval() {
  const wait = idp.lastJwksAt + MIN_REFETCH_S * 1000 + 1100 - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Waits for the gateway's next JWKS request to arrive at the provider (without keys the
 * gateway retries on its own every GW_OIDC_JWKS_MIN_REFETCH_SECONDS). Returns false on timeout.
 */
async function nextFetchStarted() {
  const h0 = idp.hits.jwks;
  return a.poll(() => idp.hits.jwks > h0, MIN_REFETCH_S * 1000 + 5000, 2);
}

for (const mode of ['slow', 'hang']) {
  test(`JWKS ${mode}: JWT requests fail closed within the fetch time limit; API-key requests on the same worker are not stalled`, async (t) => {
    idp.jwksMode(mode, mode === 'slow' ? 4000 : 0);
    // without keys the gateway retries on its own; requests arriving meanwhile join that fetch
    assert.ok(await nextFetchStarted(), 'the gateway retries fetching the keys');
    const t0 = Date.now();
    const jwt = Promise.all([1, 2, 3].map((i) => tryToken(tokens[i])));
    let settled = false;
    jwt.finally(() => { settled = true; });
    const keyLatencies = [];
    while (!settled && Date.now() - t0 < 10000) {
      const r = await tryToken(apiKey);
      assert.equal(r.status, 200, `API key during a ${mode} JWKS: ${r.text}`);
      keyLatencies.push(r.ms);
      await sleep(20);
    }
    const results = await jwt;
    const elapsed = Date.now() - t0;
    for (const r of results) assertUnavailable(r, `JWKS ${mode}`);
    const waited = Math.min(...results.map((r) => r.ms));
    assert.ok(waited >= FETCH_TIMEOUT_MS * 0.5, `they waited for the fetch under way (${waited.toFixed(0)} ms)`);
    // a waiter may join a fetch already under way, so up to two time limits plus slack
    assert.ok(elapsed < FETCH_TIMEOUT_MS * 2 + 2000, `the JWT requests took ${elapsed} ms (limit ${FETCH_TIMEOUT_MS} ms)`);
    assert.ok(keyLatencies.length >= 3, `only ${keyLatencies.length} API-key requests were answered meanwhile`);
    const worst = Math.max(...keyLatencies);
    t.diagnostic(`JWT refusals after ${elapsed} ms; ${keyLatencies.length} API-key requests meanwhile, slowest ${worst.toFixed(1)} ms`);
    assert.ok(worst < 1000, `an API-key request took ${worst.toFixed(0)} ms while the JWKS was ${mode}`);
    idp.jwksMode('down');
  });
}

test('JWKS serving garbage: fail closed; the log names the failure', async () => {
  idp.jwksMode('garbage');
  assert.ok(await nextFetchStarted(), 'the garbage was fetched');
  assert.ok(await a.poll(() => /fetching the identity provider's keys: .*jwks: (not a JWKS|the JWKS)/.test(gw.stderr()), 3000),
    'a log line explains the failure');
  assertUnavailable(await tryToken(tokens[4]), 'garbage JWKS');
});

test('JWKS back: the next JWT request fetches the keys and is accepted', async () => {
  idp.jwksMode('ok');
  const r = await a.poll(async () => {
    const x = await tryToken(tokens[5]);
    return x.status === 200 ? x : null;
  }, 8000, 100);
  assert.ok(r, 'accepted once the JWKS answered again');
  assert.ok(await a.poll(() => /identity provider keys loaded \(3 keys\)/.test(gw.stderr()), 3000));
});

test('keys already loaded survive a JWKS outage (stale keys beat no keys)', async () => {
  idp.jwksMode('down');
  try {
    const r = await tryToken(tokens[6]);
    assert.equal(r.status, 200, r.text);
  } finally {
    idp.jwksMode('ok');
  }
});

test(`key rotation: an unknown kid refetches once and is accepted; at most one refetch per ${MIN_REFETCH_S} s`, async (t) => {
  idp.publish(['RS256', 'RS256b', 'ES256', 'EdDSA']);
  idp.signWith('RS256b');
  try {
    const rotated = (await idp.clientCredentials('svc-booking', { resource: gw.resource })).access_token;
    assert.equal(jwtHeader(rotated).kid, idp.keys.RS256b.kid);
    // forged key ids (validly signed, but naming keys the provider does not have), made now so
    // that sending them right after the refetch takes only milliseconds
    const forged = [];
    for (let i = 0; i < 5; i++) {
      idp.customizeNext((hd) => { hd.kid = `forged-kid-${i}`; });
      forged.push((await idp.clientCredentials('svc-booking', { resource: gw.resource })).access_token);
    }
    idp.customizeNext((hd) => { hd.kid = 'forged-kid-late'; });
    const late = (await idp.clientCredentials('svc-booking', { resource: gw.resource })).access_token;
    await outsideRefetchInterval();

    const hits0 = idp.hits.jwks;
    const r = await tryToken(rotated);
    assert.equal(r.status, 200, `token signed with the new key: ${r.text}`);
    assert.equal(idp.hits.jwks, hits0 + 1, 'exactly one refetch for the new key id');
    const refetchedAt = Date.now();

    for (const f of forged) {
      const x = await tryToken(f);
      assert.equal(x.status, 401, x.text);
      assert.match(a.challenge(x.headers).error_description, /unknown key id/);
    }
    const within = Date.now() - refetchedAt;
    t.diagnostic(`5 forged key ids refused ${within} ms after the refetch`);
    assert.ok(within < (MIN_REFETCH_S - 1) * 1000, `the forged tokens took too long (${within} ms) to prove the limit`);
    assert.equal(idp.hits.jwks, hits0 + 1, 'no refetch for forged key ids within the interval');

    // after the interval, an unknown kid may refetch again (once), and is still refused
    await sleep(refetchedAt + MIN_REFETCH_S * 1000 + 1100 - Date.now());
    const y = await tryToken(late);
    assert.equal(y.status, 401);
    assert.equal(idp.hits.jwks, hits0 + 2, 'one refetch after the interval');
    const y2 = await tryToken(late);
    assert.equal(y2.status, 401);
    assert.equal(idp.hits.jwks, hits0 + 2, 'and not another one right after');
    // the old key still verifies (both are published)
    assert.equal((await tryToken(tokens[7])).status, 200);
  } finally {
    idp.signWith('RS256');
  }
});

test('clean SIGTERM, no sanitizer report, no token in the log', async () => {
  const r = await gw.stop();
  const log = gw.stderr();
  assert.deepEqual(h.sanitizerReports(log), []);
  for (const tk of [...Object.values(tokens), apiKey]) assert.ok(!log.includes(tk), 'a credential in the gateway log');
  assert.ok(h.cleanExit(r, log), `gateway exit ${r.code} (signal ${r.signal})`);
});
