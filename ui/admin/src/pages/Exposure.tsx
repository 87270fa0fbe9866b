// Exposure (Layer B, "who may see a tool"): the rules, adding and removing them, and "view
// as" a role, user or client app, showing exactly the tool list that principal gets.
import { FormEvent, useState } from 'react';
import { api, Bundle, Page } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

export type PrincipalType = 'role' | 'user' | 'client';
export interface ExposureRule {
  id: string;
  principal: { type: PrincipalType; value: string };
  target: { type: 'all' | 'bundle' | 'tool'; value?: string | null };
  effect: 'allow' | 'deny';
  createdAt?: string;
  createdBy?: string;
}
interface ViewAs { principal: { type: PrincipalType; value: string }; total: number; tools: Array<{ name: string; bundle?: string | null; risk?: string; via?: string[] }> }

export const EXPOSURE_ENDPOINTS = ['GET /admin/api/exposure/rules', 'POST /admin/api/exposure/rules', 'DELETE /admin/api/exposure/rules/{id}', 'GET /admin/api/exposure/preview?role=|user=|client='];

export function ExposurePage() {
  useTitle('Exposure');
  const toast = useToast();
  const rules = useApi<Page<ExposureRule>>('/exposure/rules', { limit: 1000 });
  const bundles = useApi<Page<Bundle>>('/bundles', { limit: 1000 });
  const [form, setForm] = useState({ ptype: 'role' as PrincipalType, pvalue: '', ttype: 'bundle' as ExposureRule['target']['type'], tvalue: '', effect: 'allow' as 'allow' | 'deny' });
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [as, setAs] = useState<{ type: PrincipalType; value: string }>({ type: 'role', value: '' });
  const [view, setView] = useState<ViewAs | null>(null);
  const [viewErr, setViewErr] = useState<unknown>(null);
  const [viewBusy, setViewBusy] = useState(false);

  if (rules.error?.notAvailable) return <><PageHeader title="Exposure" subtitle="Who may see which tools in tools/list." /><Card><NotAvailable feature="Exposure rules" endpoints={EXPOSURE_ENDPOINTS} /></Card></>;

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await api('/exposure/rules', { method: 'POST', body: { principal: { type: form.ptype, value: form.pvalue.trim() }, target: { type: form.ttype, value: form.ttype === 'all' ? null : form.tvalue.trim() }, effect: form.effect } });
      toast('ok', 'Rule added');
      setForm({ ...form, pvalue: '', tvalue: '' });
      rules.reload();
      if (view) await runView();
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  const del = async (r: ExposureRule) => {
    try {
      await api(`/exposure/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' });
      toast('ok', 'Rule removed');
      rules.reload();
    } catch (e2) {
      setErr(e2);
    }
  };
  const runView = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!as.value.trim()) return;
    setViewBusy(true);
    setViewErr(null);
    try {
      setView(await api<ViewAs>('/exposure/preview', { query: { [as.type]: as.value.trim() } }));
    } catch (e2) {
      setViewErr(e2);
    } finally {
      setViewBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Exposure" subtitle="Who may see which tools in tools/list (Layer B). A tool nobody is exposed to is invisible, even if active." />
      <div className="grid-2">
        <Card title="Rules">
          <InlineError error={err} />
          {rules.error ? <ErrorState error={rules.error} onRetry={rules.reload} /> : !rules.data ? <Loading /> : rules.data.items.length === 0 ? (
            <EmptyState icon="exposure" title="No exposure rules">Add a rule to expose a product or a tool to a role, a user or a client app.</EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <thead><tr><th scope="col">Who</th><th scope="col">Sees</th><th scope="col">Effect</th><th scope="col">Added</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {rules.data.items.map((r) => (
                    <tr key={r.id}>
                      <td><Badge tone="blue">{r.principal.type}</Badge> <span className="mono">{r.principal.value}</span></td>
                      <td>{r.target.type === 'all' ? <strong>all tools</strong> : <><span className="muted">{r.target.type}</span> <span className="mono">{r.target.value}</span></>}</td>
                      <td><Badge tone={r.effect === 'allow' ? 'green' : 'red'}>{r.effect}</Badge></td>
                      <td><Time iso={r.createdAt} /></td>
                      <td><Button kind="ghost" onClick={() => del(r)} aria-label={`Remove rule ${r.id}`}>Remove</Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <form className="form rule-form" onSubmit={add}>
            <h3 className="h4">Add a rule</h3>
            <div className="grid-rule">
              <Field label="Principal type" htmlFor="x-ptype"><select id="x-ptype" value={form.ptype} onChange={(e) => setForm({ ...form, ptype: e.target.value as PrincipalType })}><option value="role">role</option><option value="user">user</option><option value="client">client app</option></select></Field>
              <Field label={form.ptype === 'role' ? 'Role' : form.ptype === 'user' ? 'User (subject)' : 'Client id'} htmlFor="x-pvalue"><input id="x-pvalue" required value={form.pvalue} onChange={(e) => setForm({ ...form, pvalue: e.target.value })} placeholder={form.ptype === 'role' ? 'service-advisor' : ''} /></Field>
              <Field label="Sees" htmlFor="x-ttype"><select id="x-ttype" value={form.ttype} onChange={(e) => setForm({ ...form, ttype: e.target.value as ExposureRule['target']['type'] })}><option value="bundle">an API product</option><option value="tool">one tool</option><option value="all">all tools</option></select></Field>
              {form.ttype === 'bundle' && <Field label="API product" htmlFor="x-tvalue"><select id="x-tvalue" required value={form.tvalue} onChange={(e) => setForm({ ...form, tvalue: e.target.value })}><option value="">Choose…</option>{(bundles.data?.items || []).map((b) => <option key={b.name} value={b.name}>{b.title || b.name}</option>)}</select></Field>}
              {form.ttype === 'tool' && <Field label="Tool name" htmlFor="x-tvalue"><input id="x-tvalue" required value={form.tvalue} onChange={(e) => setForm({ ...form, tvalue: e.target.value })} /></Field>}
              <Field label="Effect" htmlFor="x-effect"><select id="x-effect" value={form.effect} onChange={(e) => setForm({ ...form, effect: e.target.value as 'allow' | 'deny' })}><option value="allow">allow</option><option value="deny">deny</option></select></Field>
            </div>
            <Button kind="primary" type="submit" icon="plus" busy={busy}>Add rule</Button>
          </form>
        </Card>
        <Card title="View as">
          <form className="form" onSubmit={runView}>
            <div className="inline-fields">
              <label className="sr-only" htmlFor="va-type">Principal type</label>
              <select id="va-type" value={as.type} onChange={(e) => setAs({ ...as, type: e.target.value as PrincipalType })}><option value="role">role</option><option value="user">user</option><option value="client">client app</option></select>
              <label className="sr-only" htmlFor="va-value">Principal</label>
              <input id="va-value" value={as.value} onChange={(e) => setAs({ ...as, value: e.target.value })} placeholder="service-advisor" />
              <Button kind="primary" type="submit" icon="exposure" busy={viewBusy}>View as</Button>
            </div>
          </form>
          <InlineError error={viewErr} />
          {view ? (
            <div data-testid="view-as">
              <p><strong>{view.total}</strong> tool{view.total === 1 ? '' : 's'} visible to {view.principal.type} <span className="mono">{view.principal.value}</span></p>
              {view.tools.length === 0 ? <p className="muted">This principal sees no tool.</p> : (
                <ul className="member-list">{view.tools.map((t) => <li key={t.name}><span className="mono">{t.name}</span> <RiskBadge risk={t.risk} /> {t.bundle && <span className="muted small">{t.bundle}</span>}</li>)}</ul>
              )}
            </div>
          ) : <p className="muted"><Icon name="info" size={14} /> Shows exactly the tools/list a role, user or client app gets.</p>}
        </Card>
      </div>
    </>
  );
}
