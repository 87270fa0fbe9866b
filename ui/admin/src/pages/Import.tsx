// Import: a spec from a file or a URL -> preview (the tools it makes, warnings, the diff
// against what the registry has now) -> approve all or some, with edits -> result.
// Uploads report their progress (large specs); a parse error shows where it is in the spec.
import { FormEvent, useMemo, useRef, useState } from 'react';
import { Link } from 'wouter';
import { api, ApiError, buildUrl, Diff, getCredential, Preview, Risk, Tool } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, EmptyState, Field, InlineError, PageHeader, Stat, Switch, Tabs, useToast } from '../components/ui';
import { useTitle } from '../hooks';

type Source = 'file' | 'url';
interface Progress { phase: 'upload' | 'server'; loaded: number; total: number }

/** POST the preview with upload progress (XMLHttpRequest: fetch has no upload events). */
function previewRequest(body: string, query: Record<string, string>, onProgress: (p: Progress) => void): Promise<Preview> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', buildUrl('/imports/preview', query));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', body.trimStart().startsWith('{') ? 'application/json' : 'application/yaml');
    const c = getCredential();
    if (c) xhr.setRequestHeader('Authorization', `Bearer ${c}`);
    xhr.upload.onprogress = (e) => onProgress({ phase: 'upload', loaded: e.loaded, total: e.total || body.length });
    xhr.upload.onload = () => onProgress({ phase: 'server', loaded: body.length, total: body.length });
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The gateway cannot be reached.'));
    xhr.onload = () => {
      let data: { error?: { code: string; message: string } } | null = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data as unknown as Preview);
      else reject(new ApiError(xhr.status, data?.error?.code || `http_${xhr.status}`, data?.error?.message || xhr.statusText));
    };
    xhr.send(body);
  });
}

/** "line 12, column 5" / "12:5" in a parser message -> the line number. */
export function errorLine(msg: string): number | null {
  const m = /line[ :]*(\d+)/i.exec(msg) || /\b(\d+):(\d+)\b/.exec(msg);
  return m ? Number(m[1]) : null;
}

