// The console's building blocks: page header, cards, badges, buttons, states (loading, empty,
// error, "not available on this gateway yet", forbidden), dialogs (native <dialog>: focus
// trap, Escape and the backdrop come from the browser), toasts and form fields.
import { createContext, ReactNode, useCallback, useContext, useEffect, useId, useRef, useState } from 'react';
import { ApiError } from '../api';
import { Icon, IconName } from './icons';

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="subtitle">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function Card({ title, actions, children, className = '', id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  const hid = useId();
  return (
    <section className={`card ${className}`} aria-labelledby={title ? hid : undefined} id={id}>
      {(title || actions) && (
        <div className="card-head">
          {title && <h2 id={hid}>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </div>
      )}
      <div className="card-body">{children}</div>
    </section>
  );
}

type Tone = 'neutral' | 'green' | 'blue' | 'amber' | 'red' | 'violet';

export function Badge({ tone = 'neutral', children, dot }: { tone?: Tone; children: ReactNode; dot?: boolean }) {
  return <span className={`badge badge-${tone}`}>{dot && <span className="dot" aria-hidden="true" />}{children}</span>;
}

const statusTone: Record<string, Tone> = { active: 'green', draft: 'blue', deprecated: 'amber', disabled: 'neutral' };
export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone[status] || 'neutral'} dot>{status}</Badge>;
}
const riskTone: Record<string, Tone> = { read: 'neutral', write: 'amber', privileged: 'red' };
export function RiskBadge({ risk }: { risk?: string }) {
  return <Badge tone={riskTone[risk || 'read'] || 'neutral'}>{risk || 'read'}</Badge>;
}

