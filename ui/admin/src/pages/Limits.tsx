// Rate limits: the rules (per IP, user, tool, client) and who is being rejected right now.
import { Page } from '../api';
import { Badge, Card, EmptyState, ErrorState, fmtInt, Loading, NotAvailable, PageHeader, Time } from '../components/ui';
import { useApi, useTitle } from '../hooks';

interface LimitRule { id: string; scope: 'ip' | 'user' | 'tool' | 'client' | 'tier'; match?: string | null; limit: number; windowSeconds: number; burst?: number; mode: 'enforce' | 'dry_run' }
interface Rejection { scope: string; key: string; tool?: string | null; count: number; lastAt: string }
export const LIMIT_ENDPOINTS = ['GET /admin/api/ratelimits/rules', 'GET /admin/api/ratelimits/rejections?window='];

export function LimitsPage() {
  useTitle('Rate limits');
  const rules = useApi<Page<LimitRule>>('/ratelimits/rules');
  const rej = useApi<Page<Rejection> & { window: number }>('/ratelimits/rejections', { window: 300 }, { refreshMs: 10000 });
  const header = <PageHeader title="Rate limits" subtitle="Requests per IP, user, tool and client app; rejections in the last 5 minutes, live." />;
  if (rules.error?.notAvailable) return <>{header}<Card><NotAvailable feature="Rate limits" endpoints={LIMIT_ENDPOINTS} /></Card></>;
  return (
    <>
      {header}
      <div className="grid-2 top">
        <Card title="Rules">
          {rules.error ? <ErrorState error={rules.error} onRetry={rules.reload} /> : !rules.data ? <Loading /> : rules.data.items.length === 0 ? <EmptyState icon="limits" title="No rate limit rules" /> : (
            <div className="table-wrap"><table className="table"><thead><tr><th scope="col">Scope</th><th scope="col">Applies to</th><th scope="col">Limit</th><th scope="col">Mode</th></tr></thead><tbody>
              {rules.data.items.map((r) => <tr key={r.id}><td><Badge tone="blue">{r.scope}</Badge></td><td className="mono">{r.match || 'each'}</td><td>{fmtInt(r.limit)} / {r.windowSeconds >= 60 ? `${r.windowSeconds / 60} min` : `${r.windowSeconds} s`}{r.burst ? ` (burst ${r.burst})` : ''}</td><td>{r.mode === 'dry_run' ? <Badge tone="violet">dry run</Badge> : <Badge tone="green">enforce</Badge>}</td></tr>)}
            </tbody></table></div>
          )}
        </Card>
        <Card title="Current rejections">
          {rej.error ? <ErrorState error={rej.error} /> : !rej.data ? <Loading /> : rej.data.items.length === 0 ? <p className="muted">Nobody is being rate limited.</p> : (
            <div className="table-wrap"><table className="table"><thead><tr><th scope="col">Who</th><th scope="col">Tool</th><th scope="col">Rejected</th><th scope="col">Last</th></tr></thead><tbody>
              {rej.data.items.map((x) => <tr key={`${x.scope}:${x.key}:${x.tool}`}><td><Badge>{x.scope}</Badge> <span className="mono small">{x.key}</span></td><td className="mono">{x.tool || '—'}</td><td>{fmtInt(x.count)}</td><td><Time iso={x.lastAt} /></td></tr>)}
            </tbody></table></div>
          )}
        </Card>
      </div>
    </>
  );
}
