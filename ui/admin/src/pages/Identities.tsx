// Identities: API keys (create — the key is shown once —, revoke, last use), roles, and how
// identity-provider claims map to the gateway's principal.
import { FormEvent, useState } from 'react';
import { api, Page, Setting } from '../api';
import { RoleDef } from '../governance';
import { Principal } from '../auth';
import { Icon } from '../components/icons';
import { Badge, Button, Card, Dialog, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

export interface ApiKey { id: string; name: string; subject: string; roles: string[]; created_at: string; expires_at: string | null; last_used_at: string | null; revoked_at: string | null }
export const IDENTITY_ENDPOINTS = ['GET /admin/api/keys', 'POST /admin/api/keys', 'DELETE /admin/api/keys/{id}', 'GET /admin/api/roles', 'GET /admin/api/settings', 'GET /admin/api/whoami'];
/** The settings that say how a token's claims become the principal (docs/security.md). */
export const MAPPING_SETTINGS: Array<[string, string]> = [['GW_OIDC_ISSUER', 'Identity provider'], ['GW_OIDC_ROLES_CLAIMS', 'Roles from'], ['GW_OIDC_CLIENT_ID_CLAIMS', 'Client app from'], ['GW_OIDC_TENANT_CLAIMS', 'Tenant from'], ['GW_OIDC_REQUIRED_SCOPES', 'Required scopes'], ['GW_ADMIN_ROLE', 'Admin role']];

export function IdentitiesPage({ principal }: { principal: Principal | null }) {
  useTitle('Identities');
  const toast = useToast();
  const keys = useApi<{ keys: ApiKey[] }>('/keys');
  const roles = useApi<Page<RoleDef>>('/roles');
  const settings = useApi<Page<Setting>>('/settings');
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ key: string; name: string } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);

  const revoke = async (k: ApiKey) => {
    if (!window.confirm(`Revoke the key "${k.name}"? Clients using it are refused from now on.`)) return;
    setBusy(k.id);
    setErr(null);
    try {
      await api(`/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
      toast('ok', `Revoked ${k.name}`);
      keys.reload();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(null);
    }
  };
  const list = (keys.data?.keys || []).filter((k) => showRevoked || !k.revoked_at);
  return (
    <>
      <PageHeader title="Identities" subtitle="API keys for services and development, roles, and how your identity provider's claims become a principal." />
      {principal && (
        <div className="notice notice-blue"><Icon name="info" size={16} /> You are <strong>{principal.subject}</strong> ({principal.method === 'api_key' ? 'API key' : principal.method}){principal.tenant ? `, tenant ${principal.tenant}` : ''}, roles: {principal.roles.length ? principal.roles.join(', ') : 'none'}.</div>
      )}
      <Card title="API keys" actions={keys.data && <>
        <label className="check"><input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> Show revoked</label>
        <Button kind="primary" icon="plus" onClick={() => setCreating(true)}>New API key</Button>
      </>}>
        <InlineError error={err} />
        {keys.error ? <ErrorState error={keys.error} onRetry={keys.reload} feature="API keys" endpoints={IDENTITY_ENDPOINTS.slice(0, 3)} /> : !keys.data ? <Loading /> : list.length === 0 ? (
          <EmptyState icon="key" title="No API keys" action={<Button kind="primary" onClick={() => setCreating(true)}>Create an API key</Button>}>Keys let services and scripts call the gateway as a principal with roles.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th scope="col">Name</th><th scope="col">Principal</th><th scope="col">Roles</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.id} className={k.revoked_at ? 'dim' : ''}>
                    <td><strong>{k.name}</strong><div className="row-sub mono">{k.id}</div></td>
                    <td className="mono small">{k.subject}</td>
                    <td>{k.roles.map((r) => <Badge key={r} tone={r === 'admin' ? 'violet' : 'neutral'}>{r}</Badge>)}</td>
                    <td><Time iso={k.created_at} /></td>
                    <td>{k.expires_at ? <Time iso={k.expires_at} /> : <span className="muted">never</span>}</td>
                    <td>{k.last_used_at ? <Time iso={k.last_used_at} /> : <span className="muted">never</span>}</td>
                    <td>{k.revoked_at ? <Badge tone="red">revoked</Badge> : <Button kind="ghost" busy={busy === k.id} onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>Revoke</Button>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <div className="grid-2">
        <Card title="Roles">
          {roles.error ? (roles.error.notAvailable ? <NotAvailable feature="The role list" endpoints={['GET /admin/api/roles']} /> : <ErrorState error={roles.error} />) : !roles.data ? <Loading /> : (
            roles.data.items.length === 0 ? <p className="muted">No roles are declared in the governance rules.</p> : <ul className="member-list">{roles.data.items.map((r) => <li key={r.name}><Badge tone={r.name === 'admin' ? 'violet' : 'blue'}>{r.name}</Badge> <RiskBadge risk={r.max_risk} /> <span className="muted small">{r.description}</span></li>)}</ul>
          )}
        </Card>
        <Card title="Claim mapping">
          {settings.error ? <ErrorState error={settings.error} /> : !settings.data ? <Loading /> : (
            <dl className="kv">
              {MAPPING_SETTINGS.map(([name, label]) => {
                const v = settings.data?.items.find((x) => x.name === name);
                return [<dt key={`${name}-t`}>{label}</dt>, <dd key={`${name}-d`}><code>{v?.value ? v.value : '—'}</code> <span className="muted small">{name}</span></dd>];
              })}
            </dl>
          )}
        </Card>
      </div>
      <CreateKey open={creating} onClose={() => setCreating(false)} onCreated={(key, name) => { setCreating(false); setShown({ key, name }); keys.reload(); }} />
      <Dialog open={!!shown} onClose={() => setShown(null)} title="Copy the new API key now"
        footer={<Button kind="primary" onClick={() => setShown(null)}>I have stored it</Button>}>
        <p>This is the only time the key <strong>{shown?.name}</strong> is shown. The gateway keeps only its hash.</p>
        <div className="secret-box">
          <code data-testid="new-key">{shown?.key}</code>
          <Button icon="check" onClick={() => { if (shown) navigator.clipboard?.writeText(shown.key).then(() => toast('ok', 'Copied'), () => toast('error', 'Copy failed: select the key and copy it')); }}>Copy</Button>
        </div>
      </Dialog>
    </>
  );
}

function CreateKey({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (key: string, name: string) => void }) {
  const [name, setName] = useState('');
  const [subject, setSubject] = useState('');
  const [roles, setRoles] = useState('');
  const [expires, setExpires] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const body: Record<string, unknown> = { name: name.trim(), subject: subject.trim() || name.trim(), roles: roles.split(',').map((r) => r.trim()).filter(Boolean) };
      if (expires) body.expires_at = new Date(`${expires}T23:59:59Z`).toISOString();
      const k = await api<ApiKey & { key: string }>('/keys', { method: 'POST', body });
      setName(''); setSubject(''); setRoles(''); setExpires('');
      onCreated(k.key, k.name);
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="New API key"
      footer={<><Button onClick={onClose}>Cancel</Button><Button kind="primary" type="submit" form="new-key" busy={busy}>Create key</Button></>}>
      <form id="new-key" className="form" onSubmit={submit}>
        <InlineError error={err} />
        <Field label="Name" htmlFor="k-name" hint="What uses it, e.g. ci-pipeline"><input id="k-name" required value={name} onChange={(e) => setName(e.target.value)} /></Field>
        <Field label="Principal (subject)" htmlFor="k-subject" hint="The identity calls are made as (default: the name)"><input id="k-subject" value={subject} onChange={(e) => setSubject(e.target.value)} /></Field>
        <Field label="Roles (comma separated)" htmlFor="k-roles"><input id="k-roles" value={roles} onChange={(e) => setRoles(e.target.value)} placeholder="service-advisor" /></Field>
        <Field label="Expires on (optional)" htmlFor="k-exp"><input id="k-exp" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} /></Field>
      </form>
    </Dialog>
  );
}
