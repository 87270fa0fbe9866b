// Sign-in: OIDC (authorization code + PKCE, redirect to the provider and back) and, where the
// gateway accepts them, an API key pasted by hand (development and service accounts).
import { FormEvent, useState } from 'react';
import { useLocation } from 'wouter';
import { ApiError, setCredential } from '../api';
import { AuthConfig, beginOidc, endSession, looksLikeApiKey, Principal, Session, startSession, whoami } from '../auth';
import { Icon } from '../components/icons';
import { Button, Field, InlineError } from '../components/ui';
import { useTitle } from '../hooks';

export function SignIn({ config, onSignedIn, embedded }: { config: AuthConfig; onSignedIn: (s: Session, p: Principal | null) => void; embedded?: boolean }) {
  useTitle('Sign in');
  const [, navigate] = useLocation();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState<'oidc' | 'key' | null>(null);
  const [error, setError] = useState<unknown>(null);

  const withKey = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const k = key.trim();
    if (!looksLikeApiKey(k)) {
      setError('This does not look like a gateway API key (mcpgw_…).');
      return;
    }
    setBusy('key');
    setCredential(k);
    try {
      const p = await whoami();
      const s: Session = { credential: k, method: 'api_key' };
      startSession(s);
      onSignedIn(s, p);
      navigate('/');
    } catch (err) {
      endSession();
      setError(err instanceof ApiError && err.status === 401 ? new ApiError(401, 'unauthenticated', 'The gateway does not accept this key (unknown, revoked or expired).') : err);
    } finally {
      setBusy(null);
    }
  };

  const withOidc = async () => {
    if (!config.oidc) return;
    setError(null);
    setBusy('oidc');
    try {
      await beginOidc(config.oidc, '/');
    } catch (err) {
      setError(`The identity provider cannot be reached: ${(err as Error).message}`);
      setBusy(null);
    }
  };

  const body = (
    <div className="signin-card">
      <div className="brand brand-center">
        <span className="logo" aria-hidden="true">M</span>
        <div><div className="brand-name">MCP Gateway</div><div className="brand-sub">Admin console</div></div>
      </div>
      <h1>Sign in</h1>
      <p className="muted">Every action you take here is checked by the gateway against your identity.</p>
      <InlineError error={error} />
      {config.oidc && (
        <Button kind="primary" icon="lock" busy={busy === 'oidc'} onClick={withOidc} className="btn btn-primary btn-block">
          Continue with single sign-on
        </Button>
      )}
      {config.oidc && config.api_keys && <div className="or"><span>or</span></div>}
      {config.api_keys && (
        <form onSubmit={withKey}>
          <Field label="API key" htmlFor="apikey" hint="Kept in this browser tab only (session storage); closing the tab signs you out.">
            <input id="apikey" type="password" autoComplete="off" spellCheck={false} placeholder="mcpgw_…" value={key} onChange={(e) => setKey(e.target.value)} />
          </Field>
          <Button kind={config.oidc ? 'secondary' : 'primary'} type="submit" icon="key" busy={busy === 'key'} className={`btn ${config.oidc ? 'btn-secondary' : 'btn-primary'} btn-block`}>
            Sign in with API key
          </Button>
        </form>
      )}
      {!config.oidc && !config.api_keys && (
        <p className="notice notice-amber"><Icon name="info" size={16} /> This gateway offers no sign-in method for the console.</p>
      )}
    </div>
  );
  return embedded ? <div className="signin-embedded">{body}</div> : <main className="signin-page" id="main">{body}</main>;
}
