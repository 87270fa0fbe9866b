// Approvals: calls waiting for a person (a tool that needs confirmation, called by a client that
// cannot ask its user). Approve or deny each, with a comment, live; and the recent decisions.
// An approval is spent by the same caller repeating exactly the same call, once.
import { useState } from 'react';
import { api, Page } from '../api';
import { Badge, Button, Card, CodeBlock, EmptyState, ErrorState, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Tabs, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

type Status = 'pending' | 'approved' | 'denied' | 'used';
export interface Approval {
  id: string; status: Status; subject: string; client_id?: string; tool: string; risk?: string; arguments: unknown; reason?: string;
  created_at: string; expires_at?: string; decided_at?: string | null; decided_by?: string | null; comment?: string | null; used_at?: string | null;
}
export const APPROVAL_ENDPOINTS = ['GET /admin/api/approvals?status=pending', 'POST /admin/api/approvals/{id}/approve', 'POST /admin/api/approvals/{id}/deny'];
const TONE = { pending: 'amber', approved: 'green', denied: 'red', used: 'neutral' } as const;

export function ApprovalsPage() {
  useTitle('Approvals');
  const toast = useToast();
  const [tab, setTab] = useState<Status>('pending');
  const list = useApi<Page<Approval>>('/approvals', { status: tab, limit: 100 }, { refreshMs: 5000 });
  const [busy, setBusy] = useState<string | null>(null);
  const [comments, setComments] = useState<Record<string, string>>({});
  const [err, setErr] = useState<unknown>(null);
  const header = <PageHeader title="Approvals" subtitle="Tool calls that need a person's confirmation before they run, from clients that cannot ask their user. An approval lets the same caller make exactly that call once." />;
  if (list.error?.notAvailable) return <>{header}<Card><NotAvailable feature="The approval inbox" endpoints={APPROVAL_ENDPOINTS} /></Card></>;
  const decide = async (a: Approval, d: 'approve' | 'deny') => {
    setBusy(`${a.id}:${d}`);
    setErr(null);
    try {
      const comment = comments[a.id]?.trim();
      await api(`/approvals/${encodeURIComponent(a.id)}/${d}`, { method: 'POST', body: comment ? { comment } : {} });
      toast('ok', `${d === 'approve' ? 'Approved' : 'Denied'} ${a.tool} for ${a.subject}`);
      list.reload();
    } catch (e) {
      setErr(e);
      list.reload();
    } finally {
      setBusy(null);
    }
  };
  const items = list.data?.items || [];
  return (
    <>
      {header}
      <Tabs label="Approval status" value={tab} onChange={setTab} tabs={[{ id: 'pending', label: 'Waiting' }, { id: 'approved', label: 'Approved' }, { id: 'denied', label: 'Denied' }, { id: 'used', label: 'Used' }]} />
      <InlineError error={err} />
      {list.error ? <Card><ErrorState error={list.error} onRetry={list.reload} /></Card> : !list.data ? <Card><Loading /></Card> : items.length === 0 ? (
        <Card><EmptyState icon="approvals" title={tab === 'pending' ? 'Nothing is waiting' : `No ${tab} approvals`}>{tab === 'pending' ? 'Calls that need a person appear here as they arrive.' : 'Decisions appear here.'}</EmptyState></Card>
      ) : items.map((a) => (
        <Card key={a.id} title={<><span className="mono">{a.tool}</span> <RiskBadge risk={a.risk} /> <Badge tone={TONE[a.status]}>{a.status}</Badge></>} actions={a.status === 'pending' ? <>
          <Button kind="primary" busy={busy === `${a.id}:approve`} onClick={() => decide(a, 'approve')} aria-label={`Approve ${a.tool} for ${a.subject}`}>Approve</Button>
          <Button kind="danger" busy={busy === `${a.id}:deny`} onClick={() => decide(a, 'deny')} aria-label={`Deny ${a.tool} for ${a.subject}`}>Deny</Button>
        </> : undefined}>
          <p>Requested by <strong>{a.subject}</strong>{a.client_id && <> via <Badge>{a.client_id}</Badge></>} <Time iso={a.created_at} />{a.status === 'pending' && a.expires_at && <> · expires <Time iso={a.expires_at} /></>}</p>
          {a.reason && <p className="muted">Why it needs a person: {a.reason}</p>}
          {a.decided_by && <p className="small">{a.status === 'denied' ? 'Denied' : 'Approved'} by <strong>{a.decided_by}</strong> <Time iso={a.decided_at} />{a.comment && <>: “{a.comment}”</>}{a.used_at && <> · used <Time iso={a.used_at} /></>}</p>}
          <CodeBlock label={`Arguments of ${a.tool}`} value={a.arguments} />
          {a.status === 'pending' && (
            <div className="form">
              <label htmlFor={`c-${a.id}`} className="small">Comment (optional, kept with the decision)</label>
              <input id={`c-${a.id}`} value={comments[a.id] || ''} maxLength={500} onChange={(e) => setComments({ ...comments, [a.id]: e.target.value })} />
            </div>
          )}
        </Card>
      ))}
    </>
  );
}
