// Sign-in: the gateway's auth configuration (GET /admin/api/auth/config, no credential), an
// API key pasted by the user (development), or OIDC authorization code + PKCE against the
// configured provider (redirect back to /admin/). The credential lives in memory and in
// sessionStorage (this tab only, gone when it closes), never in localStorage.
import * as oauth from 'oauth4webapi';
import { api, ApiError, setCredential } from './api';

export type AuthMode = 'required' | 'optional' | 'off';

export interface AuthConfig {
  mode: AuthMode;
  oidc: { issuer: string; client_id: string; scopes: string[]; resource?: string | null } | null;
  api_keys: boolean;
  /** false when the gateway has no /auth/config yet (admin API without authentication) */
  available: boolean;
}

export interface Principal {
  subject: string;
  client_id?: string | null;
  tenant?: string | null;
  roles: string[];
  method: 'oidc' | 'api_key' | 'none';
}

export interface Session {
  credential: string;
  method: 'oidc' | 'api_key';
  expiresAt?: number; // ms since epoch (OIDC access token)
}

const SESSION_KEY = 'mcpgw.admin.session';
const PKCE_KEY = 'mcpgw.admin.pkce';

export async function loadAuthConfig(): Promise<AuthConfig> {
  try {
    const c = await api<Omit<AuthConfig, 'available'>>('/auth/config', { anonymous: true });
    return { mode: c.mode, oidc: c.oidc ?? null, api_keys: !!c.api_keys, available: true };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404)
      return { mode: 'off', oidc: null, api_keys: false, available: false };
    throw e;
  }
}

export function storedSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (!s.credential || (s.expiresAt && s.expiresAt < Date.now())) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function startSession(s: Session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  setCredential(s.credential);
}

export function endSession() {
  sessionStorage.removeItem(SESSION_KEY);
  setCredential(null);
}

/** Whether a pasted string has the shape of a gateway API key. */
export function looksLikeApiKey(k: string): boolean {
  return /^mcpgw_[A-Za-z0-9_-]{16,}$/.test(k.trim());
}

export async function whoami(): Promise<Principal | null> {
  try {
    return await api<Principal>('/whoami');
  } catch (e) {
    if (e instanceof ApiError && e.notAvailable) return null;
    throw e;
  }
}

// ---- OIDC authorization code + PKCE ---------------------------------------------------------

function redirectUri(): string {
  return `${window.location.origin}/admin/`;
}

/** Loopback issuers (development, tests) may use http; everything else must be https. */
function insecureOk(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

async function discover(issuerText: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(issuerText);
  const opts = insecureOk(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...opts });
  return oauth.processDiscoveryResponse(issuer, res);
}

/** Sends the browser to the provider's authorization endpoint. */
export async function beginOidc(cfg: NonNullable<AuthConfig['oidc']>, returnTo: string): Promise<void> {
  const as = await discover(cfg.issuer);
  if (!as.authorization_endpoint) throw new Error('the OIDC provider has no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, nonce, returnTo }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', cfg.client_id);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', (cfg.scopes && cfg.scopes.length ? cfg.scopes : ['openid']).join(' '));
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (cfg.resource) url.searchParams.set('resource', cfg.resource);
  window.location.assign(url.href);
}

/** Whether this page load is the provider's redirect back (code or error + state). */
export function isOidcCallback(): boolean {
  const p = new URLSearchParams(window.location.search);
  return p.has('state') && (p.has('code') || p.has('error')) && !!sessionStorage.getItem(PKCE_KEY);
}

/** Completes the redirect: validates state, exchanges the code (PKCE), starts the session.
 * Returns the page to go back to. */
export async function completeOidc(cfg: NonNullable<AuthConfig['oidc']>): Promise<string> {
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || '{}') as {
    verifier?: string; state?: string; nonce?: string; returnTo?: string;
  };
  sessionStorage.removeItem(PKCE_KEY);
  const current = new URL(window.location.href);
  window.history.replaceState(null, '', current.pathname); // the code never stays in the URL
  if (!saved.verifier || !saved.state) throw new Error('the sign-in was not started from this tab');
  const as = await discover(cfg.issuer);
  const client: oauth.Client = { client_id: cfg.client_id };
  const params = oauth.validateAuthResponse(as, client, current, saved.state);
  const issuer = new URL(cfg.issuer);
  const opts = insecureOk(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), saved.verifier, {
    ...opts,
    additionalParameters: cfg.resource ? { resource: cfg.resource } : undefined,
  });
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: saved.nonce,
    requireIdToken: false,
  });
  startSession({
    credential: result.access_token,
    method: 'oidc',
    expiresAt: result.expires_in ? Date.now() + result.expires_in * 1000 : undefined,
  });
  return saved.returnTo || '/';
}
