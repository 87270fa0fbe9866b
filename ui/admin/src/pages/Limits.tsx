// Rate limits: the rules (from the environment, the rules file and the console) with their
// mode, adding one, dry run and removal of stored ones; the limiter's counters (backend, checks,
// refusals, Redis); and who was refused lately (from the audit trail).
import { FormEvent, useMemo, useState } from 'react';
import { api } from '../api';
import { Badge, Button, Card, EmptyState, ErrorState, Field, fmtInt, InlineError, Loading, NotAvailable, PageHeader, Stat, Switch, Time, useToast } from '../components/ui';
import { splitList } from '../governance';
import { useApi, useTitle } from '../hooks';

export interface LimitRule {
  id: string; description?: string; scope: 'call' | 'http'; limit: number; period: number; burst?: number;
  per?: string[]; match?: Record<string, string[]>; mode: 'enforce' | 'dry_run'; enabled: boolean; source: 'env' | 'file' | 'db';
}
interface LimitStatus {
  backend: 'memory' | 'redis'; rules: number; checks: number; allowed: number; limited: number; httpLimited: number; dryRunLimited: number;
  backendErrors: number; failLocal: number; failOpen: number; failClosed: number;
  redis?: { enabled: boolean; connections?: number; ready?: number; subscriberReady?: boolean };
}
interface AuditItem { id: string; time: string; subject: string; tool?: string; reasons: string[]; event?: { decisions?: Array<{ handler: string; verdict: string; rule_id?: string }> } }
export const LIMIT_ENDPOINTS = ['GET /admin/api/limits', 'POST /admin/api/limits', 'PATCH /admin/api/limits/{id}', 'DELETE /admin/api/limits/{id}'];

/** "2 per 1 min", "300 per 1 h" */
export function rateText(limit: number, period: number): string {
  const unit = period % 86400 === 0 ? [86400, 'day'] : period % 3600 === 0 ? [3600, 'h'] : period % 60 === 0 ? [60, 'min'] : [1, 's'];
  return `${fmtInt(limit)} per ${period / (unit[0] as number)} ${unit[1]}`;
}

/** Refusals by a rate limit in a page of audit records, grouped by caller, tool and rule. */
export function refusals(items: AuditItem[]) {
  const by = new Map<string, { subject: string; tool: string; rule: string; count: number; last: string }>();
  for (const it of items) {
    const d = it.event?.decisions?.find((x) => x.handler === 'ratelimit' && x.verdict === 'deny');
    if (!d) continue;
    const k = `${it.subject}\u0000${it.tool || ''}\u0000${d.rule_id || ''}`;
    const e = by.get(k);
    if (e) { e.count++; if (it.time > e.last) e.last = it.time; } else by.set(k, { subject: it.subject, tool: it.tool || '—', rule: d.rule_id || '—', count: 1, last: it.time });
  }
  return [...by.values()].sort((a, b) => (a.last < b.last ? 1 : -1));
}

const SOURCE: Record<LimitRule['source'], string> = { env: 'environment', file: 'rules file', db: 'console' };

