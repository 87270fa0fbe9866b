// Tools: the catalogue with search and filters (product, status, risk, upstream), row
// selection and bulk activate/disable; a row opens the tool's detail page.
import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'wouter';
import { api, ApiError, Bundle, listAll, Tool } from '../api';
import { Icon } from '../components/icons';
import { Button, Card, EmptyState, ErrorState, fmtInt, Loading, PageHeader, RiskBadge, StatusBadge, Time, useToast } from '../components/ui';
import { useApi, useDebounced, useTitle } from '../hooks';

const STATUSES = ['active', 'draft', 'deprecated', 'disabled'];
const RISKS = ['read', 'write', 'privileged'];

async function loadTools(): Promise<Tool[]> {
  return listAll<Tool>('/tools');
}

export function ToolsPage() {
  useTitle('Tools');
  const toast = useToast();
  const [params, setParams] = useSearchParams();
  const [tick, setTick] = useState(0);
  // the whole catalogue (all pages, bounded) so that search and filters are instant
  const [all, setAll] = useState<Tool[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    setError(null);
    loadTools().then((t) => live && setAll(t), (e) => live && setError(e instanceof ApiError ? e : new ApiError(0, 'client', String(e))));
    return () => { live = false; };
  }, [tick]);
  const bundles = useApi<{ items: Bundle[] }>('/bundles', { limit: 1000 });
  const [q, setQ] = useState(params.get('q') || '');
  const dq = useDebounced(q.trim().toLowerCase());
  const status = params.get('status') || '';
  const risk = params.get('risk') || '';
  const product = params.get('product') || '';
  const upstream = params.get('upstream') || '';
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);

  const setFilter = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v); else p.delete(k);
    setParams(p, { replace: true });
    setSelected(new Set());
  };

  const upstreams = useMemo(() => [...new Set((all || []).map((t) => t.binding?.upstream).filter(Boolean) as string[])].sort(), [all]);
  const rows = useMemo(() => (all || []).filter((t) =>
    (!status || t.status === status) && (!risk || (t.risk || 'read') === risk) && (!product || (product === '-' ? !t.bundle : t.bundle === product)) &&
    (!upstream || t.binding?.upstream === upstream) &&
    (!dq || t.name.toLowerCase().includes(dq) || (t.title || '').toLowerCase().includes(dq) || (t.description || '').toLowerCase().includes(dq))), [all, status, risk, product, upstream, dq]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const t of all || []) c[t.status] = (c[t.status] || 0) + 1;
    return c;
  }, [all]);

  const allSelected = rows.length > 0 && rows.every((t) => selected.has(t.name));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(rows.map((t) => t.name)));
  const toggle = (n: string) => setSelected((s) => { const x = new Set(s); if (x.has(n)) x.delete(n); else x.add(n); return x; });

  const bulk = async (action: 'activate' | 'disable') => {
    setBusy(true);
    let ok = 0;
    const failed: string[] = [];
    for (const name of selected) {
      try {
        await api(`/tools/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: { 'X-Change-Reason': `bulk ${action} from the admin console` } });
        ok++;
      } catch (e) {
        failed.push(`${name}: ${(e as Error).message}`);
      }
    }
    setBusy(false);
    setSelected(new Set());
    setTick((t) => t + 1);
    if (ok) toast('ok', `${action === 'activate' ? 'Activated' : 'Disabled'} ${ok} tool${ok === 1 ? '' : 's'}`);
    if (failed.length) toast('error', `${failed.length} failed — ${failed[0]}`);
  };

  return (
    <>
      <PageHeader title="Tools" subtitle={all ? `${fmtInt(all.length)} tools · ${fmtInt(counts.active || 0)} active · ${fmtInt(counts.draft || 0)} draft` : 'The MCP tools generated from your API specs'}
        actions={<Link href="/import" className="btn btn-primary"><Icon name="import" size={16} /> <span>Import a spec</span></Link>} />
      <Card>
        <div className="toolbar" role="search">
          <div className="search">
            <Icon name="search" size={16} />
            <input type="search" aria-label="Search tools" placeholder="Search name, title or description" value={q}
              onChange={(e) => { setQ(e.target.value); setFilter('q', e.target.value); }} />
          </div>
          <label className="sr-only" htmlFor="f-product">API product</label>
          <select id="f-product" value={product} onChange={(e) => setFilter('product', e.target.value)}>
            <option value="">All products</option>
            <option value="-">No product</option>
            {(bundles.data?.items || []).map((b) => <option key={b.name} value={b.name}>{b.title || b.name}</option>)}
          </select>
          <label className="sr-only" htmlFor="f-status">Status</label>
          <select id="f-status" value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s} ({counts[s] || 0})</option>)}
          </select>
          <label className="sr-only" htmlFor="f-risk">Risk</label>
          <select id="f-risk" value={risk} onChange={(e) => setFilter('risk', e.target.value)}>
            <option value="">All risks</option>
            {RISKS.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          <label className="sr-only" htmlFor="f-upstream">Upstream</label>
          <select id="f-upstream" value={upstream} onChange={(e) => setFilter('upstream', e.target.value)}>
            <option value="">All upstreams</option>
            {upstreams.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        {selected.size > 0 && (
          <div className="bulkbar" role="region" aria-label="Bulk actions">
            <strong>{selected.size} selected</strong>
            <Button icon="check" busy={busy} onClick={() => bulk('activate')}>Activate</Button>
            <Button icon="x" busy={busy} onClick={() => bulk('disable')}>Disable</Button>
            <Button kind="ghost" onClick={() => setSelected(new Set())}>Clear</Button>
          </div>
        )}
        {error ? <ErrorState error={error} onRetry={() => setTick((t) => t + 1)} /> : !all ? <Loading /> : all.length === 0 ? (
          <EmptyState icon="tools" title="No tools yet" action={<Link href="/import" className="btn btn-primary">Import an OpenAPI spec</Link>}>
            Import an OpenAPI or Swagger spec: each operation becomes a tool you can review and activate.
          </EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="search" title="No tool matches these filters" action={<Button onClick={() => { setQ(''); setParams(new URLSearchParams(), { replace: true }); }}>Clear filters</Button>} />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th className="col-check"><input type="checkbox" aria-label="Select all shown tools" checked={allSelected} onChange={toggleAll} /></th>
                  <th scope="col">Tool</th>
                  <th scope="col">Status</th>
                  <th scope="col">Risk</th>
                  <th scope="col">Product</th>
                  <th scope="col">Upstream</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {rows.slice(0, 500).map((t) => (
                  <tr key={t.name} className={selected.has(t.name) ? 'selected' : ''}>
                    <td className="col-check"><input type="checkbox" aria-label={`Select ${t.name}`} checked={selected.has(t.name)} onChange={() => toggle(t.name)} /></td>
                    <td>
                      <Link href={`/tools/${encodeURIComponent(t.name)}`} className="row-title mono">{t.name}</Link>
                      <div className="row-sub">{t.title || t.description?.slice(0, 90) || ''}</div>
                    </td>
                    <td><StatusBadge status={t.status} /></td>
                    <td><RiskBadge risk={t.risk} />{t.requiresConfirmation && <span className="flag" title="requires confirmation">confirm</span>}{t.requiresElevation && <span className="flag" title="requires elevation">elevate</span>}</td>
                    <td>{t.bundle ? <Link href={`/products/${encodeURIComponent(t.bundle)}`}>{t.bundle}</Link> : <span className="muted">—</span>}</td>
                    <td className="mono small">{t.binding?.upstream || '—'}</td>
                    <td><Time iso={t.updatedAt} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length > 500 && <p className="muted small pad">Showing the first 500 of {fmtInt(rows.length)} matches: refine the search to see the others.</p>}
          </div>
        )}
      </Card>
    </>
  );
}