export function ImportPage() {
  useTitle('Import');
  const toast = useToast();
  const [source, setSource] = useState<Source>('file');
  const [fileName, setFileName] = useState('');
  const [text, setText] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [specId, setSpecId] = useState('');
  const [bundle, setBundle] = useState('');
  const [upstream, setUpstream] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [edits, setEdits] = useState<Record<string, Partial<Tool>>>({});
  const [activate, setActivate] = useState(false);
  const [approving, setApproving] = useState(false);
  const [result, setResult] = useState<Diff | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  const reset = () => { setPreview(null); setResult(null); setError(null); setEdits({}); setPicked(new Set()); setProgress(null); };

  const readFile = (f: File) => {
    reset();
    setFileName(f.name);
    f.text().then(setText, () => setError(new ApiError(0, 'client', 'The file cannot be read.')));
  };

  const runPreview = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setPreview(null);
    setResult(null);
    const query: Record<string, string> = {};
    if (specId.trim()) query.specId = specId.trim();
    if (bundle.trim()) query.bundle = bundle.trim();
    if (upstream.trim()) query.upstream = upstream.trim();
    let body: string;
    if (source === 'file') {
      if (!text) { setError(new ApiError(0, 'client', 'Choose a spec file first.')); return; }
      if (fileName) query.fileName = fileName;
      body = text;
    } else {
      if (!/^https?:\/\//i.test(url.trim())) { setError(new ApiError(0, 'client', 'Give an http(s) URL of the spec.')); return; }
      body = JSON.stringify({ url: url.trim() });
    }
    setProgress({ phase: 'upload', loaded: 0, total: body.length });
    try {
      const p = await previewRequest(body, query, setProgress);
      setPreview(p);
      setPicked(new Set(p.tools.map((t) => t.name)));
      setEdits({});
    } catch (e2) {
      setError(e2 as ApiError);
    } finally {
      setProgress(null);
    }
  };

  const approve = async () => {
    if (!preview) return;
    setApproving(true);
    setError(null);
    try {
      const tools = preview.tools.filter((t) => picked.has(t.name)).map((t) => ({ ...t, ...(edits[t.name] || {}) }));
      const r = await api<{ diff: Diff }>('/imports', {
        method: 'POST',
        body: { spec: preview.spec, tools, activate, ...(bundle.trim() ? { bundle: bundle.trim() } : {}) },
        headers: { 'X-Change-Reason': `imported from the admin console (${tools.length} tools)` },
      });
      setResult(r.diff);
      toast('ok', `Imported ${preview.spec.title}: ${r.diff.added.length} added, ${r.diff.changed.length} changed`);
    } catch (e2) {
      setError(e2 as ApiError);
    } finally {
      setApproving(false);
    }
  };

  const edit = (name: string, patch: Partial<Tool>) => setEdits((e) => ({ ...e, [name]: { ...(e[name] || {}), ...patch } }));
  const line = error ? errorLine(error.message) : null;

  return (
    <>
      <PageHeader title="Import an API" subtitle="Each operation of an OpenAPI 3.x or Swagger 2.0 spec becomes an MCP tool. Nothing is written until you approve." />
      {result && preview ? (
        <Card title="Imported">
          <div className="result">
            <span className="state-icon ok"><Icon name="check" size={22} /></span>
            <div>
              <h3>{preview.spec.title} is in the registry</h3>
              <p className="muted">{result.added.length} tools added, {result.changed.length} changed, {result.removed.length} deprecated, {result.unchanged} unchanged{activate ? '; new tools are active' : '; new tools are drafts until you activate them'}.</p>
              <div className="row-actions">
                <Link href={`/tools?q=`} className="btn btn-primary">View tools</Link>
                <Button onClick={() => { reset(); setText(null); setFileName(''); }}>Import another spec</Button>
              </div>
            </div>
          </div>
          <DiffLists diff={result} />
        </Card>
      ) : (
        <Card>
          <form onSubmit={runPreview} className="form">
            <Tabs label="Spec source" value={source} onChange={(s) => { setSource(s); reset(); }} tabs={[{ id: 'file', label: 'Upload a file' }, { id: 'url', label: 'From a URL' }]} />
            {source === 'file' ? (
              <div className={`dropzone ${text ? 'has-file' : ''}`}
                onDragOver={(e) => e.preventDefault()}
                onDrop={(e) => { e.preventDefault(); const f = e.dataTransfer.files[0]; if (f) readFile(f); }}>
                <Icon name="upload" size={22} />
                <div>
                  {text ? <><strong>{fileName}</strong> <span className="muted">({(text.length / 1024).toFixed(0)} KB)</span></> : <>Drop a <strong>.yaml</strong> or <strong>.json</strong> spec here, or</>}
                </div>
                <label className="btn btn-secondary" htmlFor="specfile">{text ? 'Choose another file' : 'Choose a file'}</label>
                <input ref={fileRef} id="specfile" className="sr-only" type="file" accept=".yaml,.yml,.json,application/json,application/yaml" onChange={(e) => { const f = e.target.files?.[0]; if (f) readFile(f); }} />
              </div>
            ) : (
              <Field label="Spec URL" htmlFor="specurl" hint="Fetched by the gateway through its SSRF guard: public addresses only unless allowlisted.">
                <input id="specurl" type="url" placeholder="https://apis.example.com/openapi.yaml" value={url} onChange={(e) => setUrl(e.target.value)} />
              </Field>
            )}
            <div className="grid-3">
              <Field label="Spec id" htmlFor="specid" hint="Re-imports must use the same id (default: from the title)"><input id="specid" value={specId} onChange={(e) => setSpecId(e.target.value)} placeholder="service-booking" /></Field>
              <Field label="API product" htmlFor="imp-bundle" hint="New tools join it (created when missing)"><input id="imp-bundle" value={bundle} onChange={(e) => setBundle(e.target.value)} placeholder="service-booking" /></Field>
              <Field label="Upstream" htmlFor="imp-upstream" hint="The configured upstream the tools call"><input id="imp-upstream" value={upstream} onChange={(e) => setUpstream(e.target.value)} placeholder="service-booking" /></Field>
            </div>
            <div className="form-actions">
              <Button kind="primary" type="submit" icon="search" busy={!!progress}>Preview</Button>
              {progress && <ProgressBar p={progress} />}
            </div>
          </form>
          {error && (
            <div className="import-error">
              <InlineError error={error} />
              {line && text && <SpecExcerpt text={text} line={line} />}
            </div>
          )}
        </Card>
      )}
      {preview && !result && (
        <PreviewView preview={preview} picked={picked} setPicked={setPicked} edits={edits} edit={edit}
          activate={activate} setActivate={setActivate} approving={approving} onApprove={approve} />
      )}
    </>
  );
}

function ProgressBar({ p }: { p: Progress }) {
  const pct = p.total ? Math.round((p.loaded / p.total) * 100) : 0;
  return (
    <div className="progress" role="progressbar" aria-label="Preview progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={p.phase === 'upload' ? pct : undefined}>
      <div className="progress-track"><div className={p.phase === 'server' ? 'progress-fill indeterminate' : 'progress-fill'} style={{ width: p.phase === 'upload' ? `${pct}%` : '100%' }} /></div>
      <span className="small muted">{p.phase === 'upload' ? `Uploading ${(p.loaded / 1048576).toFixed(1)} of ${(p.total / 1048576).toFixed(1)} MB` : 'The gateway is reading the spec…'}</span>
    </div>
  );
}

