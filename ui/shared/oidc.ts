// OIDC sign-in shared by the admin console and the chat page: authorization code + PKCE
// against the provider the gateway names (oauth4webapi), with the state, nonce and verifier
// kept in sessionStorage for the redirect back. Each page says where the provider returns to
// and under which key the pending sign-in is kept; what becomes of the access token (the
// page's own session) stays with the page.
import * as oauth from 'oauth4webapi';

/** The provider as the gateway publishes it (/admin/api/auth/config, /chat/api/config). */
export interface OidcConfig {
  issuer: string;
  client_id: string;
  scopes: string[];
  resource?: string | null;
}

/** What a completed sign-in yields. */
export interface OidcTokens {
  accessToken: string;
  /** ms since epoch, when the provider said how long the token lives */
  expiresAt?: number;
  /** the page to go back to, as given to begin() */
  returnTo?: string;
}

export interface OidcFlow {
  /** Sends the browser to the provider's authorization endpoint. */
  begin(cfg: OidcConfig, returnTo?: string): Promise<void>;
  /** Whether this page load is the provider's redirect back (code or error + state). */
  isCallback(): boolean;
  /** Completes the redirect: validates state, exchanges the code (PKCE), checks the nonce. */
  complete(cfg: OidcConfig): Promise<OidcTokens>;
}

/** Loopback issuers (development, tests) may use http; everything else must be https. */
function insecureOk(issuer: URL): boolean {
  return issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}

function requestOptions(issuerText: string) {
  return insecureOk(new URL(issuerText)) ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(issuerText: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(issuerText);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(issuerText) });
  return oauth.processDiscoveryResponse(issuer, res);
}

/** The flow of one page: `redirectPath` is where the provider sends the browser back (the
 * page's base, e.g. '/admin/'), `pendingKey` the sessionStorage key of a sign-in under way. */
export function oidcFlow(redirectPath: string, pendingKey: string): OidcFlow {
  const redirectUri = () => `${window.location.origin}${redirectPath}`;
  return {
    async begin(cfg, returnTo) {
      const as = await discover(cfg.issuer);
      if (!as.authorization_endpoint) throw new Error('the OIDC provider has no authorization endpoint');
      const verifier = oauth.generateRandomCodeVerifier();
      const challenge = await oauth.calculatePKCECodeChallenge(verifier);
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      sessionStorage.setItem(pendingKey, JSON.stringify({ verifier, state, nonce, returnTo }));
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
    },

    isCallback() {
      const p = new URLSearchParams(window.location.search);
      return p.has('state') && (p.has('code') || p.has('error')) && !!sessionStorage.getItem(pendingKey);
    },

    async complete(cfg) {
      const saved = JSON.parse(sessionStorage.getItem(pendingKey) || '{}') as {
        verifier?: string; state?: string; nonce?: string; returnTo?: string;
      };
      sessionStorage.removeItem(pendingKey);
      const current = new URL(window.location.href);
      window.history.replaceState(null, '', current.pathname); // the code never stays in the URL
      if (!saved.verifier || !saved.state) throw new Error('the sign-in was not started from this tab');
      const as = await discover(cfg.issuer);
      const client: oauth.Client = { client_id: cfg.client_id };
      const params = oauth.validateAuthResponse(as, client, current, saved.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as, client, oauth.None(), params, redirectUri(), saved.verifier, {
          ...requestOptions(cfg.issuer),
          additionalParameters: cfg.resource ? { resource: cfg.resource } : undefined,
        });
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: saved.nonce,
        requireIdToken: false,
      });
      return {
        accessToken: result.access_token,
        expiresAt: result.expires_in ? Date.now() + result.expires_in * 1000 : undefined,
        returnTo: saved.returnTo,
      };
    },
  };
}

/** Whether a pasted string has the shape of a gateway API key. */
export function looksLikeApiKey(k: string): boolean {
  return /^mcpgw_[A-Za-z0-9_-]{16,}$/.test(k.trim());
}
