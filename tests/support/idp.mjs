// tests/support/idp.mjs
// A real OpenID provider for the tests: oidc-provider (npm, pinned in tests/node) on a free
// loopback port, configured as an authorization server for the gateway:
//   - resource indicators (RFC 8707): any http(s) resource gets JWT access tokens (RFC 9068,
//     typ at+jwt) whose audience IS the resource, signed with the key the test chooses;
//   - authorization code + PKCE (required for every client), open dynamic client registration
//     (the MCP SDK client registers itself), a pre-registered public client for tests that
//     want a user's token without the SDK, and client-credentials service clients;
//   - custom claims: an account's roles, dealer ids and tenant (extraTokenClaims), a service
//     client's roles;
//   - automatic interaction: no HTML. The account that signs in is the authorization request's
//     login_hint, else the one set with idp.loginAs(); consent is granted for what was asked.
// Test controls (in-process, or over HTTP under /__test/ when run as a process):
//   signing key (RS256 by default; a second RS256 key for rotation, ES256, EdDSA), which keys
//   the JWKS publishes, JWKS faults (down = 503, slow = answer after a delay, garbage, hang),
//   access-token lifetime, a one-shot customizer of the next token's header/payload (for
//   validly-signed attack tokens), and counters of JWKS and discovery requests.
// Run alone: node tests/support/idp.mjs [--port-file FILE] [--port N]  (prints the issuer).
// Nothing here talks to anything but 127.0.0.1.
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OIDC = pathToFileURL(join(here, '..', 'node', 'node_modules', 'oidc-provider', 'lib', 'index.js')).href;

/** Demo/test accounts: id -> claims added to their access tokens (and userinfo). */
export const DEFAULT_ACCOUNTS = {
  'agent-priya': { name: 'Priya (customer care)', roles: ['customer-care'], tenant: 'msil' },
  'dealer-pune': { name: 'Pune dealer', roles: ['dealer'], dealer_ids: ['MSIL-PUNE-001'], tenant: 'msil' },
  'ops-admin': { name: 'Operations admin', roles: ['admin', 'operator'], tenant: 'msil' },
  'plain-user': { name: 'A user without roles', roles: [] },
};

