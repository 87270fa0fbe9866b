// Policies (Layer A, "who may execute"): the rules with their enforce / dry-run mode, a tester
// (principal, tool, arguments -> decision and the rules that fired) and recent denials.
import { FormEvent, useState } from 'react';
import { api, Page } from '../api';
import { Badge, Button, Card, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, Switch, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

interface Policy { id: string; name: string; description?: string; effect: 'allow' | 'deny' | 'confirm' | 'elevate'; when?: string; mode: 'enforce' | 'dry_run'; priority?: number; enabled: boolean }
interface Decision { decision: 'allow' | 'deny' | 'confirm' | 'elevate'; reasons: string[]; fired: Array<{ id: string; name: string; effect: string; mode: string }>; exposure?: { visible: boolean } }
interface Denial { id: string; time: string; subject: string; clientId?: string; tool: string; reason: string; policy?: string; dryRun?: boolean }

export const POLICY_ENDPOINTS = ['GET /admin/api/policies', 'PATCH /admin/api/policies/{id}', 'POST /admin/api/policies/test', 'GET /admin/api/decisions?decision=deny&limit='];

export function PoliciesPage() {
  useTitle('Policies');
  const toast = useToast();
  const policies = useApi<Page<Policy>>('/policies', { limit: 1000 });
  const denials = useApi<Page<Denial>>('/decisions', { decision: 'deny', limit: 20 }, { refreshMs: 15000 });
  const [t, setT] = useState({ subject: '', roles: '', clientId: '', tool: '', args: '{}' });
  const [res, setRes] = useState<Decision | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (policies.error?.notAvailable) return <><PageHeader title="Policies" subtitle="Who may execute which tools." /><Card><NotAvailable feature="Policies and the authorization tester" endpoints={POLICY_ENDPOINTS} /></Card></>;

  const setMode = async (p: Policy, dry: boolean) => {
    try {
      await api(`/policies/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { mode: dry ? 'dry_run' : 'enforce' } });
      toast('ok', `${p.name}: ${dry ? 'dry run' : 'enforced'}`);
      policies.reload();
    } catch (e) {
      setErr(e);
    }
  };
  const test = async (e: FormEvent) => {
    e.preventDefault();
    setErr(null);
    let args: unknown;
    try { args = JSON.parse(t.args || '{}'); } catch { setErr('The arguments are not valid JSON.'); return; }
    setBusy(true);
    try {
      setRes(await api<Decision>('/policies/test', { method: 'POST', body: { principal: { subject: t.subject, roles: t.roles.split(',').map((r) => r.trim()).filter(Boolean), clientId: t.clientId || null }, tool: t.tool, arguments: args } }));
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Policies" subtitle="Who may execute which tools (Layer A): risk, elevation, confirmation and rules. Dry-run rules record what they would deny without denying." />
      <InlineError error={err} />
      <div className="grid-2">
        <Card title="Rules">
          {policies.error ? <ErrorState error={policies.error} onRetry={policies.reload} /> : !policies.data ? <Loading /> : policies.data.items.length === 0 ? <EmptyState icon="policies" title="No policy rules">Only the built-in risk rules apply.</EmptyState> : (
            <ul className="policy-list">
              {policies.data.items.map((p) => (
                <li key={p.id}>
                  <div><strong>{p.name}</strong> <Badge tone={p.effect === 'deny' ? 'red' : p.effect === 'allow' ? 'green' : 'amber'}>{p.effect}</Badge>{!p.enabled && <Badge>off</Badge>}</div>
                  {p.description && <div className="row-sub">{p.description}</div>}
                  {p.when && <code className="small wrap">{p.when}</code>}
                  <Switch label="Dry run" checked={p.mode === 'dry_run'} onChange={(v) => setMode(p, v)} />
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Test a decision">
          <form className="form" onSubmit={test}>
            <div className="grid-2 tight">
              <Field label="User (subject)" htmlFor="pt-sub"><input id="pt-sub" value={t.subject} onChange={(e) => setT({ ...t, subject: e.target.value })} placeholder="advisor@msil.example" /></Field>
              <Field label="Roles (comma separated)" htmlFor="pt-roles"><input id="pt-roles" value={t.roles} onChange={(e) => setT({ ...t, roles: e.target.value })} placeholder="service-advisor" /></Field>
              <Field label="Client app" htmlFor="pt-client"><input id="pt-client" value={t.clientId} onChange={(e) => setT({ ...t, clientId: e.target.value })} /></Field>
              <Field label="Tool" htmlFor="pt-tool"><input id="pt-tool" required value={t.tool} onChange={(e) => setT({ ...t, tool: e.target.value })} placeholder="create_booking" /></Field>
            </div>
            <Field label="Arguments (JSON)" htmlFor="pt-args"><textarea id="pt-args" className="mono" rows={4} value={t.args} onChange={(e) => setT({ ...t, args: e.target.value })} /></Field>
            <Button kind="primary" type="submit" busy={busy}>Evaluate</Button>
          </form>
          {res && (
            <div className={`decision decision-${res.decision}`} data-testid="decision" role="status">
              <div className="decision-head">Decision: <strong>{res.decision}</strong></div>
              {res.reasons.length > 0 && <ul>{res.reasons.map((r) => <li key={r}>{r}</li>)}</ul>}
              <div className="small">Rules that fired: {res.fired.length ? res.fired.map((f) => <Badge key={f.id} tone={f.mode === 'dry_run' ? 'violet' : 'blue'}>{f.name}{f.mode === 'dry_run' ? ' (dry run)' : ''}</Badge>) : 'none'}</div>
            </div>
          )}
        </Card>
      </div>
      <Card title="Recent denials">
        {denials.error ? (denials.error.notAvailable ? <p className="muted">The decision log is not available on this gateway yet.</p> : <ErrorState error={denials.error} />) : !denials.data ? <Loading /> : denials.data.items.length === 0 ? <p className="muted">No denial recently.</p> : (
          <div className="table-wrap"><table className="table"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Tool</th><th scope="col">Why</th></tr></thead><tbody>
            {denials.data.items.map((d) => <tr key={d.id}><td><Time iso={d.time} /></td><td className="mono small">{d.subject}{d.clientId ? ` via ${d.clientId}` : ''}</td><td className="mono">{d.tool}</td><td>{d.reason}{d.dryRun && <Badge tone="violet">dry run</Badge>}</td></tr>)}
          </tbody></table></div>
        )}
      </Card>
    </>
  );
}