function SpecExcerpt({ text, line }: { text: string; line: number }) {
  const lines = text.split('\n');
  const from = Math.max(1, line - 3);
  const to = Math.min(lines.length, line + 3);
  return (
    <pre className="code excerpt" aria-label={`The spec around line ${line}`} tabIndex={0}>
      {lines.slice(from - 1, to).map((l, i) => (
        <div key={from + i} className={from + i === line ? 'hl' : ''}><span className="ln">{from + i}</span>{l}</div>
      ))}
    </pre>
  );
}

export type RegistryView = { kind: 'new' | 'changed' | 'same' | 'unknown'; storedAs?: string; takenBy?: string };

/** What the diff says of each previewed tool, keyed by the name the preview computed. */
export function diffByTool(diff: Diff | null | undefined): Map<string, RegistryView> {
  const m = new Map<string, RegistryView>();
  if (!diff) return m;
  const kind = (n: string): RegistryView['kind'] => (diff.added.includes(n) ? 'new' : diff.changed.includes(n) ? 'changed' : 'same');
  for (const n of diff.added) m.set(n, { kind: 'new' });
  for (const n of diff.changed) m.set(n, { kind: 'changed' });
  for (const k of diff.nameKept || []) m.set(k.computed, { kind: kind(k.name), storedAs: k.name });
  for (const c of diff.conflicts || []) m.set(c.wanted, { kind: kind(c.name), storedAs: c.name, takenBy: c.takenBy });
  return m;
}

function DiffLists({ diff }: { diff: Diff }) {
  const groups: Array<[string, string[], 'green' | 'blue' | 'amber']> = [
    ['Added', diff.added, 'green'], ['Changed', diff.changed, 'blue'], ['Deprecated (no longer in the spec)', diff.removed, 'amber'],
    ['Under a prefixed name (the name was taken)', (diff.conflicts || []).map((c) => `${c.wanted} → ${c.name}`), 'amber'],
  ];
  return (
    <div className="diff">
      {groups.filter(([, l]) => l.length).map(([label, l, tone]) => (
        <div key={label}><h3 className="h4">{label} <Badge tone={tone}>{l.length}</Badge></h3><p className="mono small wrap">{l.join(', ')}</p></div>
      ))}
      {!diff.added.length && !diff.changed.length && !diff.removed.length && <p className="muted">No change to the registry.</p>}
    </div>
  );
}

