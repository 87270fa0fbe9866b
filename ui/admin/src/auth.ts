// Sign-in: the gateway's auth configuration (GET /admin/api/auth/config, no credential), an
// API key pasted by the user (development), or OIDC authorization code + PKCE against the
// configured provider (redirect back to /admin/). The credential lives in memory and in
// sessionStorage (this tab only, gone when it closes), never in localStorage.
import { oidcFlow, type OidcConfig } from '../../shared/oidc';
import { api, ApiError, setCredential } from './api';

export { looksLikeApiKey } from '../../shared/oidc';

export type AuthMode = 'required' | 'optional' | 'off';

export interface AuthConfig {
  mode: AuthMode;
  oidc: OidcConfig | null;
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

export async function whoami(): Promise<Principal | null> {
  try {
    return await api<Principal>('/whoami');
  } catch (e) {
    if (e instanceof ApiError && e.notAvailable) return null;
    throw e;
  }
}

// ---- OIDC authorization code + PKCE (ui/shared/oidc.ts) -------------------------------------

const oidc = oidcFlow('/admin/', PKCE_KEY);

/** Sends the browser to the provider; after sign-in the console goes back to `returnTo`. */
export function beginOidc(cfg: OidcConfig, returnTo: string): Promise<void> {
  return oidc.begin(cfg, returnTo);
}

export function isOidcCallback(): boolean {
  return oidc.isCallback();
}

/** Completes the redirect and starts the session. Returns the page to go back to. */
export async function completeOidc(cfg: OidcConfig): Promise<string> {
  const t = await oidc.complete(cfg);
  startSession({ credential: t.accessToken, method: 'oidc', expiresAt: t.expiresAt });
  return t.returnTo || '/';
}
