// Audit: search the trail (time, user, tool, decision), newest first with "older records"
// paging (the API's before= cursor); a record's detail with its masked arguments and reasons;
// the chain status (head, latest signed checkpoint, last verification) and "verify now"; a
// record's inclusion proof in the latest checkpoint (checked by the gateway); export of the
// current search as JSONL or CSV. With the gateway's audit database copy the list is every
// replica's log merged by time (scope "all": each record names its log, the replica that wrote
// it), and a table of those logs, each verifiable from the database (a dead pod's too);
// otherwise, or when the database cannot answer (a warning says so), this replica's log.
import { FormEvent, useEffect, useState } from 'react';
import { api, ApiError, buildUrl, getCredential, Page } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, CodeBlock, Dialog, EmptyState, ErrorState, Field, InlineError, Loading, NotAvailable, PageHeader, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';

export interface AuditRecord { id: string; seq: number; log?: string; time: string; subject: string; clientId?: string; tool?: string; method?: string; kind?: string; action?: string; decision: string; outcome?: string; latencyMs?: number; requestId?: string; arguments?: unknown; reasons?: string[]; hash?: string }
interface Chain { head: { seq: number; hash: string } | null; checkpoint: { seq: number; hash: string; time: string; signature?: string; origin?: string } | null; verification: { status: 'ok' | 'broken' | 'unknown' | 'unverified'; verifiedThrough?: number; checkedAt?: string; error?: string; by?: string; signedBy?: string; claimed?: 'ok' | 'broken'; run?: number; running?: VerifyProgress }; origin?: string }
// POST /audit/verify: the report when the verification ends within `wait` seconds, else (202)
// the progress of the one verification running on the gateway (GET /audit/chain follows it)
interface VerifyProgress { state: 'running'; run: number; startedAt: string; pass: number; recordsRead: number }
type VerifyAnswer = { ok: boolean; records: number; problems: Array<{ kind: string; detail: string }> } | VerifyProgress;
const VERIFY_WAIT_S = 5;
const VERIFY_POLL_MS = 2000;
const pause = (ms: number) => new Promise((r) => window.setTimeout(r, ms));
interface LogInfo { log: string; origin: string; records: number; checkpoint: { size: number; time: string } | null; lastRecordAt?: string | null; archivedRecords?: number | null; prunedBelow?: number; this?: boolean; verification?: Chain['verification'] }
interface AuditPage extends Page<AuditRecord> { scope?: 'all' | 'replica'; log?: string; warning?: string }
interface Proof { id: string; seq: number; log?: string; leafHash: string; path: Array<{ side: 'left' | 'right'; hash: string }>; checkpoint: { seq: number; hash: string }; valid: boolean }

