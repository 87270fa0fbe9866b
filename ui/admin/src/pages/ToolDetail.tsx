// One tool: its governance (risk, flags, rate tier, status, product, description) edited with
// optimistic concurrency (If-Match on the version), the input/output schema, the upstream
// binding, and its change history; renaming (the old name stays an alias agents can still call).
import { FormEvent, useEffect, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { api, ApiError, Bundle, HistoryEntry, Page, Risk, Tool, ToolStatus } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, CodeBlock, Dialog, ErrorState, Field, InlineError, Loading, PageHeader, RiskBadge, StatusBadge, Switch, Tabs, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

const actions: Record<ToolStatus, Array<{ action: string; label: string }>> = {
  draft: [{ action: 'activate', label: 'Activate' }, { action: 'disable', label: 'Disable' }],
  active: [{ action: 'disable', label: 'Disable' }, { action: 'deprecate', label: 'Deprecate' }],
  deprecated: [{ action: 'activate', label: 'Reactivate' }, { action: 'disable', label: 'Disable' }],
  disabled: [{ action: 'activate', label: 'Activate' }, { action: 'draft', label: 'Back to draft' }],
};

export function ToolDetail({ name }: { name: string }) {
  useTitle(name);
  const toast = useToast();
  const tool = useApi<Tool>(`/tools/${encodeURIComponent(name)}`);
  const history = useApi<Page<HistoryEntry>>(`/tools/${encodeURIComponent(name)}/history`, { limit: 50, v: tool.data?.version });
  const bundles = useApi<Page<Bundle>>('/bundles', { limit: 1000 });
  const [tab, setTab] = useState<'governance' | 'schema' | 'binding' | 'history'>('governance');
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [renaming, setRenaming] = useState(false);
  const [, navigate] = useLocation();

  const t = tool.data;
  const [form, setForm] = useState<Partial<Tool>>({});
  const [reason, setReason] = useState('');
  useEffect(() => {
    if (t) setForm({ risk: t.risk || 'read', requiresConfirmation: !!t.requiresConfirmation, requiresElevation: !!t.requiresElevation, rateLimitTier: t.rateLimitTier || 'standard', bundle: t.bundle ?? null, description: t.description || '', title: t.title || '' });
  }, [t]);

  if (tool.error) return <><Back /><ErrorState error={tool.error} onRetry={tool.reload} /></>;
  if (!t) return <><Back /><Loading /></>;

  const changed = (Object.keys(form) as Array<keyof Tool>).filter((k) => (form[k] ?? null) !== ((t[k] ?? (k === 'risk' ? 'read' : k === 'rateLimitTier' ? 'standard' : k === 'requiresConfirmation' || k === 'requiresElevation' ? false : k === 'description' || k === 'title' ? '' : null)) as unknown));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!changed.length) return;
    setBusy('save');
    setErr(null);
    const patch: Record<string, unknown> = {};
    for (const k of changed) patch[k] = form[k] === '' && k === 'title' ? null : form[k];
    try {
      const headers: Record<string, string> = { 'If-Match': `"${t.version}"` };
      if (reason.trim()) headers['X-Change-Reason'] = reason.trim();
      const next = await api<Tool>(`/tools/${encodeURIComponent(name)}`, { method: 'PATCH', body: patch, headers });
      tool.setData(next);
      setReason('');
      toast('ok', `Saved ${name} (version ${next.version})`);
    } catch (e2) {
      setErr(e2 instanceof ApiError && e2.status === 409 ? new ApiError(409, 'conflict', `${e2.message}. Someone else changed this tool: reload to see their change.`) : e2);
    } finally {
      setBusy(null);
    }
  };
  const act = async (action: string) => {
    setBusy(action);
    setErr(null);
    try {
      const next = await api<Tool>(`/tools/${encodeURIComponent(name)}/${action}`, { method: 'POST' });
      tool.setData(next);
      toast('ok', `${name} is now ${next.status}`);
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <Back />
      <PageHeader title={t.name} subtitle={<>{t.title && <span>{t.title} · </span>}<StatusBadge status={t.status} /> <RiskBadge risk={t.risk} /> <span className="muted">version {t.version} · updated <Time iso={t.updatedAt} /> by {t.updatedBy || '—'}</span></>}
        actions={<>{actions[t.status].map((a) => <Button key={a.action} kind={a.action === 'activate' ? 'primary' : 'secondary'} busy={busy === a.action} onClick={() => act(a.action)}>{a.label}</Button>)}<Button onClick={() => setRenaming(true)}>Rename</Button></>} />
      <RenameTool open={renaming} name={t.name} onClose={() => setRenaming(false)}
        onRenamed={(to) => { setRenaming(false); toast('ok', `${name} is now ${to}; ${name} stays an alias`); navigate(`/tools/${encodeURIComponent(to)}`); }} />
      <InlineError error={err} />
      <Tabs label="Tool sections" value={tab} onChange={setTab} tabs={[{ id: 'governance', label: 'Governance' }, { id: 'schema', label: 'Schema' }, { id: 'binding', label: 'Upstream binding' }, { id: 'history', label: 'History' }]} />
      {tab === 'governance' && (
        <div className="grid-2">
          <Card title="Governance">
            <form onSubmit={save} className="form">
              <Field label="Risk" htmlFor="risk" hint="read: no side effects · write: changes data · privileged: needs elevation">
                <select id="risk" value={form.risk as string} onChange={(e) => setForm({ ...form, risk: e.target.value as Risk })}>
                  <option value="read">read</option><option value="write">write</option><option value="privileged">privileged</option>
                </select>
              </Field>
              <Field label="Rate limit tier" htmlFor="tier">
                <select id="tier" value={form.rateLimitTier as string} onChange={(e) => setForm({ ...form, rateLimitTier: e.target.value })}>
                  <option value="permissive">permissive</option><option value="standard">standard</option><option value="strict">strict</option>
                </select>
              </Field>
              <Field label="API product" htmlFor="bundle">
                <select id="bundle" value={(form.bundle as string) || ''} onChange={(e) => setForm({ ...form, bundle: e.target.value || null })}>
                  <option value="">No product</option>
                  {(bundles.data?.items || []).map((b) => <option key={b.name} value={b.name}>{b.title || b.name}</option>)}
                </select>
              </Field>
              <div className="switches">
                <Switch label="Requires confirmation (a person confirms each call)" checked={!!form.requiresConfirmation} onChange={(v) => setForm({ ...form, requiresConfirmation: v })} />
                <Switch label="Requires elevation (step-up before a call)" checked={!!form.requiresElevation} onChange={(v) => setForm({ ...form, requiresElevation: v })} />
              </div>
              <Field label="Title" htmlFor="title"><input id="title" value={form.title as string} onChange={(e) => setForm({ ...form, title: e.target.value })} /></Field>
              <Field label="Description shown to agents" htmlFor="desc" hint="Comes from the spec: a re-import of a changed operation replaces it.">
                <textarea id="desc" rows={5} value={form.description as string} onChange={(e) => setForm({ ...form, description: e.target.value })} />
              </Field>
              <Field label="Reason for the change (recorded in the history)" htmlFor="reason">
                <input id="reason" value={reason} maxLength={1024} onChange={(e) => setReason(e.target.value)} placeholder="optional" />
              </Field>
              <div className="form-actions">
                <Button kind="primary" type="submit" busy={busy === 'save'} disabled={!changed.length}>Save changes</Button>
                {changed.length > 0 && <span className="muted small">{changed.length} unsaved change{changed.length === 1 ? '' : 's'}</span>}
              </div>
            </form>
          </Card>
          <Card title="Summary">
            <dl className="kv">
              <dt>Operation</dt><dd className="mono">{t.binding?.method} {t.binding?.path}</dd>
              <dt>Upstream</dt><dd className="mono">{t.binding?.upstream || '—'}</dd>
              <dt>Spec</dt><dd className="mono">{t.source?.specId || '—'}{t.source?.operationId ? ` · ${t.source.operationId}` : ''}</dd>
              <dt>Product</dt><dd>{t.bundle ? <Link href={`/products/${encodeURIComponent(t.bundle)}`}>{t.bundle}</Link> : '—'}</dd>
              <dt>Tags</dt><dd>{(t.tags || []).length ? t.tags!.map((x) => <Badge key={x}>{x}</Badge>) : '—'}</dd>
              <dt>Created</dt><dd><Time iso={t.createdAt} /></dd>
            </dl>
          </Card>
        </div>
      )}
      {tab === 'schema' && (
        <div className="grid-2">
          <Card title="Input schema"><CodeBlock label="Input schema" value={t.inputSchema ?? {}} /></Card>
          <Card title="Output schema">{t.outputSchema ? <CodeBlock label="Output schema" value={t.outputSchema} /> : <p className="muted">The operation declares no JSON object response.</p>}</Card>
        </div>
      )}
      {tab === 'binding' && <Card title="Upstream binding"><CodeBlock label="Upstream binding" value={t.binding ?? {}} /></Card>}
      {tab === 'history' && (
        <Card title="Change history">
          {history.error ? <ErrorState error={history.error} onRetry={history.reload} /> : !history.data ? <Loading /> : (
            <ol className="timeline">
              {history.data.items.map((h) => (
                <li key={`${h.version}-${h.changedAt}`}>
                  <div><strong>v{h.version}</strong> · {h.action} by <span className="mono">{h.actor}</span> · <Time iso={h.changedAt} /></div>
                  {h.reason && <div className="muted">“{h.reason}”</div>}
                  {h.previous && <HistoryDiff prev={h.previous} />}
                </li>
              ))}
            </ol>
          )}
        </Card>
      )}
    </>
  );
}