export function LimitsPage() {
  useTitle('Rate limits');
  const toast = useToast();
  const limits = useApi<{ rules: LimitRule[]; status: LimitStatus }>('/limits', undefined, { refreshMs: 10000 });
  const denied = useApi<{ items: AuditItem[] }>('/audit', { decision: 'deny', limit: 200 }, { refreshMs: 10000 });
  const recent = useMemo(() => refusals(denied.data?.items || []), [denied.data]);
  const [form, setForm] = useState({ id: '', rate: '60/min', per: 'user', tools: '', dryRun: false });
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const header = <PageHeader title="Rate limits" subtitle="Calls per user, client app, tool, role, tenant or address, shared by every replica (Redis). A refused call tells the agent when to retry." />;
  if (limits.error?.notAvailable) return <>{header}<Card><NotAvailable feature="Rate limits" endpoints={LIMIT_ENDPOINTS} /></Card></>;

  const write = async (what: string, fn: () => Promise<unknown>) => {
    setErr(null);
    try { await fn(); toast('ok', what); limits.reload(); } catch (e) { setErr(e); }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const rule: Record<string, unknown> = { id: form.id.trim(), rate: form.rate.trim(), per: splitList(form.per) };
    if (splitList(form.tools).length) rule.match = { tools: splitList(form.tools) };
    if (form.dryRun) rule.mode = 'dry_run';
    await write(`Limit ${form.id.trim()} added`, () => api('/limits', { method: 'POST', body: rule }));
    setBusy(false);
  };
  const st = limits.data?.status;
  return (
    <>
      {header}
      <InlineError error={err} />
      {st && (
        <div className="stats">
          <Stat label="Backend" value={st.backend === 'redis' ? 'Redis (shared)' : 'in process'} hint={st.redis?.enabled ? `${st.redis.ready ?? 0} of ${st.redis.connections ?? 0} connections ready` : 'per replica'} tone={st.backend === 'redis' && st.redis && st.redis.ready === 0 ? 'red' : undefined} />
          <Stat label="Checked" value={fmtInt(st.checks)} hint={`${fmtInt(st.allowed)} allowed`} />
          <Stat label="Refused" value={fmtInt(st.limited + st.httpLimited)} hint={`${fmtInt(st.dryRunLimited)} would be (dry run)`} tone={st.limited + st.httpLimited ? 'amber' : undefined} />
          <Stat label="Limiter failures" value={fmtInt(st.backendErrors)} hint={`${fmtInt(st.failClosed)} refused, ${fmtInt(st.failOpen)} let through, ${fmtInt(st.failLocal)} counted locally`} tone={st.backendErrors ? 'red' : undefined} />
        </div>
      )}
      <div className="grid-2 top">
        <Card title="Rules">
          {limits.error ? <ErrorState error={limits.error} onRetry={limits.reload} /> : !limits.data ? <Loading /> : limits.data.rules.length === 0 ? <EmptyState icon="limits" title="No rate limit rules">Nothing is limited. Add a rule below, or set GW_RATELIMIT_HTTP_PER_IP / GW_RATELIMIT_RULES_FILE.</EmptyState> : (
            <div className="table-wrap"><table className="table"><thead><tr><th scope="col">Rule</th><th scope="col">Counted per</th><th scope="col">Limit</th><th scope="col"><span className="sr-only">Mode and actions</span></th></tr></thead><tbody>
              {limits.data.rules.map((r) => (
                <tr key={r.id}>
                  <td><span className="mono">{r.id}</span> <Badge>{SOURCE[r.source]}</Badge>{r.scope === 'http' && <> <Badge tone="blue">HTTP</Badge></>}
                    {r.match && Object.keys(r.match).length > 0 && <div className="row-sub mono">{Object.entries(r.match).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ')}</div>}
                    {r.description && <div className="row-sub">{r.description}</div>}</td>
                  <td>{r.per?.length ? r.per.join(' + ') : 'everyone together'}</td>
                  <td>{rateText(r.limit, r.period)}{r.burst && r.burst !== r.limit ? ` (burst ${fmtInt(r.burst)})` : ''}</td>
                  <td>{!r.enabled ? <Badge>off</Badge> : r.mode === 'dry_run' ? <Badge tone="violet">dry run</Badge> : <Badge tone="green">enforced</Badge>}
                    {r.source === 'db' && (
                      <div className="row-actions">
                        <Switch label="Dry run" what={r.id} checked={r.mode === 'dry_run'} onChange={(v) => write(`${r.id}: ${v ? 'dry run' : 'enforced'}`, () => api(`/limits/${encodeURIComponent(r.id)}`, { method: 'PATCH', body: { mode: v ? 'dry_run' : 'enforce' } }))} />
                        <Button kind="ghost" aria-label={`Remove limit ${r.id}`} onClick={() => write(`Limit ${r.id} removed`, () => api(`/limits/${encodeURIComponent(r.id)}`, { method: 'DELETE' }))}>Remove</Button>
                      </div>
                    )}</td>
                </tr>
              ))}
            </tbody></table></div>
          )}
          <form className="form rule-form" onSubmit={add}>
            <h3 className="h4">Add a limit</h3>
            <div className="grid-rule">
              <Field label="Limit id" htmlFor="l-id"><input id="l-id" required pattern="[A-Za-z0-9_.:\-]{1,64}" value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} placeholder="writes-per-user" /></Field>
              <Field label="Rate" htmlFor="l-rate" hint="e.g. 60/min, 10/hour, 5/30s"><input id="l-rate" required value={form.rate} onChange={(e) => setForm({ ...form, rate: e.target.value })} /></Field>
              <Field label="Counted per" htmlFor="l-per"><select id="l-per" value={form.per} onChange={(e) => setForm({ ...form, per: e.target.value })}><option value="user">user</option><option value="client">client app</option><option value="tool">tool</option><option value="role">role</option><option value="tenant">tenant</option><option value="user,tool">user and tool</option><option value="">everyone together</option></select></Field>
              <Field label="Only these tools (comma separated, empty: all)" htmlFor="l-tools"><input id="l-tools" value={form.tools} onChange={(e) => setForm({ ...form, tools: e.target.value })} placeholder="cancel_booking" /></Field>
            </div>
            <Switch label="Dry run (count and record, refuse nothing)" checked={form.dryRun} onChange={(v) => setForm({ ...form, dryRun: v })} />
            <Button kind="primary" type="submit" icon="plus" busy={busy}>Add limit</Button>
          </form>
        </Card>
        <Card title="Refused lately">
          {denied.error ? (denied.error.notAvailable ? <p className="muted">The audit trail is not available on this gateway.</p> : <ErrorState error={denied.error} />) : !denied.data ? <Loading /> : recent.length === 0 ? <p className="muted">Nobody was refused by a rate limit lately.</p> : (
            <div className="table-wrap" data-testid="refusals"><table className="table"><thead><tr><th scope="col">Who</th><th scope="col">Tool</th><th scope="col">Limit</th><th scope="col">Refused</th><th scope="col">Last</th></tr></thead><tbody>
              {recent.map((x) => <tr key={`${x.subject}:${x.tool}:${x.rule}`}><td className="mono small">{x.subject}</td><td className="mono">{x.tool}</td><td className="mono">{x.rule}</td><td>{fmtInt(x.count)}</td><td><Time iso={x.last} /></td></tr>)}
            </tbody></table></div>
          )}
        </Card>
      </div>
    </>
  );
}
