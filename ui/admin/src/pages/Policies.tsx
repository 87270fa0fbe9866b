// Policies ("who may execute"): the roles' risk ceilings and the policy rules (allow, deny,
// confirm; conditions in JSON Logic) with their enforce / dry-run mode, and a tester: a
// principal, a tool and arguments -> the decision, why, what would allow it and the rules that
// fired, exactly as a real call would be decided.
import { FormEvent, useState } from 'react';
import { api, Page } from '../api';
import { Badge, Button, Card, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Switch, Time, useToast } from '../components/ui';
import { PRINCIPAL_SELECTORS, RoleDef, Rule, splitList, TOOL_SELECTORS } from '../governance';
import { useApi, useTitle } from '../hooks';
import { Selectors, SourceBadge } from './Exposure';

export interface Decision {
  decision: 'allow' | 'deny' | 'confirm' | 'hidden';
  reasons: string[];
  hint?: string;
  rule?: string;
  stage?: string;
  fired: Array<{ id: string; section: string; effect: string; mode: string }>;
  exposure?: { visible: boolean; via?: string[] };
  policyVersion?: string;
}

export const POLICY_ENDPOINTS = ['GET /admin/api/policies', 'PATCH /admin/api/policies/{id}', 'POST /admin/api/policies/test', 'GET /admin/api/roles', 'GET /admin/api/audit?decision=deny'];
interface Denial { id: string; time: string; subject: string; clientId?: string; tool?: string; reasons: string[]; event?: { decisions?: Array<{ handler: string; verdict: string; rule_id?: string }> } }

const EFFECT_TONE = { allow: 'green', deny: 'red', confirm: 'amber' } as const;

/** The tester's form -> the request body of POST /policies/test; throws a message on bad JSON. */
export function testBody(t: { subject: string; roles: string; clientId: string; tenant: string; claims: string; tool: string; args: string }) {
  const parse = (what: string, s: string) => {
    try {
      const v = JSON.parse(s.trim() || '{}');
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error();
      return v;
    } catch {
      throw new Error(`The ${what} are not a JSON object.`);
    }
  };
  return {
    principal: { subject: t.subject.trim() || 'tester', roles: splitList(t.roles), client_id: t.clientId.trim(), tenant: t.tenant.trim(), claims: parse('claims', t.claims) },
    tool: t.tool.trim(),
    arguments: parse('arguments', t.args),
  };
}

