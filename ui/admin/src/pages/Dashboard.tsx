// Dashboard: traffic (calls, errors, denials, latency over time), top tools, upstream and
// breaker health and audit lag from the metrics endpoint (live, every 10 s), plus the
// catalogue at a glance from the registry endpoints.
import { useState } from 'react';
import { Link } from 'wouter';
import { Bundle, Page, Spec, Tool } from '../api';
import { BarList, LineChart } from '../components/chart';
import { Badge, Card, EmptyState, ErrorState, fmtInt, Loading, NotAvailable, PageHeader, Stat, Time } from '../components/ui';
import { useApi, useTitle } from '../hooks';

type Point = [number, number | null];

/** GET /admin/api/metrics/summary (docs/admin-api.md "Metrics"): this replica's traffic. */
export interface MetricsSummary {
  window: number;
  step: number;
  from: number;
  to: number;
  replica?: string;
  totals: { calls: number; errors: number; denials: number; confirmations: number; p50Ms: number | null; p95Ms: number | null };
  series: { calls: Point[]; errors: Point[]; denials: Point[]; p50Ms: Point[]; p95Ms: Point[] };
  topTools: Array<{ name: string; calls: number; errors: number; denials: number; p50Ms: number | null; p95Ms: number | null }>;
  upstreams: Array<{ name: string; breaker: 'closed' | 'open' | 'half_open' | 'unknown'; breakerRejections?: number; calls: number; errors: number; p50Ms: number | null; p95Ms: number | null }>;
  audit: { lagMs: number | null; records: number; pending: number; healthy: boolean; size: number; lastCheckpointAt: string | null; since: string | null } | null;
}

export const METRICS_ENDPOINTS = ['GET /admin/api/metrics/summary?window=&step='];

/** The windows offered, each with a step giving 60 points. */
export const WINDOWS = [{ s: 900, step: 15, label: '15 min' }, { s: 3600, step: 60, label: '1 hour' }, { s: 21600, step: 360, label: '6 hours' }, { s: 86400, step: 1440, label: '24 hours' }];

/** A latency in milliseconds for people: '—' when unknown, one decimal below 10 ms. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v < 10) return `${(Math.round(v * 10) / 10).toFixed(1)} ms`;
  if (v < 10000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}

export function Dashboard() {
  useTitle('Dashboard');
  const [win, setWin] = useState(3600);
  const w = WINDOWS.find((x) => x.s === win) || WINDOWS[1];
  const m = useApi<MetricsSummary>('/metrics/summary', { window: w.s, step: w.step }, { refreshMs: 10000 });
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
      <PageHeader title="Dashboard" subtitle={<>Live view of the gateway{m.data ? <> · traffic of replica <span className="mono">{m.data.replica || 'this one'}</span>, refreshed every 10 s</> : ''}</>}
        actions={!metricsMissing && (
          <div className="segmented" role="group" aria-label="Time window">
            {WINDOWS.map((x) => <button key={x.s} type="button" aria-pressed={win === x.s} className={win === x.s ? 'seg active' : 'seg'} onClick={() => setWin(x.s)}>{x.label}</button>)}
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
  const window = WINDOWS.find((x) => x.s === m.window)?.label || `${Math.round(m.window / 60)} min`;
  return (
    <>
      <div className="stats" data-testid="traffic">
        <Stat label="Calls" value={fmtInt(t.calls)} hint={`tools/call in the last ${window}`} />
        <Stat label="Errors" value={fmtInt(t.errors)} hint={`${errRate.toFixed(1)} % of calls`} tone={errRate > 5 ? 'red' : undefined} />
        <Stat label="Denials" value={fmtInt(t.denials)} hint={t.confirmations ? `exposure, policy, rate limit · ${t.confirmations} asked to confirm` : 'exposure, policy, rate limit, approval'} tone={t.denials ? 'amber' : undefined} />
        <Stat label="Latency p95" value={fmtMs(t.p95Ms)} hint={`p50 ${fmtMs(t.p50Ms)}`} />
      </div>
      <div className="grid-2">
        <Card title="Calls, errors and denials">
          <LineChart label={`Calls, errors and denials per ${m.step} s`} series={[
            { name: 'calls', color: '#2563eb', points: m.series.calls },
            { name: 'errors', color: '#dc2626', points: m.series.errors },
            { name: 'denials', color: '#b45309', points: m.series.denials },
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
          {m.topTools.length ? <BarList items={m.topTools.slice(0, 8).map((x) => ({ label: x.name, value: x.calls,
            hint: [x.errors ? `${x.errors} errors` : '', x.denials ? `${x.denials} denied` : '', x.p95Ms !== null ? `p95 ${fmtMs(x.p95Ms)}` : ''].filter(Boolean).join(' · ') || undefined }))} />
            : <p className="muted">No calls in this window.</p>}
        </Card>
        <Card title="Upstreams">
          {m.upstreams.length ? (
            <ul className="health-list" data-testid="upstreams">
              {m.upstreams.map((u) => (
                <li key={u.name}>
                  <span className="mono">{u.name}</span>
                  <Badge tone={u.breaker === 'closed' ? 'green' : u.breaker === 'open' ? 'red' : 'amber'} dot>breaker {u.breaker.replace('_', ' ')}</Badge>
                  <span className="muted small">{fmtInt(u.calls)} calls · {fmtInt(u.errors)} errors{u.calls ? ` · p95 ${fmtMs(u.p95Ms)}` : ''}{u.breakerRejections ? ` · ${fmtInt(u.breakerRejections)} refused by the breaker` : ''}</span>
                </li>
              ))}
            </ul>
          ) : <p className="muted">No upstream is configured.</p>}
        </Card>
        <Card title="Audit trail">
          {m.audit ? (
            <dl className="kv" data-testid="audit-lag">
              <dt>Health</dt><dd><Badge tone={m.audit.healthy ? 'green' : 'red'} dot>{m.audit.healthy ? 'writing' : 'failing: calls refused'}</Badge></dd>
              <dt>Commit lag</dt><dd>{m.audit.lagMs === null ? <span className="muted">no record in this window</span> : <Badge tone={m.audit.lagMs < 250 ? 'green' : 'amber'} dot>{fmtMs(m.audit.lagMs)} mean</Badge>}</dd>
              <dt>Records</dt><dd>{fmtInt(m.audit.records)} in this window · {fmtInt(m.audit.size)} in the log</dd>
              <dt>Waiting</dt><dd>{fmtInt(m.audit.pending)} records</dd>
              <dt>Last checkpoint</dt><dd><Time iso={m.audit.lastCheckpointAt} /></dd>
            </dl>
          ) : <p className="muted">The audit trail is off on this gateway.</p>}
          <Link href="/audit">Open the audit log</Link>
        </Card>
      </div>
    </>
  );
}
