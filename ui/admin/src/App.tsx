// The console shell: sign-in gate (per the gateway's auth configuration), the navigation and
// the routes. Under /admin/ (wouter's base), so /admin/tools/x is the route /tools/x.
import { useEffect, useState } from 'react';
import { Link, Route, Router, Switch, useLocation } from 'wouter';
import { ApiError, onUnauthorized, setCredential } from './api';
import { AuthConfig, completeOidc, endSession, isOidcCallback, loadAuthConfig, Principal, Session, storedSession, whoami } from './auth';
import { Icon, IconName } from './components/icons';
import { Button, ErrorState, Loading, ToastProvider } from './components/ui';
import { Dashboard } from './pages/Dashboard';
import { ToolsPage } from './pages/Tools';
import { ToolDetail } from './pages/ToolDetail';
import { ImportPage } from './pages/Import';
import { ProductsPage } from './pages/Products';
import { ExposurePage } from './pages/Exposure';
import { PoliciesPage } from './pages/Policies';
import { ApprovalsPage } from './pages/Approvals';
import { IdentitiesPage } from './pages/Identities';
import { AuditPage } from './pages/Audit';
import { LimitsPage } from './pages/Limits';
import { SettingsPage } from './pages/Settings';
import { SignIn } from './pages/SignIn';

const nav: Array<{ href: string; label: string; icon: IconName; section?: string }> = [
  { href: '/', label: 'Dashboard', icon: 'dashboard', section: 'Overview' },
  { href: '/tools', label: 'Tools', icon: 'tools', section: 'Catalogue' },
  { href: '/import', label: 'Import', icon: 'import' },
  { href: '/products', label: 'API products', icon: 'products' },
  { href: '/exposure', label: 'Exposure', icon: 'exposure', section: 'Governance' },
  { href: '/policies', label: 'Policies', icon: 'policies' },
  { href: '/approvals', label: 'Approvals', icon: 'approvals' },
  { href: '/limits', label: 'Rate limits', icon: 'limits' },
  { href: '/identities', label: 'Identities', icon: 'identities', section: 'Access & compliance' },
  { href: '/audit', label: 'Audit', icon: 'audit' },
  { href: '/settings', label: 'Settings', icon: 'settings' },
];

type Boot =
  | { phase: 'loading' }
  | { phase: 'error'; error: ApiError }
  | { phase: 'ready'; config: AuthConfig; session: Session | null; principal: Principal | null };

export function App() {
  const [boot, setBoot] = useState<Boot>({ phase: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const config = await loadAuthConfig();
        let session = storedSession();
        if (!session && config.oidc && isOidcCallback()) {
          const back = await completeOidc(config.oidc);
          session = storedSession();
          window.history.replaceState(null, '', `/admin${back === '/' ? '/' : back}`);
        }
        setCredential(session?.credential ?? null);
        let principal: Principal | null = null;
        if (session) {
          try {
            principal = await whoami();
          } catch (e) {
            if (e instanceof ApiError && e.status === 401) {
              endSession();
              session = null;
            } else if (!(e instanceof ApiError && e.status === 403)) throw e;
          }
        }
        if (live) setBoot({ phase: 'ready', config, session, principal });
      } catch (e) {
        if (live) setBoot({ phase: 'error', error: e instanceof ApiError ? e : new ApiError(0, 'client', String((e as Error).message || e)) });
      }
    })();
    return () => { live = false; };
  }, [attempt]);

  useEffect(() => onUnauthorized(() => {
    endSession();
    setBoot((b) => (b.phase === 'ready' ? { ...b, session: null, principal: null } : b));
  }), []);

  if (boot.phase === 'loading') return <div className="boot"><Loading label="Connecting to the gateway…" /></div>;
  if (boot.phase === 'error')
    return <div className="boot"><ErrorState error={boot.error} onRetry={() => setAttempt((a) => a + 1)} /></div>;

  const { config, session, principal } = boot;
  const needSignIn = config.mode === 'required' && !session;
  const signedIn = (s: Session, p: Principal | null) => setBoot({ phase: 'ready', config, session: s, principal: p });
  const signOut = () => {
    endSession();
    setBoot({ phase: 'ready', config, session: null, principal: null });
  };

  return (
    <ToastProvider>
      <Router base="/admin">
        {needSignIn ? (
          <SignIn config={config} onSignedIn={signedIn} />
        ) : (
          <Shell config={config} session={session} principal={principal} onSignOut={signOut} onSignIn={signedIn} />
        )}
      </Router>
    </ToastProvider>
  );
}