export function PoliciesPage() {
  useTitle('Policies');
  const toast = useToast();
  const policies = useApi<Page<Rule> & { policyVersion?: string }>('/policies');
  const roles = useApi<Page<RoleDef>>('/roles');
  const denials = useApi<Page<Denial>>('/audit', { decision: 'deny', limit: 20 }, { refreshMs: 15000 });
  const [t, setT] = useState({ subject: '', roles: '', clientId: '', tenant: '', claims: '{}', tool: '', args: '{}' });
  const [res, setRes] = useState<Decision | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [testErr, setTestErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (policies.error?.notAvailable) return <><PageHeader title="Policies" subtitle="Who may execute which tools." /><Card><NotAvailable feature="Policies and the authorization tester" endpoints={POLICY_ENDPOINTS} /></Card></>;

  const setMode = async (p: Rule, dry: boolean) => {
    setErr(null);
    try {
      await api(`/policies/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { mode: dry ? 'dry_run' : 'enforce' } });
      toast('ok', `${p.id}: ${dry ? 'dry run' : 'enforced'}`);
      policies.reload();
    } catch (e) {
      setErr(e);
    }
  };
  const test = async (e: FormEvent) => {
    e.preventDefault();
    setTestErr(null);
    let body;
    try { body = testBody(t); } catch (e2) { setTestErr((e2 as Error).message); return; }
    setBusy(true);
    try {
      setRes(await api<Decision>('/policies/test', { method: 'POST', body }));
    } catch (e2) {
      setTestErr(e2);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader title="Policies" subtitle={<>Who may execute which tools: each role's highest risk, elevation for privileged tools, then the rules (deny wins; confirm asks the user). Dry-run rules record what they would refuse without refusing.{policies.data?.policyVersion && <> Policy version <span className="mono">{policies.data.policyVersion}</span>.</>}</>} />
      <InlineError error={err} />
      <div className="grid-2">
        <Card title="Rules">
          {policies.error ? <ErrorState error={policies.error} onRetry={policies.reload} /> : !policies.data ? <Loading /> : policies.data.items.length === 0 ? <EmptyState icon="policies" title="No policy rules">Only the roles' risk ceilings and elevation apply.</EmptyState> : (
            <ul className="policy-list">
              {policies.data.items.map((p) => (
                <li key={p.id}>
                  <div><strong className="mono">{p.id}</strong> <Badge tone={EFFECT_TONE[p.effect]}>{p.effect}</Badge> <SourceBadge source={p.source} />{p.mode === 'dry_run' && <> <Badge tone="violet">dry run</Badge></>}</div>
                  {p.description && <div className="row-sub">{p.description}</div>}
                  <div className="small"><Selectors rule={p} which={PRINCIPAL_SELECTORS} none="everyone" /> <Selectors rule={p} which={TOOL_SELECTORS} none="every tool" /></div>
                  {p.when !== undefined && <code className="small wrap">when {JSON.stringify(p.when)}</code>}
                  {p.reason && <div className="small">Says: “{p.reason}”{p.hint && <> — {p.hint}</>}</div>}
                  {p.source === 'database' && <Switch label="Dry run" what={p.id} checked={p.mode === 'dry_run'} onChange={(v) => setMode(p, v)} />}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Test a decision">
          <form className="form" onSubmit={test}>
            <div className="grid-2 tight">
              <Field label="User (subject)" htmlFor="pt-sub"><input id="pt-sub" value={t.subject} onChange={(e) => setT({ ...t, subject: e.target.value })} placeholder="advisor@msil.example" /></Field>
              <Field label="Roles (comma separated)" htmlFor="pt-roles"><input id="pt-roles" value={t.roles} onChange={(e) => setT({ ...t, roles: e.target.value })} placeholder="customer-care" /></Field>
              <Field label="Client app" htmlFor="pt-client"><input id="pt-client" value={t.clientId} onChange={(e) => setT({ ...t, clientId: e.target.value })} /></Field>
              <Field label="Tenant" htmlFor="pt-tenant"><input id="pt-tenant" value={t.tenant} onChange={(e) => setT({ ...t, tenant: e.target.value })} /></Field>
              <Field label="Tool" htmlFor="pt-tool"><input id="pt-tool" required value={t.tool} onChange={(e) => setT({ ...t, tool: e.target.value })} placeholder="create_booking" /></Field>
              <Field label="Claims (JSON)" htmlFor="pt-claims"><input id="pt-claims" className="mono" value={t.claims} onChange={(e) => setT({ ...t, claims: e.target.value })} placeholder='{"dealer_ids":["MSIL-PUNE-001"]}' /></Field>
            </div>
            <Field label="Arguments (JSON)" htmlFor="pt-args"><textarea id="pt-args" className="mono" rows={4} value={t.args} onChange={(e) => setT({ ...t, args: e.target.value })} /></Field>
            <Button kind="primary" type="submit" busy={busy}>Evaluate</Button>
          </form>
          <InlineError error={testErr} />
          {res && (
            <div className={`decision decision-${res.decision}`} data-testid="decision" role="status">
              <div className="decision-head">Decision: <strong>{res.decision === 'hidden' ? 'hidden (not exposed to this principal)' : res.decision}</strong>{res.rule && <> by <span className="mono">{res.rule}</span></>}</div>
              {res.reasons.length > 0 && <ul>{res.reasons.map((r) => <li key={r}>{r}</li>)}</ul>}
              {res.hint && <p className="small">What would allow it: {res.hint}</p>}
              <div className="small">Rules that fired: {res.fired.length ? res.fired.map((f) => <Badge key={`${f.section}:${f.id}`} tone={f.mode === 'dry_run' ? 'violet' : 'blue'}>{f.id} ({f.section === 'exposure' ? 'exposure' : f.effect}){f.mode === 'dry_run' ? ' dry run' : ''}</Badge>) : 'none'}</div>
            </div>
          )}
        </Card>
      </div>
      <Card title="Recent denials">
        {denials.error ? (denials.error.notAvailable ? <p className="muted">The audit trail is not available on this gateway.</p> : <ErrorState error={denials.error} />) : !denials.data ? <Loading /> : denials.data.items.length === 0 ? <p className="muted">No call was refused lately.</p> : (
          <div className="table-wrap"><table className="table"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Tool</th><th scope="col">Rule</th><th scope="col">Why</th></tr></thead><tbody>
            {denials.data.items.map((d) => {
              const rule = d.event?.decisions?.find((x) => x.verdict === 'deny' || x.verdict === 'dry_run_deny');
              return <tr key={d.id}><td><Time iso={d.time} /></td><td className="mono small">{d.subject}{d.clientId ? ` via ${d.clientId}` : ''}</td><td className="mono">{d.tool || '—'}</td><td className="mono small">{rule?.rule_id || rule?.handler || '—'}</td><td>{d.reasons[0] || '—'}</td></tr>;
            })}
          </tbody></table></div>
        )}
      </Card>
      <Card title="Roles">
        {roles.error ? <ErrorState error={roles.error} /> : !roles.data ? <Loading /> : roles.data.items.length === 0 ? <p className="muted">No roles are declared: risk ceilings do not apply.</p> : (
          <div className="table-wrap"><table className="table"><thead><tr><th scope="col">Role</th><th scope="col">Highest risk it may execute</th><th scope="col">About</th><th scope="col">Defined in</th></tr></thead><tbody>
            {roles.data.items.map((r) => <tr key={r.name}><td className="mono">{r.name}</td><td><RiskBadge risk={r.max_risk} /></td><td>{r.description || '—'}</td><td><SourceBadge source={r.source} /></td></tr>)}
          </tbody></table></div>
        )}
      </Card>
    </>
  );
}
