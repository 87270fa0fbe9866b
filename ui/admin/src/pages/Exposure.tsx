// Exposure ("who may see a tool"): the exposure rules (from the rules file and the database),
// adding, switching to dry run and removing stored ones, and "view as" a role, user, client app
// or tenant, showing exactly the tools/list that principal gets and how each call would go.
import { FormEvent, useState } from 'react';
import { api, Bundle, Page } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Switch, useToast } from '../components/ui';
import { buildRule, PRINCIPAL_SELECTORS, Rule, selectors, selectorText, Selector, TOOL_SELECTORS } from '../governance';
import { useApi, useTitle } from '../hooks';

type AsType = 'role' | 'user' | 'client' | 'tenant';
interface ViewAs {
  policyVersion: string;
  total: number;
  tools: Array<{ name: string; bundle?: string | null; risk?: string; call: 'allow' | 'confirm' | 'deny' | 'step_up' | string; via?: string[]; conditions?: string[]; reason?: string }>;
}

export const EXPOSURE_ENDPOINTS = ['GET /admin/api/exposure/rules', 'POST /admin/api/exposure/rules', 'PATCH /admin/api/exposure/rules/{id}', 'DELETE /admin/api/exposure/rules/{id}', 'GET /admin/api/exposure/preview?role=|user=|client=|tenant='];

export function Selectors({ rule, which, none }: { rule: Rule; which: Selector[]; none: string }) {
  const s = selectors(rule, which);
  if (!s.length) return <strong>{none}</strong>;
  return <>{s.map(({ sel, values }) => <div key={sel} className="mono small">{selectorText(sel, values)}</div>)}</>;
}

export function SourceBadge({ source }: { source?: string }) {
  return source === 'file' ? <Badge>rules file</Badge> : <Badge tone="blue">console</Badge>;
}

const CALL_TONE: Record<string, 'green' | 'amber' | 'red' | 'violet'> = { allow: 'green', confirm: 'amber', deny: 'red', step_up: 'violet' };

