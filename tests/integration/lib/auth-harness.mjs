// tests/integration/lib/auth-harness.mjs
// Plumbing of the identity end-to-end tests (tests/integration/7x-auth-*.test.mjs): a real
// OpenID provider (tests/support/idp.mjs: oidc-provider), the mock APIM, an "echo" upstream
// that shows what the gateway forwards (caller identity headers, and that no client credential
// is forwarded), and `mcpgw serve` with authentication REQUIRED, its canonical URL
// (GW_PUBLIC_URL) and the admin API without dev mode. Also the official SDK client's OAuth
// side: an in-memory OAuthClientProvider whose redirectToAuthorization follows the IdP's
// redirects like a browser and captures the code (no HTML anywhere), and raw helpers.
// Every process is registered with e2e-harness (stopAll() in after()).
import { createServer as createHttpServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as h from './e2e-harness.mjs';
import { Client, StreamableHTTPClientTransport } from './sdk.mjs';
import { startIdp, followToRedirect } from '../../support/idp.mjs';

export { startIdp };
const SDK = '../../node/node_modules/@modelcontextprotocol/sdk/dist/esm';
export const { UnauthorizedError } = await import(`${SDK}/client/auth.js`);
export const { ClientCredentialsProvider } = await import(`${SDK}/client/auth-extensions.js`);

export const ACCEPT = 'application/json, text/event-stream';
export const LATEST = '2025-06-18';

/** A free loopback TCP port (see e2e-harness). */
export const freePort = h.freePort;

/**
 * The echo upstream: GET /whoami answers what the gateway sent ({user, client, authorization,
 * cookie}); every request's headers are kept in `requests` for assertions.
 */
export async function startEcho() {
  const requests = [];
  const srv = createHttpServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    req.resume();
    const body = JSON.stringify({
      user: req.headers['x-caller-user'] ?? null,
      client: req.headers['x-caller-client'] ?? null,
      authorization: req.headers.authorization ?? null,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${srv.address().port}`;
  return { url, requests, stop: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

/** An OpenAPI document with one read operation, GET /whoami (operationId whoami). */
export function writeEchoSpec(dir, url) {
  const file = join(dir, 'echo-openapi.json');
  writeFileSync(file, JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'Echo', version: '1.0.0', description: 'Shows what the gateway forwards upstream.' },
    servers: [{ url }],
    paths: {
      '/whoami': {
        get: {
          operationId: 'whoami',
          summary: 'Who the upstream sees',
          description: 'Returns the caller identity headers the gateway forwarded.',
          responses: {
            200: {
              description: 'the forwarded identity',
              content: { 'application/json': { schema: { type: 'object', properties: {
                user: { type: ['string', 'null'] }, client: { type: ['string', 'null'] },
                authorization: { type: ['string', 'null'] } } } } },
            },
          },
        },
      },
    },
  }, null, 2));
  return file;
}

/**
 * Everything of one identity test file: temp dir, IdP, mock APIM (service booking), echo
 * upstream, specs imported, environment. opts: tag, idp (startIdp options; false: none),
 * mock (default true),
 * settings (extra GW_* for the gateway). Returns {dir, secrets, idp, mock, echo, env, tools}.
 * The gateway is started separately with startAuthGateway (its URL must be known first).
 */
export async function setup(opts = {}) {
  const dir = h.tempDir(opts.tag || 'auth');
  const secrets = h.freshSecrets();
  const idp = opts.idp === false ? null : await startIdp(opts.idp || {});
  const echo = await startEcho();
  const mock = opts.mock === false ? null : await h.startMock({ dir, secrets });
  const ups = {
    echo: { baseUrls: { mock: echo.url }, callerIdentity: { userHeader: 'X-Caller-User', clientHeader: 'X-Caller-Client' } },
  };
  if (mock) ups['service-booking'] = h.serviceBookingUpstream(mock.url);
  const upstreamsFile = h.writeUpstreams(dir, ups);
  const env = h.gatewayEnv({ dir, upstreamsFile, secrets, settings: { GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, writeEchoSpec(dir, echo.url), { specId: 'echo', bundle: 'echo', upstream: 'echo' });
  if (mock)
    h.importSpec(env, h.SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  const tools = h.toolMap(env).op;
  return { dir, secrets, idp, mock, echo, env, tools };
}

/** The settings of a gateway that requires authentication by `idp` (and API keys). */
export function authSettings(idp, extra = {}) {
  return {
    GW_AUTH_MODE: 'required',
    GW_OIDC_ISSUER: idp ? idp.issuer : '',
    GW_ADMIN_DEV_MODE: 'false',
    GW_ADMIN_LISTEN: '127.0.0.1:0',
    GW_WORKERS: '2',
    ...extra,
  };
}

/**
 * Starts `mcpgw serve` with `settings` on a free port whose URL is GW_PUBLIC_URL (so the
 * protected-resource metadata and the token audience name the real address). Retries on the
 * rare race where the port was taken between probing and binding. Returns the e2e-harness
 * gateway handle plus {resource, adminUrl}.
 */
export async function startAuthGateway(ctx, settings) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...ctx.env, GW_PUBLIC_URL: url, ...settings };
    try {
      const gw = await h.startGateway(env, ctx.dir, [], { listen: `127.0.0.1:${port}`, admin: !!env.GW_ADMIN_LISTEN });
      gw.resource = `${url}/mcp`;
      gw.env = env;
      return gw;
    } catch (e) {
      last = e;
      if (!/in use|EADDRINUSE|bind/i.test(String(e.message))) throw e;
    }
  }
  throw last;
}

/**
 * The SDK's OAuthClientProvider for an interactive user, in memory: registers dynamically (no
 * client id given) as a public client (token_endpoint_auth_method none, PKCE), and "opens the
 * browser" by following the IdP's redirects itself; the code lands in `this.code`.
 */
export class TestOAuthProvider {
  constructor({ redirectUrl = 'http://127.0.0.1/callback', clientName = 'mcpgw-e2e' } = {}) {
    this._redirectUrl = redirectUrl;
    this._meta = { client_name: clientName, redirect_uris: [redirectUrl], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
    this.code = undefined;
    this.events = []; // what the SDK did, in order (for assertions)
    this.authorizationUrls = [];
  }
  get redirectUrl() { return this._redirectUrl; }
  get clientMetadata() { return this._meta; }
  state() { this._state = Math.random().toString(36).slice(2); return this._state; }
  clientInformation() { return this._client; }
  saveClientInformation(info) { this.events.push('registered'); this._client = info; }
  tokens() { return this._tokens; }
  saveTokens(t) { this.events.push('tokens'); this._tokens = t; }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
  async redirectToAuthorization(url) {
    this.events.push('authorize');
    this.authorizationUrls.push(new URL(url));
    const cb = await followToRedirect(url, this._redirectUrl);
    if (cb.searchParams.get('error')) throw new Error(`authorization refused: ${cb.search}`);
    if (cb.searchParams.get('state') !== this._state) throw new Error('authorization: state mismatch');
    this.code = cb.searchParams.get('code');
  }
}

/**
 * Connects the official SDK client to `mcpUrl` with `provider` the way an application does:
 * the first connect gets 401 and runs discovery + authorization (UnauthorizedError), then
 * transport.finishAuth(code) exchanges the code, then a fresh transport connects with the
 * token. Returns {client, transport}.
 */
export async function connectWithOAuth(mcpUrl, provider, name = 'e2e-oauth') {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const c1 = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  let unauthorized = false;
  try {
    await c1.connect(first);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    unauthorized = true;
  }
  if (!unauthorized) return { client: c1, transport: first };
  if (!provider.code) throw new Error('the SDK asked for authorization but no code was captured');
  await first.finishAuth(provider.code);
  await c1.close().catch(() => {});
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return { client, transport };
}

/** An SDK client that sends a fixed bearer token (a service with a token from elsewhere). */
export async function bearerClient(mcpUrl, token, name = 'e2e-bearer') {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  return client;
}

let rpcId = 1;
/**
 * One raw POST /mcp: {status, headers, text, json, ms}. `auth`: a token (sent as Bearer), a
 * full header value (starts with a scheme and a space), or null for none.
 */
export async function mcpPost(url, body, { auth, session, version, headers = {}, timeoutMs = 15000 } = {}) {
  const hd = { 'content-type': 'application/json', accept: ACCEPT, ...headers };
  if (auth) hd.authorization = /^\S+ /.test(auth) ? auth : `Bearer ${auth}`;
  if (session) hd['mcp-session-id'] = session;
  if (version) hd['mcp-protocol-version'] = version;
  const t0 = performance.now();
  const r = await fetch(url, { method: 'POST', headers: hd, body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  const ms = performance.now() - t0;
  let json;
  const ct = r.headers.get('content-type') || '';
  if (ct.startsWith('application/json') && text) json = JSON.parse(text);
  else if (ct.startsWith('text/event-stream')) {
    const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim());
    if (data.length) json = JSON.parse(data[data.length - 1]);
  }
  return { status: r.status, headers: r.headers, text, json, ms };
}

/** A JSON-RPC initialize request. */
export function initialize(version = LATEST) {
  return { jsonrpc: '2.0', id: rpcId++, method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'auth-e2e', version: '0' } } };
}

/** A JSON-RPC request. */
export function rpc(method, params) {
  const m = { jsonrpc: '2.0', id: rpcId++, method };
  if (params !== undefined) m.params = params;
  return m;
}

/** initialize + initialized with `auth`; returns {session, version}. Throws unless 200/202. */
export async function openSession(url, auth) {
  const r = await mcpPost(url, initialize(), { auth });
  if (r.status !== 200) throw new Error(`initialize: HTTP ${r.status} ${r.text}`);
  const session = r.headers.get('mcp-session-id');
  const version = r.json.result.protocolVersion;
  const n = await mcpPost(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { auth, session, version });
  if (n.status !== 202) throw new Error(`initialized: HTTP ${n.status} ${n.text}`);
  return { session, version };
}

/**
 * The parameters of a WWW-Authenticate Bearer challenge ({scheme, realm, error,
 * error_description, resource_metadata, scope}); null without the header.
 */
export function challenge(headers) {
  const v = headers.get('www-authenticate');
  if (!v) return null;
  const m = /^(\S+)\s*(.*)$/.exec(v);
  const out = { scheme: m[1] };
  const re = /([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g;
  let x;
  while ((x = re.exec(m[2]))) out[x[1]] = x[2];
  return out;
}

/** fetch + JSON against the admin API: {status, json, headers, ms}. */
export async function admin(gw, method, path, { auth, body, timeoutMs = 15000 } = {}) {
  const hd = {};
  if (auth) hd.authorization = /^\S+ /.test(auth) ? auth : `Bearer ${auth}`;
  if (body !== undefined) hd['content-type'] = 'application/json';
  const t0 = performance.now();
  const r = await fetch(gw.adminUrl + path, { method, headers: hd, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, json, text, headers: r.headers, ms: performance.now() - t0 };
}

/** Stops the gateway with SIGTERM and checks a clean exit without sanitizer reports. */
export async function stopChecked(gw, assert) {
  const r = await gw.stop();
  const err = gw.stderr();
  assert.deepEqual(h.sanitizerReports(err), [], 'sanitizer reports in the gateway log');
  assert.ok(h.cleanExit(r, err), `gateway exit ${r.code} (signal ${r.signal})\n${err.slice(-3000)}`);
  return r;
}

/** Text of a tool result parsed as JSON. */
export const resultJson = h.resultJson;

/**
 * `mcpgw keys create ... --json` with the gateway's environment; returns the created record
 * ({id, key, subject, roles, expires_at, ...}). Throws with stderr on failure.
 */
export function createKey(env, { name, subject, roles = [], ttl, clientId, tenant } = {}) {
  const args = ['keys', 'create', '--name', name, '--subject', subject, '--json'];
  for (const r of roles) args.push('--role', r);
  if (ttl) args.push('--ttl', String(ttl));
  if (clientId) args.push('--client-id', clientId);
  if (tenant) args.push('--tenant', tenant);
  const r = h.mcpgw(env, args);
  if (r.status !== 0) throw new Error(`mcpgw keys create failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls fn() (async) every stepMs until it returns truthy or timeoutMs passes; returns the last value. */
export async function poll(fn, timeoutMs = 8000, stepMs = 50) {
  const t0 = Date.now();
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() - t0 > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
