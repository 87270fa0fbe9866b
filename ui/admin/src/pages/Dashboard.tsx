// Dashboard: traffic (calls, errors, denials, latency over time), top tools, upstream and
// breaker health and audit lag from the metrics endpoint (live, every 10 s), plus the
// catalogue at a glance from the registry endpoints.
import { useState } from 'react';
import { Link } from 'wouter';
import { Bundle, Page, Spec, Tool } from '../api';
import { BarList, LineChart } from '../components/chart';
import { Badge, Card, EmptyState, ErrorState, fmtInt, Loading, NotAvailable, PageHeader, Stat, Time } from '../components/ui';
import { useApi, useTitle } from '../hooks';

export interface MetricsSummary {
  window: number;
  step: number;
  totals: { calls: number; errors: number; denials: number; p50Ms: number; p95Ms: number };
  series: { calls: Array<[number, number]>; errors: Array<[number, number]>; denials: Array<[number, number]>; p50Ms: Array<[number, number]>; p95Ms: Array<[number, number]> };
  topTools: Array<{ name: string; calls: number; errors: number; p95Ms: number }>;
  upstreams: Array<{ name: string; breaker: 'closed' | 'open' | 'half_open'; calls: number; errors: number; p95Ms: number }>;
  audit: { lagMs: number; pending: number; lastRecordAt: string | null } | null;
}

export const METRICS_ENDPOINTS = ['GET /admin/api/metrics/summary?window=&step='];

const WINDOWS = [{ s: 900, label: '15 min' }, { s: 3600, label: '1 hour' }, { s: 21600, label: '6 hours' }, { s: 86400, label: '24 hours' }];

export function Dashboard() {
  useTitle('Dashboard');
  const [win, setWin] = useState(3600);
  const m = useApi<MetricsSummary>('/metrics/summary', { window: win, step: Math.max(15, Math.round(win / 60)) }, { refreshMs: 10000 });
  const health = useApi<{ status: string; store: string; schemaVersion: number }>('/health', undefined, { refreshMs: 10000 });
  const tools = useApi<Page<Tool> & { total: number }>('/tools', { limit: 1 });
  const active = useApi<Page<Tool> & { total: number }>('/tools', { limit: 1, status: 'active' });
  const drafts = useApi<Page<Tool> & { total: number }>('/tools', { limit: 1, status: 'draft' });
  const bundles = useApi<Page<Bundle>>('/bundles', { limit: 1000 });
  const specs = useApi<Page<Spec>>('/specs', { limit: 1000 });
  const lastImport = (specs.data?.items || []).map((s) => s.importedAt).sort().pop();
  const metricsMissing = m.error?.notAvailable;

  return (
    <>
      <PageHeader title="Dashboard" subtitle={<>Live view of the gateway{m.data ? ' · refreshed every 10 s' : ''}</>}
        actions={!metricsMissing && (
          <div className="segmented" role="group" aria-label="Time window">
            {WINDOWS.map((w) => <button key={w.s} type="button" aria-pressed={win === w.s} className={win === w.s ? 'seg active' : 'seg'} onClick={() => setWin(w.s)}>{w.label}</button>)}
          </div>
        )} />
      <div className="stats">
        <Stat label="Gateway" value={health.data ? <Badge tone={health.data.status === 'ok' ? 'green' : 'red'} dot>{health.data.status === 'ok' ? 'healthy' : health.data.status}</Badge> : health.error ? <Badge tone="red" dot>unreachable</Badge> : '…'}
          hint={health.data ? `${health.data.store} · schema v${health.data.schemaVersion}` : undefined} />
        <Stat label="Tools" value={fmtInt(tools.data?.total)} hint={<>{fmtInt(active.data?.total)} active · <Link href="/tools?status=draft">{fmtInt(drafts.data?.total)} drafts</Link></>} />
        <Stat label="API products" value={fmtInt(bundles.data?.items.length)} hint={`${(bundles.data?.items || []).filter((b) => b.status === 'disabled').length} disabled`} />
        <Stat label="Specs" value={fmtInt(specs.data?.items.length)} hint={lastImport ? <>last import <Time iso={lastImport} /></> : 'none imported yet'} />
      </div>
      {metricsMissing ? (
        <Card title="Traffic"><NotAvailable feature="Traffic metrics" endpoints={METRICS_ENDPOINTS} /></Card>
      ) : m.error ? <Card title="Traffic"><ErrorState error={m.error} onRetry={m.reload} /></Card> : !m.data ? <Card title="Traffic"><Loading /></Card> : (
        <Traffic m={m.data} />
      )}
      {!tools.loading && tools.data?.total === 0 && (
        <Card><EmptyState icon="import" title="The catalogue is empty" action={<Link href="/import" className="btn btn-primary">Import an OpenAPI spec</Link>}>Import a spec to turn its operations into MCP tools.</EmptyState></Card>
      )}
    </>
  );
}