export function ExposurePage() {
  useTitle('Exposure');
  const toast = useToast();
  const rules = useApi<Page<Rule> & { policyVersion?: string }>('/exposure/rules');
  const bundles = useApi<Page<Bundle>>('/bundles', { limit: 1000 });
  const [form, setForm] = useState({ id: '', who: 'roles' as Selector | '', whoValues: '', what: 'bundles' as Selector | '', whatValues: '', effect: 'allow' as Rule['effect'], dryRun: false });
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [as, setAs] = useState<{ type: AsType; value: string }>({ type: 'role', value: '' });
  const [view, setView] = useState<(ViewAs & { as: { type: AsType; value: string } }) | null>(null);
  const [viewErr, setViewErr] = useState<unknown>(null);
  const [viewBusy, setViewBusy] = useState(false);

  if (rules.error?.notAvailable) return <><PageHeader title="Exposure" subtitle="Who may see which tools in tools/list." /><Card><NotAvailable feature="Exposure rules" endpoints={EXPOSURE_ENDPOINTS} /></Card></>;

  const runView = async (e?: FormEvent, who = as) => {
    e?.preventDefault();
    if (!who.value.trim()) return;
    setViewBusy(true);
    setViewErr(null);
    try {
      const v = await api<ViewAs>('/exposure/preview', { query: { [who.type]: who.value.trim() } });
      setView({ ...v, as: { ...who } });
    } catch (e2) {
      setViewErr(e2);
    } finally {
      setViewBusy(false);
    }
  };
  const changed = async (msg: string) => {
    toast('ok', msg);
    rules.reload();
    if (view) await runView(undefined, view.as);
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const r = buildRule(form);
      await api('/exposure/rules', { method: 'POST', body: r });
      setForm({ ...form, id: '', whoValues: '', whatValues: '' });
      await changed(`Rule ${r.id} added`);
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  const del = async (r: Rule) => {
    setErr(null);
    try {
      await api(`/exposure/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' });
      await changed(`Rule ${r.id} removed`);
    } catch (e2) {
      setErr(e2);
    }
  };
  const setMode = async (r: Rule, dry: boolean) => {
    setErr(null);
    try {
      await api(`/exposure/rules/${encodeURIComponent(r.id)}`, { method: 'PATCH', body: { mode: dry ? 'dry_run' : 'enforce' } });
      await changed(`${r.id}: ${dry ? 'dry run' : 'enforced'}`);
    } catch (e2) {
      setErr(e2);
    }
  };

  return (
    <>
      <PageHeader title="Exposure" subtitle={<>Who may see which tools in tools/list. A tool no rule shows to a caller is invisible to it, and calling it answers as if it did not exist. Deny wins over allow.{rules.data?.policyVersion && <> Policy version <span className="mono">{rules.data.policyVersion}</span>.</>}</>} />
      <InlineError error={err} />
      <div className="stack">
        <Card title="Rules">
          {rules.error ? <ErrorState error={rules.error} onRetry={rules.reload} /> : !rules.data ? <Loading /> : rules.data.items.length === 0 ? (
            <EmptyState icon="exposure" title="No exposure rules">Governance is off until rules exist: every caller sees every active tool. Add a rule to show a product or a tool to a role, a user or a client app.</EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead><tr><th scope="col">Rule</th><th scope="col">Who</th><th scope="col">Sees</th><th scope="col">Effect</th><th scope="col"><span className="sr-only">Mode and actions</span></th></tr></thead>
                <tbody>
                  {rules.data.items.map((r) => (
                    <tr key={r.id}>
                      <td><span className="mono">{r.id}</span> <SourceBadge source={r.source} />{r.description && <div className="row-sub">{r.description}</div>}</td>
                      <td><Selectors rule={r} which={PRINCIPAL_SELECTORS} none="everyone" /></td>
                      <td><Selectors rule={r} which={TOOL_SELECTORS} none="all tools" /></td>
                      <td><Badge tone={r.effect === 'allow' ? 'green' : 'red'}>{r.effect}</Badge>{r.mode === 'dry_run' && <> <Badge tone="violet">dry run</Badge></>}</td>
                      <td>{r.source === 'database' ? (
                        <div className="row-actions">
                          <Switch label="Dry run" what={r.id} checked={r.mode === 'dry_run'} onChange={(v) => setMode(r, v)} />
                          <Button kind="ghost" onClick={() => del(r)} aria-label={`Remove rule ${r.id}`}>Remove</Button>
                        </div>
                      ) : <span className="muted small" title="change it in the rules file">read-only</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <form className="form rule-form" onSubmit={add}>
            <h3 className="h4">Add a rule</h3>
            <div className="grid-rule">
              <Field label="Rule id" htmlFor="x-id"><input id="x-id" required value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} placeholder="advisors-see-booking" /></Field>
              <Field label="Who" htmlFor="x-who"><select id="x-who" value={form.who} onChange={(e) => setForm({ ...form, who: e.target.value as Selector | '' })}><option value="roles">roles</option><option value="subjects">users</option><option value="clients">client apps</option><option value="tenants">tenants</option><option value="">everyone</option></select></Field>
              {form.who && <Field label={form.who === 'subjects' ? 'Users (comma separated)' : form.who === 'clients' ? 'Client ids (comma separated)' : form.who === 'tenants' ? 'Tenants (comma separated)' : 'Roles (comma separated)'} htmlFor="x-whov"><input id="x-whov" required value={form.whoValues} onChange={(e) => setForm({ ...form, whoValues: e.target.value })} placeholder={form.who === 'roles' ? 'customer-care' : ''} /></Field>}
              <Field label="Sees" htmlFor="x-what"><select id="x-what" value={form.what} onChange={(e) => setForm({ ...form, what: e.target.value as Selector | '' })}><option value="bundles">an API product</option><option value="tools">tools</option><option value="risk">tools of a risk</option><option value="tags">tools with a tag</option><option value="">all tools</option></select></Field>
              {form.what === 'bundles' && <Field label="API product" htmlFor="x-whatv"><select id="x-whatv" required value={form.whatValues} onChange={(e) => setForm({ ...form, whatValues: e.target.value })}><option value="">Choose…</option>{(bundles.data?.items || []).map((b) => <option key={b.name} value={b.name}>{b.title || b.name}</option>)}</select></Field>}
              {form.what === 'risk' && <Field label="Risk" htmlFor="x-whatv"><select id="x-whatv" required value={form.whatValues} onChange={(e) => setForm({ ...form, whatValues: e.target.value })}><option value="">Choose…</option><option value="read">read</option><option value="write">write</option><option value="privileged">privileged</option></select></Field>}
              {(form.what === 'tools' || form.what === 'tags') && <Field label={form.what === 'tools' ? 'Tool names (comma separated)' : 'Tags (comma separated)'} htmlFor="x-whatv"><input id="x-whatv" required value={form.whatValues} onChange={(e) => setForm({ ...form, whatValues: e.target.value })} /></Field>}
              <Field label="Effect" htmlFor="x-effect"><select id="x-effect" value={form.effect} onChange={(e) => setForm({ ...form, effect: e.target.value as Rule['effect'] })}><option value="allow">allow (show)</option><option value="deny">deny (hide)</option></select></Field>
            </div>
            <Switch label="Dry run (record what it would hide, hide nothing)" checked={form.dryRun} onChange={(v) => setForm({ ...form, dryRun: v })} />
            <Button kind="primary" type="submit" icon="plus" busy={busy}>Add rule</Button>
          </form>
        </Card>
        <Card title="View as">
          <form className="form" onSubmit={runView}>
            <div className="inline-fields">
              <label className="sr-only" htmlFor="va-type">Principal type</label>
              <select id="va-type" value={as.type} onChange={(e) => setAs({ ...as, type: e.target.value as AsType })}><option value="role">role</option><option value="user">user</option><option value="client">client app</option><option value="tenant">tenant</option></select>
              <label className="sr-only" htmlFor="va-value">Principal</label>
              <input id="va-value" value={as.value} onChange={(e) => setAs({ ...as, value: e.target.value })} placeholder={as.type === 'role' ? 'customer-care' : ''} />
              <Button kind="primary" type="submit" icon="exposure" busy={viewBusy}>View as</Button>
            </div>
          </form>
          <InlineError error={viewErr} />
          {view ? (
            <div data-testid="view-as">
              <p><strong>{view.total}</strong> tool{view.total === 1 ? '' : 's'} visible to {view.as.type} <span className="mono">{view.as.value}</span></p>
              {view.tools.length === 0 ? <p className="muted">This principal sees no tool.</p> : (
                <ul className="member-list cols-2">{view.tools.map((t) => (
                  <li key={t.name}>
                    <span className="mono">{t.name}</span> <RiskBadge risk={t.risk} /> <Badge tone={CALL_TONE[t.call] || 'neutral'}>{t.call === 'step_up' ? 'step-up' : t.call}</Badge>
                    {t.bundle && <span className="muted small"> {t.bundle}</span>}
                    {(t.via?.length || t.conditions?.length || t.reason) && <div className="row-sub">{t.via?.length ? `shown by ${t.via.join(', ')}` : ''}{t.conditions?.length ? ` · conditions: ${t.conditions.join(', ')}` : ''}{t.reason ? ` · ${t.reason}` : ''}</div>}
                  </li>
                ))}</ul>
              )}
            </div>
          ) : <p className="muted"><Icon name="info" size={14} /> Shows exactly the tools/list a role, user, client app or tenant gets, and whether each call would run, ask for confirmation or be refused.</p>}
        </Card>
      </div>
    </>
  );
}