export const AUDIT_ENDPOINTS = ['GET /admin/api/audit?from=&to=&subject=&tool=&decision=&limit=&before=', 'GET /admin/api/audit/{id}', 'GET /admin/api/audit/chain', 'POST /admin/api/audit/verify', 'GET /admin/api/audit/{id}/proof', 'GET /admin/api/audit/export?format=jsonl|csv&…'];
const DECISIONS = ['allow', 'deny', 'dry_run_deny', 'error', 'reject', 'admin'];
const PAGE = 50;
const decisionTone = (d: string) => (d === 'allow' ? 'green' : d === 'deny' || d === 'reject' ? 'red' : d === 'admin' ? 'blue' : 'amber');
const fmtLatency = (ms?: number) => (ms === undefined ? '—' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

export function AuditPage() {
  useTitle('Audit');
  const toast = useToast();
  const [f, setF] = useState({ from: '', to: '', subject: '', tool: '', decision: '' });
  const [query, setQuery] = useState<Record<string, string>>({});
  const first = useApi<AuditPage>('/audit', { ...query, limit: PAGE });
  // older pages, fetched with the cursor of the page before (newest first)
  const [older, setOlder] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  useEffect(() => { setOlder([]); setNext(first.data?.next ?? null); }, [first.data]);
  const chain = useApi<Chain>('/audit/chain', undefined, { refreshMs: 30000 });
  const [open, setOpen] = useState<AuditRecord | null>(null);
  const [proof, setProof] = useState<Proof | null>(null);
  const [proofErr, setProofErr] = useState<unknown>(null);
  const [err, setErr] = useState<unknown>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyingLog, setVerifyingLog] = useState<string | null>(null);
  const allLogs = first.data?.scope === 'all';
  const logs = useApi<{ logs: LogInfo[]; log: string }>(allLogs ? '/audit/logs' : null, { limit: 20 }, { refreshMs: 30000 });
  const header = <PageHeader title="Audit" subtitle={`Every decision and call, PII-masked, in hash-chained, signed trails (${allLogs ? "every replica's log, merged by time" : "this replica's log"}).`} />;
  if (first.error?.notAvailable) return <>{header}<Card><NotAvailable feature="The audit log" endpoints={AUDIT_ENDPOINTS} /></Card></>;

  const search = (e: FormEvent) => {
    e.preventDefault();
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(f)) if (v.trim()) q[k] = k === 'from' || k === 'to' ? new Date(v).toISOString() : v.trim();
    setQuery(q);
  };
  const loadOlder = async () => {
    if (!next) return;
    setLoadingOlder(true);
    try {
      const p = await api<AuditPage>('/audit', { query: { ...query, limit: PAGE, before: next } });
      setOlder((o) => [...o, ...p.items]);
      setNext(p.next);
    } catch (e) {
      setErr(e);
    } finally {
      setLoadingOlder(false);
    }
  };
  const verify = async () => {
    setVerifying(true);
    setErr(null);
    try {
      const r = await api<VerifyAnswer>('/audit/verify', { method: 'POST', body: {}, query: { wait: VERIFY_WAIT_S } });
      if ('state' in r) {
        // a long log: the gateway goes on verifying; follow it until it ends
        chain.reload();
        let cur: Chain['verification'];
        do {
          await pause(VERIFY_POLL_MS);
          cur = (await api<Chain>('/audit/chain')).verification;
        } while (cur.running);
        chain.reload();
        if (cur.run !== r.run) toast('error', 'The verification stopped before it ended (the gateway shut down): start it again');
        else if (cur.status === 'ok') toast('ok', `Chain verified: ${cur.verifiedThrough} records`);
        else toast('error', `Chain BROKEN: ${cur.error ?? 'see the verification report'}`);
        return;
      }
      chain.reload();
      if (r.ok) toast('ok', `Chain verified: ${r.records} records`);
      else toast('error', `Chain BROKEN: ${r.problems[0]?.kind} — ${r.problems[0]?.detail}`);
    } catch (e) {
      setErr(e);
    } finally {
      setVerifying(false);
    }
  };
  // another replica's log (a dead pod's too), verified by this replica from the database copy
  const verifyLog = async (log: string) => {
    setVerifyingLog(log);
    setErr(null);
    try {
      const r = await api<VerifyAnswer>('/audit/verify', { method: 'POST', body: {}, query: { log, wait: VERIFY_WAIT_S } });
      if ('state' in r) {
        let cur: LogInfo['verification'];
        do {
          await pause(VERIFY_POLL_MS);
          cur = (await api<{ logs: LogInfo[] }>('/audit/logs', { query: { limit: 20 } })).logs.find((l) => l.log === log)?.verification;
        } while (cur?.running);
        logs.reload();
        if (!cur || cur.run !== r.run) toast('error', `The verification of ${log} stopped before it ended: start it again`);
        else if (cur.status === 'ok') toast('ok', `${log} verified: ${cur.verifiedThrough} records`);
        else toast('error', `${log} BROKEN: ${cur.error ?? 'see the verification report'}`);
        return;
      }
      logs.reload();
      if (r.ok) toast('ok', `${log} verified: ${r.records} records`);
      else toast('error', `${log} BROKEN: ${r.problems[0]?.kind} — ${r.problems[0]?.detail}`);
    } catch (e) {
      setErr(e);
    } finally {
      setVerifyingLog(null);
    }
  };
  const openRecord = async (r: AuditRecord) => {
    setProof(null);
    setProofErr(null);
    try {
      setOpen(await api<AuditRecord>(`/audit/${r.seq}`, r.log ? { query: { log: r.log } } : undefined));
    } catch (e) {
      setErr(e);
    }
  };
  const loadProof = async () => {
    if (!open) return;
    setProofErr(null);
    try {
      setProof(await api<Proof>(`/audit/${open.seq}/proof`, open.log ? { query: { log: open.log } } : undefined));
    } catch (e) {
      setProofErr(e);
    }
  };
  const download = async (format: string) => {
    const res = await fetch(buildUrl('/audit/export', { ...query, format }), { headers: getCredential() ? { Authorization: `Bearer ${getCredential()}` } : {} });
    if (!res.ok) {
      // e.g. 422 too_large: the gateway says how to narrow it
      const why = await res.json().then((b) => b?.error?.message as string | undefined, () => undefined);
      toast('error', `Export failed (${res.status})${why ? `: ${why}` : ''}`);
      return;
    }
    const blob = await res.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `audit-${new Date().toISOString().slice(0, 10)}.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const v = chain.data?.verification;
  const rows = [...(first.data?.items || []), ...older];
  const searching = Object.keys(query).length > 0;
  return (
    <>
      {header}
      <InlineError error={err} />
      {first.data?.warning && <div className="notice notice-amber" role="status" data-testid="audit-warning"><Icon name="alert" size={16} /> <span>{first.data.warning}</span></div>}
      <div className="grid-2 top">
        <Card title="Search">
          <form className="form" onSubmit={search} aria-label="Search the audit trail">
            <div className="grid-3 tight">
              <Field label="From" htmlFor="a-from"><input id="a-from" type="datetime-local" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} /></Field>
              <Field label="To" htmlFor="a-to"><input id="a-to" type="datetime-local" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} /></Field>
              <Field label="Decision" htmlFor="a-dec"><select id="a-dec" value={f.decision} onChange={(e) => setF({ ...f, decision: e.target.value })}><option value="">any</option>{DECISIONS.map((d) => <option key={d} value={d}>{d.replace(/_/g, ' ')}</option>)}</select></Field>
              <Field label="User" htmlFor="a-sub"><input id="a-sub" value={f.subject} placeholder="subject or key name" onChange={(e) => setF({ ...f, subject: e.target.value })} /></Field>
              <Field label="Tool" htmlFor="a-tool"><input id="a-tool" value={f.tool} onChange={(e) => setF({ ...f, tool: e.target.value })} /></Field>
            </div>
            <div className="form-actions"><Button kind="primary" type="submit" icon="search">Search</Button><Button icon="download" onClick={() => download('jsonl')}>Export JSONL</Button><Button icon="download" onClick={() => download('csv')}>Export CSV</Button></div>
          </form>
        </Card>
        <Card title={allLogs ? "This replica's chain" : 'Chain'} actions={<Button icon="check" busy={verifying} onClick={verify}>Verify now</Button>}>
          {chain.error ? <ErrorState error={chain.error} /> : !chain.data ? <Loading /> : (
            <dl className="kv" data-testid="chain">
              <dt>Verification</dt><dd><Badge tone={verificationTone(v?.status)} dot>{v?.status === 'unknown' ? 'not verified yet' : v?.status}</Badge> {v?.verifiedThrough !== undefined && <span className="muted small">{v.verifiedThrough} records</span>} {v?.checkedAt && <Time iso={v.checkedAt} />}{v?.status === 'unverified' && <p className="muted small">{v.error}</p>}</dd>
              {v?.running && <><dt>Verifying</dt><dd data-testid="verifying">pass {v.running.pass} of 2, {v.running.recordsRead} records read <span className="muted small">(started <Time iso={v.running.startedAt} />)</span></dd></>}
              {v?.error && <><dt>Error</dt><dd className="text-red">{v.error}</dd></>}
              <dt>Head</dt><dd className="mono small">{chain.data.head ? `#${chain.data.head.seq} ${chain.data.head.hash.slice(0, 16)}…` : 'empty log'}</dd>
              <dt>Checkpoint</dt><dd className="mono small">{chain.data.checkpoint ? <>{chain.data.checkpoint.seq} records · {chain.data.checkpoint.hash.slice(0, 16)}… <Time iso={chain.data.checkpoint.time} /></> : 'none signed yet'}</dd>
              {chain.data.origin && <><dt>Log</dt><dd className="mono small wrap">{chain.data.origin}</dd></>}
            </dl>
          )}
          {allLogs && logs.data && logs.data.logs.length > 0 && (
            <div className="table-wrap"><table className="table" data-testid="audit-logs">
              <caption className="muted small">Every replica's log, the most recently signed first</caption>
              <thead><tr><th scope="col">Replica</th><th scope="col">Records</th><th scope="col">Last record</th><th scope="col">Signed</th><th scope="col">Archived</th><th scope="col">Verified</th></tr></thead>
              <tbody>{logs.data.logs.map((l) => (
                <tr key={l.log}><td className="mono small">{l.log}{l.this && <span className="muted small"> (this one)</span>}</td><td>{l.records}</td><td>{l.lastRecordAt ? <Time iso={l.lastRecordAt} /> : '—'}</td><td>{l.checkpoint ? <>{l.checkpoint.size} <Time iso={l.checkpoint.time} /></> : '—'}</td><td>{l.archivedRecords == null ? '—' : <>{l.archivedRecords}{l.prunedBelow ? <span className="muted small" title="Records below this one were deleted from the database after its retention; the WORM archive holds them"> · database from #{l.prunedBelow}</span> : null}</>}</td>
                  <td>{l.verification && <LogVerification v={l.verification} />}{!l.this && <> <Button kind="ghost" icon="check" busy={verifyingLog === l.log} disabled={verifyingLog !== null} aria-label={`Verify log ${l.log}`} onClick={() => verifyLog(l.log)}>Verify</Button></>}</td></tr>
              ))}</tbody>
            </table></div>
          )}
        </Card>
      </div>
      <Card title={searching ? 'Matching records' : 'Records'} actions={<span className="muted small">newest first</span>}>
        {first.error ? <ErrorState error={first.error} onRetry={first.reload} /> : !first.data ? <Loading /> : rows.length === 0 ? <EmptyState icon="audit" title={searching ? 'No record matches' : 'The trail is empty'} /> : (
          <>
            <div className="table-wrap"><table className="table" data-testid="audit-records"><thead><tr>{allLogs && <th scope="col">Replica</th>}<th scope="col">#</th><th scope="col">When</th><th scope="col">User</th><th scope="col">Tool or action</th><th scope="col">Decision</th><th scope="col">Latency</th></tr></thead><tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  {allLogs && <td className="mono small">{r.log}</td>}
                  <td><button type="button" className="linklike mono" aria-label={`Open record ${r.log ? `${r.log} ` : ''}${r.seq}`} onClick={() => openRecord(r)}>#{r.seq}</button></td>
                  <td><Time iso={r.time} /></td><td className="mono small">{r.subject}</td><td className="mono">{r.tool || r.action || r.method}</td>
                  <td><Badge tone={decisionTone(r.decision)}>{r.decision.replace(/_/g, ' ')}</Badge> {r.outcome && <span className="muted small">{r.outcome}</span>}</td>
                  <td>{fmtLatency(r.latencyMs)}</td>
                </tr>
              ))}
            </tbody></table></div>
            {next && <div className="form-actions"><Button busy={loadingOlder} onClick={loadOlder}>Older records</Button></div>}
          </>
        )}
      </Card>
      <Dialog open={!!open} onClose={() => setOpen(null)} title={open ? `Audit record ${open.log ? `${open.log} ` : ''}#${open.seq}` : ''} wide
        footer={<><Button icon="link" onClick={loadProof}>Inclusion proof</Button><Button onClick={() => setOpen(null)}>Close</Button></>}>
        {open && (
          <>
            <dl className="kv" data-testid="record">
              {open.log && <><dt>Replica</dt><dd className="mono">{open.log}</dd></>}
              <dt>Time</dt><dd>{open.time}</dd>
              <dt>User</dt><dd className="mono">{open.subject}{open.clientId ? ` via ${open.clientId}` : ''}</dd>
              <dt>{open.tool ? 'Tool' : 'Action'}</dt><dd className="mono">{open.tool || open.action || open.method}</dd>
              <dt>Decision</dt><dd><Badge tone={decisionTone(open.decision)}>{open.decision.replace(/_/g, ' ')}</Badge> {open.outcome && <span className="muted small">{open.outcome}</span>}</dd>
              {open.reasons && open.reasons.length > 0 && <><dt>Why</dt><dd>{open.reasons.join('; ')}</dd></>}
              <dt>Latency</dt><dd>{fmtLatency(open.latencyMs)}</dd>
              <dt>Request</dt><dd className="mono small">{open.requestId || '—'}</dd>
              <dt>Leaf hash</dt><dd className="mono small wrap">{open.hash}</dd>
            </dl>
            <h3 className="h4">Arguments (masked)</h3>
            <CodeBlock label="Masked arguments" value={open.arguments ?? {}} />
            {proof && (
              <div className={`notice ${proof.valid ? 'notice-green' : 'notice-red'}`} data-testid="proof">
                <Icon name={proof.valid ? 'check' : 'alert'} size={16} />
                <span>{proof.valid ? 'Included' : 'NOT included'} in the signed checkpoint of {proof.checkpoint.seq} records: {proof.path.length} hashes lead from this record's leaf to the signed root <span className="mono small">{proof.checkpoint.hash.slice(0, 16)}…</span>{proof.valid ? ', checked by the gateway.' : '.'}</span>
              </div>
            )}
            {proofErr instanceof ApiError && (proofErr.status === 404 || proofErr.status === 409) ? (
              <div className="notice notice-amber" role="status"><Icon name="info" size={16} /> <span>{proofErr.message}</span></div>
            ) : <InlineError error={proofErr} />}
          </>
        )}
      </Dialog>
    </>
  );
}

// ok; broken; a stored outcome no key of the deployment sealed ("unverified": a claim only,
// the error says why); none yet
function verificationTone(status?: string) {
  return status === 'ok' ? 'green' : status === 'broken' ? 'red' : status === 'unverified' ? 'amber' : 'neutral';
}

// A log's last verification, as the replicas table shows it (the chain card shows this
// replica's in full).
function LogVerification({ v }: { v: NonNullable<LogInfo['verification']> }) {
  if (v.running) return <span className="muted small">pass {v.running.pass} of 2…</span>;
  if (v.status === 'unknown') return <span className="muted small">—</span>;
  // when and by which replica (any replica's outcome is stored with the log), and the first problem
  const title = [v.error, v.checkedAt && `checked ${v.checkedAt}`, v.by && `by ${v.by}`].filter(Boolean).join(' · ');
  return <span title={title}><Badge tone={verificationTone(v.status)} dot>{v.status}</Badge> <span className="muted small">{v.verifiedThrough}</span></span>;
}
