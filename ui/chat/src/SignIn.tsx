// Sign-in: with the organisation's identity provider (OIDC, when the gateway has one) or with
// an API key (the embedded default's demo identities, printed by scripts/run.sh). The key is
// checked against the gateway (GET /chat/api/me) before the page uses it.
import { useState, type FormEvent } from 'react';
import { ApiError, setCredential } from './api';
import { beginOidc, looksLikeApiKey, whoami, type ChatConfig, type Principal } from './auth';

export function SignIn({ config, onSignedIn }: { config: ChatConfig; onSignedIn: (p: Principal, credential: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const oidc = config.auth?.oidc;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const k = key.trim();
    if (!looksLikeApiKey(k)) {
      setError('That does not look like a gateway API key (mcpgw_…).');
      return;
    }
    setWorking(true);
    setError(null);
    setCredential(k);
    try {
      onSignedIn(await whoami(), k);
    } catch (err) {
      setCredential(null);
      setError(err instanceof ApiError && err.status === 401 ? 'The gateway did not accept this key (unknown, revoked or expired).' : String(err));
    } finally {
      setWorking(false);
    }
  };

  return (
    <main className="center signin">
      <div className="card">
        <span className="logo big" aria-hidden="true">S</span>
        <h1>MSIL Service Assistant</h1>
        <p>Sign in: the assistant acts with your rights only, and asks you before it books anything.</p>
        {oidc && (
          <button type="button" className="primary wide" onClick={() => beginOidc(oidc).catch((e) => setError(String(e)))}>
            Sign in with your organisation
          </button>
        )}
        <form onSubmit={submit} className="keyform">
          <label htmlFor="apikey">{oidc ? 'Or use an API key' : 'API key'}</label>
          <input
            id="apikey"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="mcpgw_…"
            aria-describedby="apikey-hint"
            aria-invalid={!!error || undefined}
          />
          <p id="apikey-hint" className="hint">
            The embedded default (scripts/run.sh) prints keys of demo identities: a customer-care agent, a dealer's agent
            and an analyst (kept in data/demo-credentials).
          </p>
          <button type="submit" className={oidc ? 'wide' : 'primary wide'} disabled={working || !key.trim()}>Sign in with the key</button>
        </form>
        {error && <p className="error-text" role="alert">{error}</p>}
      </div>
    </main>
  );
}
