// Sign-in for the chat page: the gateway's public configuration (GET /chat/api/config), then
// either OIDC authorization code + PKCE against the configured provider (redirect back to
// /chat/) or, in the embedded default and for service accounts, an API key pasted by the person
// (scripts/run.sh prints the demo identities' keys). The credential lives in memory and in
// sessionStorage (this tab only, gone when it closes), never in localStorage.
import * as oauth from 'oauth4webapi';
import { api, setCredential } from './api';

export interface OidcConfig {
  issuer: string;
  client_id: string;
  scopes: string[];
  resource?: string | null;
}

export interface ChatConfig {
  provider: 'openai' | 'anthropic' | 'none';
  model: string;
  configured: boolean;
  max_message_bytes: number;
  auth: { mcp_mode?: 'required' | 'optional' | 'off'; oidc: OidcConfig | null; api_keys?: boolean } | null;
}

export interface Principal {
  subject: string;
  name?: string;
  roles: string[];
  method: string;
}

export interface Session {
  credential: string;
  method: 'oidc' | 'api_key' | 'none';
  expiresAt?: number;
}

const SESSION_KEY = 'mcpgw.chat.session';
const PKCE_KEY = 'mcpgw.chat.pkce';

export function loadConfig(): Promise<ChatConfig> {
  return api<ChatConfig>('/config', { anonymous: true });
}

export function storedSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null') as Session | null;
    if (!s || (s.method !== 'none' && !s.credential) || (s.expiresAt && s.expiresAt < Date.now())) {
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
  setCredential(s.method === 'none' ? null : s.credential);
}

export function endSession() {
  sessionStorage.removeItem(SESSION_KEY);
  setCredential(null);
}

export function looksLikeApiKey(k: string): boolean {
  return /^mcpgw_[A-Za-z0-9_-]{16,}$/.test(k.trim());
}

export function whoami(): Promise<Principal> {
  return api<Principal>('/me');
}

// ---- OIDC authorization code + PKCE ---------------------------------------------------------

function redirectUri(): string {
  return `${window.location.origin}/chat/`;
}

function insecureOk(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

async function discover(issuerText: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(issuerText);
  const opts = insecureOk(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...opts });
  return oauth.processDiscoveryResponse(issuer, res);
}

export async function beginOidc(cfg: OidcConfig): Promise<void> {
  const as = await discover(cfg.issuer);
  if (!as.authorization_endpoint) throw new Error('the OIDC provider has no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, nonce }));
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

export function isOidcCallback(): boolean {
  const p = new URLSearchParams(window.location.search);
  return p.has('state') && (p.has('code') || p.has('error')) && !!sessionStorage.getItem(PKCE_KEY);
}

export async function completeOidc(cfg: OidcConfig): Promise<void> {
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || '{}') as { verifier?: string; state?: string; nonce?: string };
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
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: saved.nonce, requireIdToken: false });
  startSession({
    credential: result.access_token,
    method: 'oidc',
    expiresAt: result.expires_in ? Date.now() + result.expires_in * 1000 : undefined,
  });
}