function Traffic({ m }: { m: MetricsSummary }) {
  const t = m.totals;
  const errRate = t.calls ? (100 * t.errors) / t.calls : 0;
  return (
    <>
      <div className="stats">
        <Stat label="Calls" value={fmtInt(t.calls)} hint="tools/call in the window" />
        <Stat label="Errors" value={fmtInt(t.errors)} hint={`${errRate.toFixed(1)} % of calls`} tone={errRate > 5 ? 'red' : undefined} />
        <Stat label="Denials" value={fmtInt(t.denials)} hint="exposure, policy, rate limit" tone={t.denials ? 'amber' : undefined} />
        <Stat label="Latency p95" value={`${Math.round(t.p95Ms)} ms`} hint={`p50 ${Math.round(t.p50Ms)} ms`} />
      </div>
      <div className="grid-2">
        <Card title="Calls, errors and denials">
          <LineChart label="Calls, errors and denials per interval" series={[
            { name: 'calls', color: '#2563eb', points: m.series.calls },
            { name: 'errors', color: '#dc2626', points: m.series.errors },
            { name: 'denials', color: '#d97706', points: m.series.denials },
          ]} />
        </Card>
        <Card title="Latency">
          <LineChart label="Latency percentiles in milliseconds" unit=" ms" series={[
            { name: 'p50', color: '#0d9488', points: m.series.p50Ms },
            { name: 'p95', color: '#7c3aed', points: m.series.p95Ms },
          ]} />
        </Card>
      </div>
      <div className="grid-3">
        <Card title="Top tools">
          {m.topTools.length ? <BarList items={m.topTools.slice(0, 8).map((x) => ({ label: x.name, value: x.calls, hint: x.errors ? `${x.errors} errors` : undefined }))} /> : <p className="muted">No calls in this window.</p>}
        </Card>
        <Card title="Upstreams">
          {m.upstreams.length ? (
            <ul className="health-list">
              {m.upstreams.map((u) => (
                <li key={u.name}>
                  <span className="mono">{u.name}</span>
                  <Badge tone={u.breaker === 'closed' ? 'green' : u.breaker === 'open' ? 'red' : 'amber'} dot>breaker {u.breaker.replace('_', ' ')}</Badge>
                  <span className="muted small">{fmtInt(u.calls)} calls · {u.errors} errors · p95 {Math.round(u.p95Ms)} ms</span>
                </li>
              ))}
            </ul>
          ) : <p className="muted">No upstream called in this window.</p>}
        </Card>
        <Card title="Audit trail">
          {m.audit ? (
            <dl className="kv">
              <dt>Lag</dt><dd><Badge tone={m.audit.lagMs < 2000 ? 'green' : 'amber'} dot>{m.audit.lagMs < 1000 ? `${m.audit.lagMs} ms` : `${(m.audit.lagMs / 1000).toFixed(1)} s`}</Badge></dd>
              <dt>Pending</dt><dd>{fmtInt(m.audit.pending)} records</dd>
              <dt>Last record</dt><dd><Time iso={m.audit.lastRecordAt} /></dd>
            </dl>
          ) : <p className="muted">The audit trail reports no lag figures.</p>}
          <Link href="/audit">Open the audit log</Link>
        </Card>
      </div>
    </>
  );
}