const watched = ['status', 'risk', 'requiresConfirmation', 'requiresElevation', 'rateLimitTier', 'bundle', 'title', 'description'];
function HistoryDiff({ prev }: { prev: Tool }) {
  return <div className="muted small">before: {watched.filter((k) => prev[k] !== undefined).map((k) => `${k}=${JSON.stringify(prev[k]).slice(0, 40)}`).join(' · ')}</div>;
}

function Back() {
  return <Link href="/tools" className="back"><Icon name="back" size={16} /> All tools</Link>;
}

/** POST /tools/{name}/rename: the old name stays an alias for aliasDays (agents keep working). */
function RenameTool({ open, name, onClose, onRenamed }: { open: boolean; name: string; onClose: () => void; onRenamed: (to: string) => void }) {
  const [to, setTo] = useState('');
  const [days, setDays] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const body: Record<string, unknown> = { to: to.trim() };
      if (days.trim()) body.aliasDays = Number(days);
      const next = await api<Tool>(`/tools/${encodeURIComponent(name)}/rename`, { method: 'POST', body });
      setTo(''); setDays('');
      onRenamed(next.name);
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title={`Rename ${name}`}
      footer={<><Button onClick={onClose}>Cancel</Button><Button kind="primary" type="submit" form="rename-tool" busy={busy}>Rename</Button></>}>
      <form id="rename-tool" className="form" onSubmit={submit}>
        <InlineError error={err} />
        <Field label="New name" htmlFor="rn-to" hint="Letters, digits, _ and -; not a name another tool or alias has"><input id="rn-to" required value={to} onChange={(e) => setTo(e.target.value)} /></Field>
        <Field label="Keep the old name as an alias for (days)" htmlFor="rn-days" hint={`Calls to ${name} still reach the tool meanwhile (default: the gateway's GW_TOOL_ALIAS_DAYS)`}><input id="rn-days" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} /></Field>
      </form>
    </Dialog>
  );
}
