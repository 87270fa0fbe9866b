// Audit: search the trail (time, user, tool, decision), a record's detail with its masked
// arguments, the chain status (latest checkpoint, verification) and a record's inclusion
// proof; export of the current search.
import { FormEvent, useState } from 'react';
import { api, buildUrl, getCredential, Page } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, CodeBlock, Dialog, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

interface AuditRecord { id: string; seq: number; time: string; subject: string; clientId?: string; tool?: string; method?: string; decision: string; outcome?: string; latencyMs?: number; requestId?: string; arguments?: unknown; reasons?: string[]; hash?: string; prevHash?: string }
interface Chain { head: { seq: number; hash: string } | null; checkpoint: { seq: number; hash: string; time: string; signature?: string } | null; verification: { status: 'ok' | 'broken' | 'unknown'; verifiedThrough?: number; checkedAt?: string; error?: string } }
interface Proof { id: string; seq: number; leafHash: string; path: Array<{ side: 'left' | 'right'; hash: string }>; checkpoint: { seq: number; hash: string }; valid: boolean }

export const AUDIT_ENDPOINTS = ['GET /admin/api/audit?from=&to=&subject=&tool=&decision=&limit=&after=', 'GET /admin/api/audit/{id}', 'GET /admin/api/audit/chain', 'POST /admin/api/audit/verify', 'GET /admin/api/audit/{id}/proof', 'GET /admin/api/audit/export?format=jsonl|csv&…'];

