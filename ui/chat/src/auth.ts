// Sign-in for the chat page: the gateway's public configuration (GET /chat/api/config), then
// either OIDC authorization code + PKCE against the configured provider (redirect back to
// /chat/) or, in the embedded default and for service accounts, an API key pasted by the person
// (scripts/run.sh prints the demo identities' keys). The credential lives in memory and in
// sessionStorage (this tab only, gone when it closes), never in localStorage.
import { oidcFlow, type OidcConfig } from '../../shared/oidc';
import { api, setCredential } from './api';

export { looksLikeApiKey } from '../../shared/oidc';
export type { OidcConfig } from '../../shared/oidc';

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

export function whoami(): Promise<Principal> {
  return api<Principal>('/me');
}

// ---- OIDC authorization code + PKCE (ui/shared/oidc.ts) -------------------------------------

const oidc = oidcFlow('/chat/', PKCE_KEY);

export function beginOidc(cfg: OidcConfig): Promise<void> {
  return oidc.begin(cfg);
}

export function isOidcCallback(): boolean {
  return oidc.isCallback();
}

/** Completes the redirect and starts the session. */
export async function completeOidc(cfg: OidcConfig): Promise<void> {
  const t = await oidc.complete(cfg);
  startSession({ credential: t.accessToken, method: 'oidc', expiresAt: t.expiresAt });
}
