// API products (bundles): list, create, edit title/description/status, membership (add tools
// with a search, remove them) and who the product is exposed to (exposure rules, when the
// gateway has them).
import { FormEvent, useEffect, useMemo, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { api, Bundle, listAll, Page, Tool } from '../api';
import { Icon } from '../components/icons';
import { Badge, Button, Card, Dialog, EmptyState, ErrorState, Field, InlineError, Loading, PageHeader, StatusBadge, Time, useToast } from '../components/ui';
import { useApi, useTitle } from '../hooks';
import { PRINCIPAL_SELECTORS, Rule, selectors, selectorText, TOOL_SELECTORS } from '../governance';

export function ProductsPage({ selected }: { selected?: string }) {
  useTitle(selected ? `API product ${selected}` : 'API products');
  const bundles = useApi<Page<Bundle>>('/bundles', { limit: 1000 });
  const [creating, setCreating] = useState(false);
  const [, navigate] = useLocation();
  const list = bundles.data?.items || [];
  return (
    <>
      <PageHeader title="API products" subtitle="Tools grouped into products (e.g. Service Booking): expose, disable or review them together."
        actions={<Button kind="primary" icon="plus" onClick={() => setCreating(true)}>New product</Button>} />
      {bundles.error ? <ErrorState error={bundles.error} onRetry={bundles.reload} /> : !bundles.data ? <Loading /> : (
        <div className={selected ? 'split' : ''}>
          <Card>
            {list.length === 0 ? (
              <EmptyState icon="products" title="No API products yet" action={<Button kind="primary" onClick={() => setCreating(true)}>Create a product</Button>}>Products are also created when you import a spec into a product.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table">
                  <thead><tr><th scope="col">Product</th><th scope="col">Status</th><th scope="col">Tools</th><th scope="col">Updated</th></tr></thead>
                  <tbody>
                    {list.map((b) => (
                      <tr key={b.name} className={b.name === selected ? 'selected' : ''}>
                        <td><Link href={`/products/${encodeURIComponent(b.name)}`} className="row-title">{b.title || b.name}</Link><div className="row-sub mono">{b.name}</div></td>
                        <td><StatusBadge status={b.status} /></td>
                        <td>{b.toolCount}</td>
                        <td><Time iso={b.updatedAt} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
          {selected && <ProductDetail key={selected} name={selected} onChanged={bundles.reload} onDeleted={() => { bundles.reload(); navigate('/products'); }} />}
        </div>
      )}
      <CreateProduct open={creating} onClose={() => setCreating(false)} onCreated={(b) => { setCreating(false); bundles.reload(); navigate(`/products/${encodeURIComponent(b.name)}`); }} />
    </>
  );
}

function CreateProduct({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (b: Bundle) => void }) {
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const b = await api<Bundle>('/bundles', { method: 'POST', body: { name: name.trim(), title: title.trim() || name.trim(), description } });
      toast('ok', `Created ${b.title}`);
      setName(''); setTitle(''); setDescription('');
      onCreated(b);
    } catch (e2) {
      setErr(e2);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="New API product"
      footer={<><Button onClick={onClose}>Cancel</Button><Button kind="primary" type="submit" form="new-product" busy={busy}>Create</Button></>}>
      <form id="new-product" onSubmit={submit} className="form">
        <InlineError error={err} />
        <Field label="Name" htmlFor="p-name" hint="1–64 characters: letters, digits, . _ -"><input id="p-name" required pattern="[A-Za-z0-9_.\-]{1,64}" value={name} onChange={(e) => setName(e.target.value)} placeholder="service-booking" /></Field>
        <Field label="Title" htmlFor="p-title"><input id="p-title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="Service Booking" /></Field>
        <Field label="Description" htmlFor="p-desc"><textarea id="p-desc" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
      </form>
    </Dialog>
  );
}

function ProductDetail({ name, onChanged, onDeleted }: { name: string; onChanged: () => void; onDeleted: () => void }) {
  const toast = useToast();
  const bundle = useApi<Bundle>(`/bundles/${encodeURIComponent(name)}`);
  const [tools, setTools] = useState<Tool[] | null>(null);
  const [tick, setTick] = useState(0);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const rules = useApi<Page<Rule>>('/exposure/rules');
  useEffect(() => {
    listAll<Tool>('/tools').then(setTools, setErr);
  }, [tick]);
  const members = useMemo(() => (tools || []).filter((t) => t.bundle === name), [tools, name]);
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  useEffect(() => { if (bundle.data) { setTitle(bundle.data.title); setDescription(bundle.data.description); } }, [bundle.data]);

  if (bundle.error) return <Card><ErrorState error={bundle.error} onRetry={bundle.reload} /></Card>;
  const b = bundle.data;
  if (!b) return <Card><Loading /></Card>;

  const patch = async (body: Record<string, unknown>, what: string) => {
    setBusy(what);
    setErr(null);
    try {
      bundle.setData(await api<Bundle>(`/bundles/${encodeURIComponent(name)}`, { method: 'PATCH', body }));
      onChanged();
      toast('ok', `Saved ${name}`);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(null);
    }
  };
  const setMember = async (tool: string, inBundle: boolean) => {
    setBusy(tool);
    setErr(null);
    try {
      await api(`/tools/${encodeURIComponent(tool)}`, { method: 'PATCH', body: { bundle: inBundle ? name : null } });
      setTick((t) => t + 1);
      onChanged();
      bundle.reload();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(null);
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the product ${name}? Its ${members.length} tools stay, without a product.`)) return;
    setBusy('delete');
    try {
      await api(`/bundles/${encodeURIComponent(name)}`, { method: 'DELETE', query: { detachTools: true } });
      toast('ok', `Deleted ${name}`);
      onDeleted();
    } catch (e) {
      setErr(e);
      setBusy(null);
    }
  };
  // rules that name this product, or show every tool (no tool selector)
  const exposed = (rules.data?.items || []).filter((r) => r.bundles?.includes(name) || selectors(r, TOOL_SELECTORS).length === 0);

  return (
    <div className="stack">
      <Card title={b.title || b.name} actions={<>
        {b.status === 'active'
          ? <Button busy={busy === 'status'} onClick={() => patch({ status: 'disabled' }, 'status')}>Disable product</Button>
          : <Button kind="primary" busy={busy === 'status'} onClick={() => patch({ status: 'active' }, 'status')}>Enable product</Button>}
        <Button kind="danger" busy={busy === 'delete'} onClick={remove}>Delete</Button>
      </>}>
        <InlineError error={err} />
        {b.status === 'disabled' && <div className="notice notice-amber"><Icon name="info" size={16} /> Disabled: none of its tools is served, whatever their own status.</div>}
        <form className="form" onSubmit={(e) => { e.preventDefault(); patch({ title, description }, 'meta'); }}>
          <Field label="Title" htmlFor="pd-title"><input id="pd-title" value={title} onChange={(e) => setTitle(e.target.value)} /></Field>
          <Field label="Description" htmlFor="pd-desc"><textarea id="pd-desc" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
          <div className="form-actions"><Button type="submit" busy={busy === 'meta'} disabled={title === b.title && description === b.description}>Save</Button></div>
        </form>
      </Card>
      <Card title={`Tools (${members.length})`} actions={<Button icon="plus" onClick={() => setAdding(true)}>Add tools</Button>}>
        {!tools ? <Loading /> : members.length === 0 ? <EmptyState title="No tools in this product" icon="tools">Add tools from the catalogue, or import a spec into this product.</EmptyState> : (
          <ul className="member-list">
            {members.map((t) => (
              <li key={t.name}>
                <Link href={`/tools/${encodeURIComponent(t.name)}`} className="mono">{t.name}</Link> <StatusBadge status={t.status} />
                <Button kind="ghost" busy={busy === t.name} onClick={() => setMember(t.name, false)} aria-label={`Remove ${t.name} from ${name}`}>Remove</Button>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Exposed to">
        {rules.error ? (rules.error.notAvailable ? <p className="muted small" data-testid="not-available">Exposure rules are not available on this gateway yet: every active tool is visible to every caller.</p> : <ErrorState error={rules.error} />) : !rules.data ? <Loading /> : exposed.length === 0 ? (
          <p className="muted">No exposure rule names this product: <Link href="/exposure">add one</Link>.</p>
        ) : (
          <ul className="member-list">{exposed.map((r) => { const who = selectors(r, PRINCIPAL_SELECTORS); return <li key={r.id}><Badge tone={r.effect === 'deny' ? 'red' : 'green'}>{r.effect === 'deny' ? 'hidden from' : 'shown to'}</Badge> <span className="mono">{who.length ? who.map(({ sel, values }) => selectorText(sel, values)).join('; ') : 'everyone'}</span> <span className="muted small">rule {r.id}{selectors(r, TOOL_SELECTORS).length === 0 ? ' (all tools)' : ''}</span></li>; })}</ul>
        )}
      </Card>
      <AddTools open={adding} onClose={() => setAdding(false)} tools={(tools || []).filter((t) => t.bundle !== name)} onAdd={async (names) => { for (const n of names) await setMember(n, true); setAdding(false); }} />
    </div>
  );
}

function AddTools({ open, onClose, tools, onAdd }: { open: boolean; onClose: () => void; tools: Tool[]; onAdd: (names: string[]) => Promise<void> }) {
  const [q, setQ] = useState('');
  const [pick, setPick] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const shown = tools.filter((t) => !q || t.name.includes(q.toLowerCase()) || (t.title || '').toLowerCase().includes(q.toLowerCase())).slice(0, 200);
  return (
    <Dialog open={open} onClose={onClose} title="Add tools to the product" wide
      footer={<><Button onClick={onClose}>Cancel</Button><Button kind="primary" busy={busy} disabled={!pick.size} onClick={async () => { setBusy(true); await onAdd([...pick]); setBusy(false); setPick(new Set()); }}>Add {pick.size}</Button></>}>
      <div className="search"><Icon name="search" size={16} /><input type="search" aria-label="Search tools to add" placeholder="Search tools" value={q} onChange={(e) => setQ(e.target.value)} autoFocus /></div>
      <ul className="pick-list">
        {shown.map((t) => (
          <li key={t.name}><label><input type="checkbox" checked={pick.has(t.name)} onChange={() => { const x = new Set(pick); if (x.has(t.name)) x.delete(t.name); else x.add(t.name); setPick(x); }} /> <span className="mono">{t.name}</span> {t.bundle && <span className="muted small">in {t.bundle}</span>}</label></li>
        ))}
        {shown.length === 0 && <li className="muted">No tool matches.</li>}
      </ul>
    </Dialog>
  );
}