function PreviewView({ preview, picked, setPicked, edits, edit, activate, setActivate, approving, onApprove }: {
  preview: Preview; picked: Set<string>; setPicked: (s: Set<string>) => void; edits: Record<string, Partial<Tool>>; edit: (n: string, p: Partial<Tool>) => void;
  activate: boolean; setActivate: (v: boolean) => void; approving: boolean; onApprove: () => void;
}) {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const s = preview.summary;
  // the registry's view of each previewed tool, by the name the preview computed; the diff
  // speaks of stored names, which differ for a taken name (prefixed) or a kept one
  const diffOf = useMemo(() => diffByTool(preview.diff), [preview]);
  const shown = preview.tools.filter((t) => !q || t.name.includes(q.toLowerCase()) || (t.description || '').toLowerCase().includes(q.toLowerCase()));
  const warnings = preview.warnings.filter((w) => w.level !== 'info');
  const infos = preview.warnings.length - warnings.length;
  return (
    <>
      <div className="stats">
        <Stat label="Spec" value={<span className="stat-text">{preview.spec.title}</span>} hint={`${s.spec.dialect} · version ${preview.spec.version || '—'}`} />
        <Stat label="Tools" value={s.tools} hint={`from ${s.operations} operations`} />
        <Stat label="New / changed" value={`${preview.diff?.added.length ?? '—'} / ${preview.diff?.changed.length ?? '—'}`} hint={preview.diff ? `${preview.diff.removed.length} would be deprecated${preview.diff.conflicts?.length ? ` · ${preview.diff.conflicts.length} under a prefixed name` : ''}` : 'no diff'} tone={preview.diff ? undefined : 'amber'} />
        <Stat label="Warnings" value={warnings.length} hint={`${s.excluded} excluded, ${s.skipped} skipped, ${infos} notes · ${s.elapsedMs.toFixed(0)} ms`} tone={warnings.length ? 'amber' : undefined} />
      </div>
      {preview.diffError && <div className="notice notice-red" role="alert"><Icon name="alert" size={16} /> {preview.diffError.message}. Rename or leave out that tool before approving.</div>}
      {warnings.length > 0 && (
        <Card title={`Warnings (${warnings.length})`} className="warnings">
          {(
            <ul className="warn-list">
              {warnings.slice(0, 100).map((w, i) => (
                <li key={i}><Badge tone={w.level === 'error' ? 'red' : 'amber'}>{w.level}</Badge> <span className="mono small">{w.operation || w.pointer || ''}</span> {w.message}</li>
              ))}
            </ul>
          )}
        </Card>
      )}
      <Card title={`Tools (${picked.size} of ${preview.tools.length} selected)`}
        actions={<>
          <div className="search small-search"><Icon name="search" size={14} /><input type="search" aria-label="Filter previewed tools" placeholder="Filter" value={q} onChange={(e) => setQ(e.target.value)} /></div>
          <Button kind="ghost" onClick={() => setPicked(new Set(preview.tools.map((t) => t.name)))}>Select all</Button>
          <Button kind="ghost" onClick={() => setPicked(new Set())}>Select none</Button>
        </>}>
        {preview.tools.length === 0 ? <EmptyState title="This spec makes no tools" icon="info">Every operation was excluded or skipped: see the warnings.</EmptyState> : (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th className="col-check"><span className="sr-only">Approve</span></th><th scope="col">Tool</th><th scope="col">Operation</th><th scope="col">Risk</th><th scope="col">Registry</th><th scope="col"><span className="sr-only">Edit</span></th></tr></thead>
              <tbody>
                {shown.map((t) => {
                  const e = edits[t.name] || {};
                  const r = preview.diff ? diffOf.get(t.name) || { kind: 'same' as const } : { kind: 'unknown' as const }; // no diff (a name conflict): nothing to compare with
                  const d = r.kind;
                  return (
                    <tr key={t.name} className={picked.has(t.name) ? '' : 'dim'}>
                      <td className="col-check"><input type="checkbox" aria-label={`Approve ${t.name}`} checked={picked.has(t.name)} onChange={() => { const x = new Set(picked); if (x.has(t.name)) x.delete(t.name); else x.add(t.name); setPicked(x); }} /></td>
                      <td>
                        <div className="mono row-title">{t.name}</div>
                        {open === t.name ? (
                          <div className="inline-edit">
                            <label className="sr-only" htmlFor={`d-${t.name}`}>Description of {t.name}</label>
                            <textarea id={`d-${t.name}`} rows={3} value={(e.description ?? t.description) || ''} onChange={(ev) => edit(t.name, { description: ev.target.value })} />
                          </div>
                        ) : <div className="row-sub">{(e.description ?? t.description ?? '').slice(0, 120)}{e.description !== undefined && <Badge tone="violet">edited</Badge>}</div>}
                      </td>
                      <td className="mono small">{t.binding?.method} {t.binding?.path}</td>
                      <td>
                        <label className="sr-only" htmlFor={`r-${t.name}`}>Risk of {t.name}</label>
                        <select id={`r-${t.name}`} className="compact" value={(e.risk ?? t.risk ?? 'read') as string} onChange={(ev) => edit(t.name, { risk: ev.target.value as Risk })}>
                          <option value="read">read</option><option value="write">write</option><option value="privileged">privileged</option>
                        </select>
                        {e.risk && e.risk !== t.risk && <span className="sr-only">edited</span>}
                      </td>
                      <td>{d === 'new' ? <Badge tone="green">new</Badge> : d === 'changed' ? <Badge tone="blue">changed</Badge> : d === 'unknown' ? <span className="muted">—</span> : <Badge>unchanged</Badge>}
                        {r.storedAs && <div className="row-sub" data-testid={`stored-as-${t.name}`}>{r.takenBy
                          ? <>as <span className="mono">{r.storedAs}</span>: {t.name} is {r.takenBy !== t.name ? `an alias of ${r.takenBy}` : 'taken'}</>
                          : <>keeps its name <span className="mono">{r.storedAs}</span></>}</div>}</td>
                      <td><Button kind="ghost" onClick={() => setOpen(open === t.name ? null : t.name)} aria-expanded={open === t.name} aria-label={`Edit description of ${t.name}`}>{open === t.name ? 'Done' : 'Edit'}</Button></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {preview.diff && preview.diff.removed.length > 0 && (
          <div className="notice notice-amber"><Icon name="alert" size={16} /> Approving deprecates {preview.diff.removed.length} tool(s) of this spec that are not in the approved set: <span className="mono small">{preview.diff.removed.slice(0, 10).join(', ')}</span></div>
        )}
        <div className="approve-bar">
          <Switch label="Activate new tools now (otherwise they stay drafts)" checked={activate} onChange={setActivate} />
          <Button kind="primary" icon="check" busy={approving} disabled={!picked.size} onClick={onApprove}>Approve {picked.size} tool{picked.size === 1 ? '' : 's'}</Button>
        </div>
      </Card>
    </>
  );
}
