// Settings: the gateway's effective configuration (GET /admin/api/settings), grouped, with the
// source of each value (default, environment, file:line, command line) and secrets redacted.
// Read-only: settings are environment/file configuration, changed by a deployment.
import { useMemo, useState } from 'react';
import { Page, Setting } from '../api';
import { Icon } from '../components/icons';
import { Badge, Card, ErrorState, Loading, PageHeader } from '../components/ui';
import { useApi, useTitle } from '../hooks';

function SourceBadge({ source }: { source: string }) {
  if (source === 'default') return <Badge>default</Badge>;
  if (source === 'env') return <Badge tone="blue">environment</Badge>;
  if (source === 'override') return <Badge tone="violet">command line</Badge>;
  if (source.startsWith('file:')) return <Badge tone="green">{source}</Badge>;
  return <Badge>{source}</Badge>;
}

export function SettingsPage() {
  useTitle('Settings');
  const s = useApi<Page<Setting>>('/settings');
  const [q, setQ] = useState('');
  const [changedOnly, setChangedOnly] = useState(false);
  const groups = useMemo(() => {
    const m = new Map<string, Setting[]>();
    const qq = q.trim().toLowerCase();
    for (const x of s.data?.items || []) {
      if (changedOnly && x.source === 'default') continue;
      if (qq && !x.name.toLowerCase().includes(qq) && !x.help.toLowerCase().includes(qq) && !x.value.toLowerCase().includes(qq)) continue;
      if (!m.has(x.group)) m.set(x.group, []);
      m.get(x.group)!.push(x);
    }
    return [...m.entries()];
  }, [s.data, q, changedOnly]);
  const total = s.data?.items.length || 0;
  const nondefault = (s.data?.items || []).filter((x) => x.source !== 'default').length;
  return (
    <>
      <PageHeader title="Settings" subtitle={s.data ? `${total} settings · ${nondefault} set explicitly · secrets are never shown` : 'Effective configuration of this gateway'} />
      <Card>
        <div className="toolbar" role="search">
          <div className="search"><Icon name="search" size={16} /><input type="search" aria-label="Search settings" placeholder="Search name, value or meaning" value={q} onChange={(e) => setQ(e.target.value)} /></div>
          <label className="check"><input type="checkbox" checked={changedOnly} onChange={(e) => setChangedOnly(e.target.checked)} /> Only values not at their default</label>
        </div>
        {s.error ? <ErrorState error={s.error} onRetry={s.reload} feature="Settings" endpoints={['GET /admin/api/settings']} /> : !s.data ? <Loading /> : groups.length === 0 ? <p className="muted pad">No setting matches.</p> : (
          groups.map(([group, items]) => (
            <section key={group} className="settings-group" aria-labelledby={`g-${group}`}>
              <h2 id={`g-${group}`} className="h4">{group}</h2>
              <div className="table-wrap">
                <table className="table settings-table">
                  <thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead>
                  <tbody>
                    {items.map((x) => (
                      <tr key={x.name}>
                        <td><div className="mono row-title">{x.name}</div><div className="row-sub">{x.help}</div></td>
                        <td className="value-cell">
                          {x.secret ? <span className="secret"><Icon name="lock" size={14} /> {x.value ? 'set (redacted)' : 'not set'}</span>
                            : x.value === '' ? <span className="muted">(empty)</span> : <code className="wrap">{x.value}</code>}
                          {!x.secret && x.source !== 'default' && x.default !== x.value && <div className="row-sub">default: <code>{x.default || '(empty)'}</code></div>}
                        </td>
                        <td><SourceBadge source={x.source} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))
        )}
      </Card>
    </>
  );
}
