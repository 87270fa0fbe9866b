// Approvals: calls waiting for a person (confirmation-required tools called by clients that
// cannot ask their user), approve or deny each, live.
import { useState } from 'react';
import { api, Page } from '../api';
import { Badge, Button, Card, CodeBlock, EmptyState, ErrorState, InlineError, Loading, NotAvailable, PageHeader, RiskBadge, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

interface Approval { id: string; tool: string; risk?: string; subject: string; clientId?: string; arguments: unknown; reason?: string; createdAt: string; expiresAt?: string }
export const APPROVAL_ENDPOINTS = ['GET /admin/api/approvals?status=pending', 'POST /admin/api/approvals/{id}/approve', 'POST /admin/api/approvals/{id}/deny'];

export function ApprovalsPage() {
  useTitle('Approvals');
  const toast = useToast();
  const list = useApi<Page<Approval>>('/approvals', { status: 'pending', limit: 100 }, { refreshMs: 5000 });
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const header = <PageHeader title="Approvals" subtitle="Tool calls that need a person's confirmation before they run (for clients that cannot ask their user)." />;
  if (list.error?.notAvailable) return <>{header}<Card><NotAvailable feature="The approval inbox" endpoints={APPROVAL_ENDPOINTS} /></Card></>;
  const decide = async (a: Approval, d: 'approve' | 'deny') => {
    setBusy(`${a.id}:${d}`);
    setErr(null);
    try {
      await api(`/approvals/${encodeURIComponent(a.id)}/${d}`, { method: 'POST', body: {} });
      toast('ok', `${d === 'approve' ? 'Approved' : 'Denied'} ${a.tool} for ${a.subject}`);
      list.reload();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <>
      {header}
      <InlineError error={err} />
      {list.error ? <Card><ErrorState error={list.error} onRetry={list.reload} /></Card> : !list.data ? <Card><Loading /></Card> : list.data.items.length === 0 ? (
        <Card><EmptyState icon="approvals" title="Nothing is waiting">Pending confirmations appear here as they arrive.</EmptyState></Card>
      ) : list.data.items.map((a) => (
        <Card key={a.id} title={<><span className="mono">{a.tool}</span> <RiskBadge risk={a.risk} /></>} actions={<>
          <Button kind="primary" busy={busy === `${a.id}:approve`} onClick={() => decide(a, 'approve')}>Approve</Button>
          <Button kind="danger" busy={busy === `${a.id}:deny`} onClick={() => decide(a, 'deny')}>Deny</Button>
        </>}>
          <p>Requested by <strong>{a.subject}</strong>{a.clientId && <> via <Badge>{a.clientId}</Badge></>} <Time iso={a.createdAt} />{a.expiresAt && <> · expires <Time iso={a.expiresAt} /></>}</p>
          {a.reason && <p className="muted">{a.reason}</p>}
          <CodeBlock label={`Arguments of ${a.tool}`} value={a.arguments} />
        </Card>
      ))}
    </>
  );
}