export function Button({ kind = 'secondary', icon, children, busy, ...rest }: {
  kind?: 'primary' | 'secondary' | 'danger' | 'ghost'; icon?: IconName; busy?: boolean; children?: ReactNode;
} & React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" className={`btn btn-${kind}`} aria-busy={busy || undefined} disabled={busy || rest.disabled} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon && <Icon name={icon} size={16} />}
      {children && <span>{children}</span>}
    </button>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function EmptyState({ icon = 'info', title, children, action }: { icon?: IconName; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <span className="state-icon"><Icon name={icon} size={22} /></span>
      <h2 className="h3">{title}</h2>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

/** The backend of this page has not landed on this gateway yet. */
export function NotAvailable({ feature, endpoints }: { feature: string; endpoints: string[] }) {
  return (
    <div className="state state-unavailable" data-testid="not-available">
      <span className="state-icon"><Icon name="plug" size={22} /></span>
      <h2 className="h3">{feature} is not available on this gateway yet</h2>
      <p>This gateway's admin API does not offer these endpoints yet. The page will work as soon as the gateway is upgraded to a version that does.</p>
      <details>
        <summary>Endpoints this page uses</summary>
        <ul className="mono-list">{endpoints.map((e) => <li key={e}><code>{e}</code></li>)}</ul>
      </details>
    </div>
  );
}

export function ErrorState({ error, onRetry, feature, endpoints }: { error: ApiError; onRetry?: () => void; feature?: string; endpoints?: string[] }) {
  if (error.notAvailable && feature) return <NotAvailable feature={feature} endpoints={endpoints || []} />;
  if (error.status === 403)
    return (
      <div className="state state-error" role="alert">
        <span className="state-icon"><Icon name="lock" size={22} /></span>
        <h2 className="h3">You do not have permission to see this</h2>
        <p>{error.message}. Ask a platform administrator for the admin role.</p>
      </div>
    );
  return (
    <div className="state state-error" role="alert">
      <span className="state-icon"><Icon name="alert" size={22} /></span>
      <h2 className="h3">{error.status === 0 ? 'The gateway cannot be reached' : 'Something went wrong'}</h2>
      <p>{error.message}{error.status ? ` (HTTP ${error.status}, ${error.code})` : ''}</p>
      {onRetry && <Button icon="refresh" onClick={onRetry}>Try again</Button>}
    </div>
  );
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? (error.status === 403 ? `Not allowed: ${error.message}` : error.message) : String(error);
  return <div className="inline-error" role="alert"><Icon name="alert" size={16} /> <span>{msg}</span></div>;
}

export function Dialog({ open, onClose, title, children, footer, wide }: { open: boolean; onClose: () => void; title: string; children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const hid = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className={`dialog ${wide ? 'dialog-wide' : ''}`} aria-labelledby={hid} onClose={onClose}
      onClick={(e) => { if (e.target === ref.current) onClose(); }}>
      {open && (
        <div className="dialog-inner">
          <div className="dialog-head">
            <h2 id={hid}>{title}</h2>
            <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}><Icon name="x" /></button>
          </div>
          <div className="dialog-body">{children}</div>
          {footer && <div className="dialog-foot">{footer}</div>}
        </div>
      )}
    </dialog>
  );
}

export function Field({ label, hint, children, htmlFor }: { label: string; hint?: ReactNode; children: ReactNode; htmlFor?: string }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

/** A switch; `what` (e.g. the rule's id) completes its accessible name without being shown. */
export function Switch({ checked, onChange, label, what, id }: { checked: boolean; onChange: (v: boolean) => void; label: string; what?: string; id?: string }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" id={id} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span className="switch-track" aria-hidden="true"><span className="switch-thumb" /></span>
      <span>{label}{what && <span className="sr-only"> {what}</span>}</span>
    </label>
  );
}

export function Tabs<T extends string>({ tabs, value, onChange, label }: { tabs: Array<{ id: T; label: string }>; value: T; onChange: (v: T) => void; label: string }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKey = (e: React.KeyboardEvent, i: number) => {
    const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!d) return;
    const n = tabs[(i + d + tabs.length) % tabs.length];
    onChange(n.id);
    refs.current[n.id]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((t, i) => (
        <button key={t.id} type="button" role="tab" ref={(el) => { refs.current[t.id] = el; }} aria-selected={t.id === value}
          tabIndex={t.id === value ? 0 : -1} className={t.id === value ? 'tab active' : 'tab'} onClick={() => onChange(t.id)} onKeyDown={(e) => onKey(e, i)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function Stat({ label, value, hint, tone }: { label: string; value: ReactNode; hint?: ReactNode; tone?: Tone }) {
  return (
    <div className={`stat ${tone ? `stat-${tone}` : ''}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

export function CodeBlock({ value, label }: { value: unknown; label: string }) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return <pre className="code" tabIndex={0} aria-label={label}>{text}</pre>;
}

// ---- toasts ---------------------------------------------------------------------------------

interface Toast { id: number; tone: 'ok' | 'error'; text: string }
const ToastCtx = createContext<(tone: Toast['tone'], text: string) => void>(() => {});

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((tone: Toast['tone'], text: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, tone, text }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), tone === 'error' ? 8000 : 4000);
  }, []);
  return (
    <ToastCtx.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`}>
            <Icon name={t.tone === 'ok' ? 'check' : 'alert'} size={16} /> <span>{t.text}</span>
          </div>
        ))}
      </div>
    </ToastCtx.Provider>
  );
}
export const useToast = () => useContext(ToastCtx);

// ---- formatting -----------------------------------------------------------------------------

export function relTime(iso?: string | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((Date.now() - t) / 1000);
  if (s < -45) { // in the future (an approval's expiry)
    const f = -s;
    if (f < 3600) return `in ${Math.round(f / 60)} min`;
    if (f < 86400) return `in ${Math.round(f / 3600)} h`;
    if (f < 86400 * 30) return `in ${Math.round(f / 86400)} d`;
    return new Date(t).toISOString().slice(0, 10);
  }
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

export function Time({ iso }: { iso?: string | null }) {
  if (!iso) return <span className="muted">—</span>;
  return <time dateTime={iso} title={iso}>{relTime(iso)}</time>;
}

export const fmtInt = (n: number | undefined | null) => (n === undefined || n === null ? '—' : n.toLocaleString('en-US'));