function Shell({ config, session, principal, onSignOut, onSignIn }: {
  config: AuthConfig; session: Session | null; principal: Principal | null; onSignOut: () => void; onSignIn: (s: Session, p: Principal | null) => void;
}) {
  const [location] = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location]);
  const active = (href: string) => (href === '/' ? location === '/' : location === href || location.startsWith(`${href}/`));
  const isAdmin = !principal || principal.roles.includes('admin');
  return (
    <div className="shell">
      <a className="skip" href="#main">Skip to content</a>
      <aside className={`sidebar ${menuOpen ? 'open' : ''}`}>
        <div className="brand">
          <span className="logo" aria-hidden="true">M</span>
          <div><div className="brand-name">MCP Gateway</div><div className="brand-sub">Admin console</div></div>
        </div>
        <nav aria-label="Main">
          {nav.map((n) => (
            <div key={n.href}>
              {n.section && <div className="nav-section">{n.section}</div>}
              <Link href={n.href} className={active(n.href) ? 'nav-link active' : 'nav-link'} aria-current={active(n.href) ? 'page' : undefined}>
                <Icon name={n.icon} /> <span>{n.label}</span>
              </Link>
            </div>
          ))}
        </nav>
      </aside>
      <div className="main-col">
        <header className="topbar">
          <button type="button" className="icon-btn menu-btn" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}><Icon name="menu" /></button>
          <div className="topbar-fill">
            {!config.available && (
              <span className="banner-chip" title="This gateway's admin API has no authentication yet: it answers loopback clients only.">
                <Icon name="info" size={14} /> Admin API without authentication (loopback only)
              </span>
            )}
            {config.available && config.mode !== 'required' && !session && (
              <span className="banner-chip">Authentication is {config.mode}</span>
            )}
          </div>
          <UserMenu config={config} session={session} principal={principal} isAdmin={isAdmin} onSignOut={onSignOut} onSignIn={onSignIn} />
        </header>
        {principal && !isAdmin && (
          <div className="notice notice-amber" role="note">
            <Icon name="lock" size={16} /> Signed in as <strong>{principal.subject}</strong> without the admin role: the gateway will refuse changes (and may refuse to show some pages).
          </div>
        )}
        <main id="main" tabIndex={-1}>
          <Switch>
            <Route path="/"><Dashboard /></Route>
            <Route path="/tools"><ToolsPage /></Route>
            <Route path="/tools/:name">{(p) => <ToolDetail name={decodeURIComponent(p.name)} />}</Route>
            <Route path="/import"><ImportPage /></Route>
            <Route path="/products"><ProductsPage /></Route>
            <Route path="/products/:name">{(p) => <ProductsPage selected={decodeURIComponent(p.name)} />}</Route>
            <Route path="/exposure"><ExposurePage /></Route>
            <Route path="/policies"><PoliciesPage /></Route>
            <Route path="/approvals"><ApprovalsPage /></Route>
            <Route path="/limits"><LimitsPage /></Route>
            <Route path="/identities"><IdentitiesPage principal={principal} /></Route>
            <Route path="/audit"><AuditPage /></Route>
            <Route path="/settings"><SettingsPage /></Route>
            <Route path="/signin"><SignIn config={config} onSignedIn={onSignIn} embedded /></Route>
            <Route><NotFound /></Route>
          </Switch>
        </main>
      </div>
    </div>
  );
}

function UserMenu({ config, session, principal, isAdmin, onSignOut }: {
  config: AuthConfig; session: Session | null; principal: Principal | null; isAdmin: boolean; onSignOut: () => void; onSignIn: (s: Session, p: Principal | null) => void;
}) {
  if (!session) {
    if (!config.available || (!config.oidc && !config.api_keys)) return null;
    return <Link href="/signin" className="btn btn-secondary"><Icon name="key" size={16} /> <span>Sign in</span></Link>;
  }
  const who = principal?.subject || (session.method === 'api_key' ? 'API key' : 'Signed in');
  return (
    <div className="user">
      <span className="avatar" aria-hidden="true">{who.slice(0, 1).toUpperCase()}</span>
      <div className="user-text">
        <div className="user-name" data-testid="whoami">{who}</div>
        <div className="user-sub">{principal ? (principal.roles.length ? principal.roles.join(', ') : 'no roles') : session.method === 'oidc' ? 'OIDC' : 'API key'}{!isAdmin ? ' · read only' : ''}</div>
      </div>
      <Button kind="ghost" icon="logout" onClick={onSignOut} aria-label="Sign out" title="Sign out" />
    </div>
  );
}

function NotFound() {
  return (
    <div className="state state-empty">
      <h1 className="h3">Page not found</h1>
      <p>There is no page at this address.</p>
      <Link href="/" className="btn btn-secondary">Go to the dashboard</Link>
    </div>
  );
}