/** Pre-registered clients: a public test client (code + PKCE) and service clients. */
export function defaultClients() {
  return [
    { client_id: 'e2e-public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
      response_types: ['code'], redirect_uris: ['http://127.0.0.1/callback'] },
    { client_id: 'svc-booking', client_secret: 'svc-' + randomBytes(16).toString('hex'),
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic', 'urn:e2e:roles': ['booking-service'] },
    { client_id: 'svc-admin', client_secret: 'svc-' + randomBytes(16).toString('hex'),
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic', 'urn:e2e:roles': ['admin'] },
  ];
}

function makeKey(kind) {
  const tag = randomBytes(4).toString('hex');
  let pair;
  let alg;
  if (kind === 'RS256' || kind === 'RS256b') {
    pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    alg = 'RS256';
  } else if (kind === 'ES256') {
    pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    alg = 'ES256';
  } else if (kind === 'EdDSA') {
    pair = generateKeyPairSync('ed25519');
    alg = 'EdDSA';
  } else {
    throw new Error(`unknown key kind ${kind}`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { kind, alg, kid: `${kind.toLowerCase()}-${tag}`, privateJwk: { ...jwk, kid: `${kind.toLowerCase()}-${tag}`, alg, use: 'sig' },
    publicKey: pair.publicKey, privateKey: pair.privateKey };
}

function publicJwk(k) {
  const { d, p, q, dp, dq, qi, ...pub } = k.privateJwk; // eslint-disable-line no-unused-vars
  return pub;
}

/** Reads a request body (small, bounded). */
function readBody(req, limit = 65536) {
  return new Promise((res, rej) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        rej(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

/**
 * Starts the provider. opts: port (default 0 = free), accounts, clients, ttl (access token
 * seconds, default 300), quiet (default true: oidc-provider's start-up notices muted).
 * Returns the handle described at the top of this file.
 */
export async function startIdp(opts = {}) {
  const { Provider } = await import(OIDC);
  const accounts = { ...(opts.accounts || DEFAULT_ACCOUNTS) };
  const clients = opts.clients || defaultClients();
  const keys = {};
  for (const kind of ['RS256', 'RS256b', 'ES256', 'EdDSA']) keys[kind] = makeKey(kind);

  const state = {
    signKind: 'RS256',                      // the key that signs the next access tokens
    published: new Set(['RS256', 'ES256', 'EdDSA']), // keys the JWKS shows (RS256b: rotation)
    jwks: 'ok',                              // ok | down | slow | garbage | hang
    slowMs: 0,
    ttl: opts.ttl || 300,
    nextAccount: 'agent-priya',
    customize: null,                         // one-shot (header, payload) => void
    hits: { jwks: 0, discovery: 0, token: 0, auth: 0, reg: 0 },
    hanging: new Set(),
  };

  const server = createServer();
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port || 0, '127.0.0.1', res);
  });
  const port = server.address().port;
  const issuer = `http://127.0.0.1:${port}`;

  const clientRoles = new Map(clients.map((c) => [c.client_id, c['urn:e2e:roles'] || []]));
  const staticClients = clients.map((c) => {
    const { 'urn:e2e:roles': _r, ...meta } = c; // eslint-disable-line no-unused-vars
    return meta;
  });

  const provider = new Provider(issuer, {
    clients: staticClients,
    jwks: { keys: Object.values(keys).map((k) => k.privateJwk) },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'mcp:tools', 'mcp:admin'],
    claims: { openid: ['sub'], profile: ['name'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => (oneOf ? oneOf[0] : undefined),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          let u;
          try {
            u = new URL(resourceIndicator);
          } catch {
            throw new Error('resource indicator is not a URL');
          }
          if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('resource is not http(s)');
          const k = keys[state.signKind];
          return {
            scope: 'mcp:tools mcp:admin',
            audience: resourceIndicator,
            accessTokenTTL: state.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: k.alg, kid: k.kid } },
          };
        },
      },
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL || state.ttl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL || state.ttl,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      RefreshToken: 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const a = accounts[id];
      if (!a) return undefined;
      return { accountId: id, async claims() { return { sub: id, name: a.name }; } };
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials')
        return { roles: clientRoles.get(token.clientId) || [] };
      const a = token.accountId && accounts[token.accountId];
      if (!a) return undefined;
      const extra = { roles: a.roles || [] };
      if (a.dealer_ids) extra.dealer_ids = a.dealer_ids;
      if (a.tenant) extra.tenant = a.tenant;
      if (a.name) extra.name = a.name;
      return extra;
    },
    formats: {
      customizers: {
        jwt: async (_ctx, _token, jwt) => {
          const f = state.customize;
          state.customize = null;
          if (f) {
            jwt.header = jwt.header || {};
            f(jwt.header, jwt.payload);
          }
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  });
  if (opts.quiet !== false) {
    // oidc-provider logs configuration notices (in-memory adapter, TTL advice) via console.warn
    provider.on('server_error', (_ctx, err) => process.stderr.write(`idp server_error: ${err.stack}\n`));
  }
  const callback = provider.callback();

  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (prompt.name === 'login') {
      const accountId = params.login_hint || state.nextAccount;
      if (!accounts[accountId]) {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: `no account ${accountId}` },
          { mergeWithLastSubmission: false });
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details || {};
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      if (d.missingResourceScopes)
        for (const [indicator, scopes] of Object.entries(d.missingResourceScopes))
          grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`unexpected prompt ${prompt.name}`);
  }

  function jwksDoc() {
    return { keys: [...state.published].map((kind) => publicJwk(keys[kind])) };
  }

  async function serveJwks(res) {
    state.hits.jwks++;
    state.lastJwksAt = Date.now();
    switch (state.jwks) {
      case 'down':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for the test');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ {"kty": "RSA", "n": 42 }, "not a key" ');
        return;
      case 'hang':
        state.hanging.add(res);
        res.on('close', () => state.hanging.delete(res));
        return;
      case 'slow':
        await new Promise((r) => setTimeout(r, state.slowMs));
        break;
      default:
        break;
    }
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksDoc()));
  }

  async function control(req, res, path) {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const a = body ? JSON.parse(body) : {};
    const reply = (o) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    if (path === '/__test/state') return reply(handle.snapshot());
    if (path === '/__test/login-as') return reply(handle.loginAs(a.account));
    if (path === '/__test/sign-with') return reply(handle.signWith(a.kind));
    if (path === '/__test/publish') return reply(handle.publish(a.kinds));
    if (path === '/__test/jwks-mode') return reply(handle.jwksMode(a.mode, a.slowMs));
    if (path === '/__test/ttl') return reply(handle.setTtl(a.seconds));
    res.writeHead(404).end();
    return undefined;
  }

  server.on('request', (req, res) => {
    const path = req.url.split('?')[0];
    const fail = (e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e && e.message));
    };
    if (path === '/jwks') return void serveJwks(res).catch(fail);
    if (path.startsWith('/__test/')) return void control(req, res, path).catch(fail);
    if (path.startsWith('/interaction/')) return void interaction(req, res).catch(fail);
    if (path.startsWith('/.well-known/')) state.hits.discovery++;
    if (path === '/token') state.hits.token++;
    if (path.startsWith('/auth')) state.hits.auth++;
    if (path === '/reg') state.hits.reg++;
    return callback(req, res);
  });

  const handle = {
    issuer,
    port,
    provider,
    keys,
    accounts,
    clients: Object.fromEntries(clients.map((c) => [c.client_id, c])),
    hits: state.hits,
    /** Date.now() of the last JWKS request (0: none yet). */
    get lastJwksAt() { return state.lastJwksAt || 0; },
    /** The account that signs in next (when the request has no login_hint). */
    loginAs(account) {
      if (!accounts[account]) throw new Error(`no account ${account}`);
      state.nextAccount = account;
      return { ok: true };
    },
    /** Which key signs new access tokens: RS256 | RS256b | ES256 | EdDSA. */
    signWith(kind) {
      if (!keys[kind]) throw new Error(`no key ${kind}`);
      state.signKind = kind;
      return { kid: keys[kind].kid };
    },
    /** Which keys the JWKS document lists. */
    publish(kinds) {
      state.published = new Set(kinds);
      return { kids: kinds.map((k) => keys[k].kid) };
    },
    /** JWKS behaviour: ok | down | slow (answer after slowMs) | garbage | hang. */
    jwksMode(mode, slowMs = 0) {
      state.jwks = mode;
      state.slowMs = slowMs;
      if (mode !== 'hang') for (const r of state.hanging) r.destroy();
      return { ok: true };
    },
    setTtl(seconds) {
      state.ttl = seconds;
      return { ok: true };
    },
    /** The next JWT access token's header and payload pass through f(header, payload). */
    customizeNext(f) {
      state.customize = f;
    },
    snapshot() {
      return { issuer, hits: { ...state.hits }, signKind: state.signKind, published: [...state.published],
        jwks: state.jwks, ttl: state.ttl, nextAccount: state.nextAccount };
    },
    /** Public JWK of a key kind (what a resource server would see). */
    publicJwk: (kind) => publicJwk(keys[kind]),
    /**
     * A client-credentials access token of a pre-registered service client.
     * Returns the token endpoint's JSON ({access_token, ...}); throws on an error answer.
     */
    async clientCredentials(clientId, { resource, scope = 'mcp:tools' } = {}) {
      const c = clients.find((x) => x.client_id === clientId);
      const body = new URLSearchParams({ grant_type: 'client_credentials', scope });
      if (resource) body.set('resource', resource);
      const r = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded',
          authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64') },
        body,
      });
      const j = await r.json();
      if (!r.ok) throw new Error(`client_credentials for ${clientId}: ${r.status} ${JSON.stringify(j)}`);
      return j;
    },
    /**
     * A user's access token through the real authorization code + PKCE flow of the
     * pre-registered public client (login_hint picks the account). Returns the token JSON.
     */
    async userToken(account, { resource, scope = 'openid mcp:tools' } = {}) {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const redirectUri = 'http://127.0.0.1/callback';
      const st = randomBytes(8).toString('hex');
      const q = new URLSearchParams({ client_id: 'e2e-public', response_type: 'code', redirect_uri: redirectUri,
        scope, state: st, code_challenge: challenge, code_challenge_method: 'S256', login_hint: account });
      if (resource) q.set('resource', resource);
      const cb = await followToRedirect(`${issuer}/auth?${q}`, redirectUri);
      if (cb.searchParams.get('error')) throw new Error(`authorization failed: ${cb.search}`);
      if (cb.searchParams.get('state') !== st) throw new Error('state mismatch');
      const body = new URLSearchParams({ grant_type: 'authorization_code', code: cb.searchParams.get('code'),
        redirect_uri: redirectUri, code_verifier: verifier, client_id: 'e2e-public' });
      if (resource) body.set('resource', resource);
      const r = await fetch(`${issuer}/token`, { method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      const j = await r.json();
      if (!r.ok) throw new Error(`token for ${account}: ${r.status} ${JSON.stringify(j)}`);
      return j;
    },
    async stop() {
      for (const r of state.hanging) r.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
  return handle;
}

/**
 * Follows the redirects of a browser-less authorization request (with a cookie jar, as a
 * user agent would) until one points at `redirectUri`; returns that URL (code/state/error in
 * its query). At most 20 hops.
 */
export async function followToRedirect(startUrl, redirectUri) {
  const jar = new Map();
  let url = String(startUrl);
  for (let hop = 0; hop < 20; hop++) {
    const r = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const loc = r.headers.get('location');
    if (!loc) throw new Error(`authorization flow stopped at ${url.split('?')[0]}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
    await r.arrayBuffer().catch(() => {});
    const next = new URL(loc, url);
    if (next.href.startsWith(redirectUri)) return next;
    url = next.href;
  }
  throw new Error('too many redirects in the authorization flow');
}

/** Payload of a compact JWT (not verified: for assertions on what the IdP issued). */
export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Header of a compact JWT. */
export function jwtHeader(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

// ---- run as a process --------------------------------------------------------------------
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const val = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const idp = await startIdp({ port: Number(val('--port') || 0) });
  if (val('--port-file')) writeFileSync(val('--port-file'), String(idp.port));
  process.stdout.write(`${idp.issuer}\n`);
  const stop = () => idp.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