export function AuditPage() {
  useTitle('Audit');
  const toast = useToast();
  const [f, setF] = useState({ from: '', to: '', subject: '', tool: '', decision: '' });
  const [query, setQuery] = useState<Record<string, string>>({});
  const records = useApi<Page<AuditRecord>>('/audit', { ...query, limit: 100 });
  const chain = useApi<Chain>('/audit/chain', undefined, { refreshMs: 30000 });
  const [open, setOpen] = useState<AuditRecord | null>(null);
  const [proof, setProof] = useState<Proof | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [verifying, setVerifying] = useState(false);
  const header = <PageHeader title="Audit" subtitle="Every decision and call, PII-masked, in a hash-chained trail." />;
  if (records.error?.notAvailable) return <>{header}<Card><NotAvailable feature="The audit log" endpoints={AUDIT_ENDPOINTS} /></Card></>;

  const search = (e: FormEvent) => {
    e.preventDefault();
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(f)) if (v) q[k] = k === 'from' || k === 'to' ? new Date(v).toISOString() : v;
    setQuery(q);
  };
  const verify = async () => {
    setVerifying(true);
    setErr(null);
    try {
      await api('/audit/verify', { method: 'POST', body: {} });
      chain.reload();
      toast('ok', 'Chain verified');
    } catch (e) {
      setErr(e);
    } finally {
      setVerifying(false);
    }
  };
  const openRecord = async (r: AuditRecord) => {
    setProof(null);
    try {
      setOpen(await api<AuditRecord>(`/audit/${encodeURIComponent(r.id)}`));
    } catch (e) {
      setErr(e);
    }
  };
  const loadProof = async () => {
    if (!open) return;
    try {
      setProof(await api<Proof>(`/audit/${encodeURIComponent(open.id)}/proof`));
    } catch (e) {
      setErr(e);
    }
  };
  const exportUrl = (format: string) => buildUrl('/audit/export', { ...query, format });
  const download = async (format: string) => {
    const res = await fetch(exportUrl(format), { headers: getCredential() ? { Authorization: `Bearer ${getCredential()}` } : {} });
    if (!res.ok) { toast('error', `Export failed (${res.status})`); return; }
    const blob = await res.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `audit-${new Date().toISOString().slice(0, 10)}.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const v = chain.data?.verification;
  return (
    <>
      {header}
      <InlineError error={err} />
      <div className="grid-2 top">
        <Card title="Search">
          <form className="form" onSubmit={search}>
            <div className="grid-3 tight">
              <Field label="From" htmlFor="a-from"><input id="a-from" type="datetime-local" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} /></Field>
              <Field label="To" htmlFor="a-to"><input id="a-to" type="datetime-local" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} /></Field>
              <Field label="Decision" htmlFor="a-dec"><select id="a-dec" value={f.decision} onChange={(e) => setF({ ...f, decision: e.target.value })}><option value="">any</option><option value="allow">allow</option><option value="deny">deny</option><option value="error">error</option></select></Field>
              <Field label="User" htmlFor="a-sub"><input id="a-sub" value={f.subject} onChange={(e) => setF({ ...f, subject: e.target.value })} /></Field>
              <Field label="Tool" htmlFor="a-tool"><input id="a-tool" value={f.tool} onChange={(e) => setF({ ...f, tool: e.target.value })} /></Field>
            </div>
            <div className="form-actions"><Button kind="primary" type="submit" icon="search">Search</Button><Button icon="download" onClick={() => download('jsonl')}>Export JSONL</Button><Button icon="download" onClick={() => download('csv')}>Export CSV</Button></div>
          </form>
        </Card>
        <Card title="Chain" actions={<Button icon="check" busy={verifying} onClick={verify}>Verify now</Button>}>
          {chain.error ? <ErrorState error={chain.error} /> : !chain.data ? <Loading /> : (
            <dl className="kv" data-testid="chain">
              <dt>Verification</dt><dd><Badge tone={v?.status === 'ok' ? 'green' : v?.status === 'broken' ? 'red' : 'neutral'} dot>{v?.status}</Badge> {v?.verifiedThrough !== undefined && <span className="muted small">through #{v.verifiedThrough}</span>} {v?.checkedAt && <Time iso={v.checkedAt} />}</dd>
              {v?.error && <><dt>Error</dt><dd className="text-red">{v.error}</dd></>}
              <dt>Head</dt><dd className="mono small">{chain.data.head ? `#${chain.data.head.seq} ${chain.data.head.hash.slice(0, 16)}…` : '—'}</dd>
              <dt>Checkpoint</dt><dd className="mono small">{chain.data.checkpoint ? <>#{chain.data.checkpoint.seq} {chain.data.checkpoint.hash.slice(0, 16)}… <Time iso={chain.data.checkpoint.time} /></> : '—'}</dd>
            </dl>
          )}
        </Card>
      </div>
      <Card title="Records">
        {records.error ? <ErrorState error={records.error} onRetry={records.reload} /> : !records.data ? <Loading /> : records.data.items.length === 0 ? <EmptyState icon="audit" title="No record matches" /> : (
          <div className="table-wrap"><table className="table"><thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">User</th><th scope="col">Tool</th><th scope="col">Decision</th><th scope="col">Latency</th></tr></thead><tbody>
            {records.data.items.map((r) => (
              <tr key={r.id}>
                <td><button type="button" className="linklike mono" onClick={() => openRecord(r)}>#{r.seq}</button></td>
                <td><Time iso={r.time} /></td><td className="mono small">{r.subject}</td><td className="mono">{r.tool || r.method}</td>
                <td><Badge tone={r.decision === 'allow' ? 'green' : r.decision === 'deny' ? 'red' : 'amber'}>{r.decision}</Badge> {r.outcome && <span className="muted small">{r.outcome}</span>}</td>
                <td>{r.latencyMs !== undefined ? `${r.latencyMs} ms` : '—'}</td>
              </tr>
            ))}
          </tbody></table></div>
        )}
      </Card>
      <Dialog open={!!open} onClose={() => setOpen(null)} title={open ? `Audit record #${open.seq}` : ''} wide
        footer={<><Button icon="link" onClick={loadProof}>Inclusion proof</Button><Button onClick={() => setOpen(null)}>Close</Button></>}>
        {open && (
          <>
            <dl className="kv">
              <dt>Time</dt><dd>{open.time}</dd><dt>User</dt><dd className="mono">{open.subject}{open.clientId ? ` via ${open.clientId}` : ''}</dd>
              <dt>Tool</dt><dd className="mono">{open.tool}</dd><dt>Decision</dt><dd>{open.decision} {open.reasons?.join('; ')}</dd>
              <dt>Request</dt><dd className="mono small">{open.requestId}</dd><dt>Hash</dt><dd className="mono small wrap">{open.hash}</dd>
            </dl>
            <h3 className="h4">Arguments (masked)</h3>
            <CodeBlock label="Masked arguments" value={open.arguments ?? {}} />
            {proof && (
              <div className={`notice ${proof.valid ? 'notice-green' : 'notice-red'}`} data-testid="proof"><Icon name={proof.valid ? 'check' : 'alert'} size={16} /> {proof.valid ? 'Included' : 'NOT included'} in checkpoint #{proof.checkpoint.seq} ({proof.path.length} hashes in the proof).</div>
            )}
          </>
        )}
      </Dialog>
    </>
  );
}
