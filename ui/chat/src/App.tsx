// The chat page: sign-in, the person's conversations (list, new, resume, delete) and the
// conversation itself. A turn streams in (text, tool calls with their decisions); a
// confirmation the gateway asks for opens a dialog; errors and refusals are said in words.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized, setCredential, streamTurn } from './api';
import { completeOidc, endSession, isOidcCallback, loadConfig, startSession, storedSession, whoami, type ChatConfig, type Principal } from './auth';
import { applyEvent, fromStored, waitingCall, type Item, type Pending, type StoredMessage, type TurnEvent } from './model';
import { SignIn } from './SignIn';
import { ConfirmDialog, Composer, Messages } from './Chat';

interface ConversationRow {
  id: string;
  title: string;
  updated_at: string;
  awaiting_confirmation: boolean;
}

export function App() {
  const [config, setConfig] = useState<ChatConfig | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [me, setMe] = useState<Principal | null>(null);
  const [ready, setReady] = useState(false);

  const signOut = useCallback(() => {
    endSession();
    setMe(null);
  }, []);

  useEffect(() => onUnauthorized(signOut), [signOut]);

  useEffect(() => {
    (async () => {
      try {
        const c = await loadConfig();
        setConfig(c);
        if (c.auth?.oidc && isOidcCallback()) await completeOidc(c.auth.oidc);
        const s = storedSession() || (c.auth?.mcp_mode === 'off' ? { credential: '', method: 'none' as const } : null);
        if (s) {
          startSession(s);
          try {
            setMe(await whoami());
          } catch {
            endSession();
          }
        }
      } catch (e) {
        setProblem(e instanceof Error ? e.message : String(e));
      } finally {
        setReady(true);
      }
    })();
  }, []);

  if (!ready) return <main className="center" aria-busy="true"><p>Loading…</p></main>;
  if (problem || !config)
    return (
      <main className="center">
        <h1>MSIL Service Assistant</h1>
        <p role="alert">The assistant cannot start: {problem || 'no configuration'}.</p>
      </main>
    );
  if (!me)
    return (
      <SignIn
        config={config}
        onSignedIn={(p, credential) => {
          startSession({ credential, method: 'api_key' });
          setMe(p);
        }}
      />
    );
  return <ChatApp config={config} me={me} onSignOut={signOut} />;
}

function ChatApp({ config, me, onSignOut }: { config: ChatConfig; me: Principal; onSignOut: () => void }) {
  const [rows, setRows] = useState<ConversationRow[]>([]);
  const [current, setCurrent] = useState<string | null>(null);
  const [items, setItems] = useState<Item[]>([]);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  const refresh = useCallback(async () => {
    try {
      const r = await api<{ conversations: ConversationRow[] }>('/conversations');
      setRows(r.conversations);
    } catch (e) {
      setNotice(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    refresh();
  }, [refresh]);

  const open = useCallback(async (id: string) => {
    abort.current?.abort();
    setNotice(null);
    try {
      const c = await api<{ id: string; messages: StoredMessage[]; pending: Pending | null }>(`/conversations/${id}`);
      setCurrent(c.id);
      setItems(fromStored(c.messages, c.pending));
    } catch (e) {
      setNotice(e instanceof ApiError && e.status === 404 ? 'That conversation no longer exists.' : String(e));
      refresh();
    }
  }, [refresh]);

  const newConversation = useCallback(() => {
    abort.current?.abort();
    setCurrent(null);
    setItems([]);
    setNotice(null);
  }, []);

  const remove = useCallback(async (id: string) => {
    try {
      await api(`/conversations/${id}`, { method: 'DELETE' });
      if (id === current) newConversation();
      refresh();
    } catch (e) {
      setNotice(String(e));
    }
  }, [current, newConversation, refresh]);

  const run = useCallback(async (id: string, path: string, body: unknown, optimistic: Item[]) => {
    setBusy(true);
    setNotice(null);
    setItems(optimistic);
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      await streamTurn(`/conversations/${id}/${path}`, body, (ev: TurnEvent) => setItems((it) => applyEvent(it, ev)), ctl.signal);
    } catch (e) {
      if (!ctl.signal.aborted) {
        if (e instanceof ApiError && e.status === 409) await open(id);
        setNotice(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setBusy(false);
      refresh();
    }
  }, [open, refresh]);

  const send = useCallback(async (text: string) => {
    let id = current;
    if (!id) {
      try {
        const c = await api<{ id: string }>('/conversations', { method: 'POST', body: { title: text } });
        id = c.id;
        setCurrent(id);
      } catch (e) {
        setNotice(e instanceof Error ? e.message : String(e));
        return;
      }
    }
    await run(id, 'messages', { content: text }, [...items, { kind: 'user', text }]);
  }, [current, items, run]);

  const answer = useCallback(async (callId: string, accept: boolean) => {
    if (!current) return;
    await run(current, 'confirm', { call_id: callId, accept }, items);
  }, [current, items, run]);

  const waiting = busy ? null : waitingCall(items);
  const who = me.name || me.subject;

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">S</span>
          <div>
            <h1>MSIL Service Assistant</h1>
            <p className="sub">{config.configured ? `Model: ${config.model} (${config.provider})` : 'No language model configured'}</p>
          </div>
        </div>
        <div className="who">
          <span title={me.roles.join(', ')}>
            Signed in as <strong>{who}</strong>
            {me.roles.length ? ` · ${me.roles.join(', ')}` : ''}
          </span>
          <button type="button" className="link" onClick={() => { setCredential(null); onSignOut(); }}>Sign out</button>
        </div>
      </header>
      <div className="body">
        <nav className="side" aria-label="Conversations">
          <button type="button" className="primary wide" onClick={newConversation}>New conversation</button>
          <h2 className="visually-hidden">Your conversations</h2>
          <ul className="convs">
            {rows.map((r) => (
              <li key={r.id} className={r.id === current ? 'active' : ''}>
                <button type="button" className="conv" onClick={() => open(r.id)} aria-current={r.id === current ? 'true' : undefined}>
                  <span className="title">{r.title}</span>
                  {r.awaiting_confirmation && <span className="badge">needs your answer</span>}
                </button>
                <button type="button" className="icon" aria-label={`Delete conversation “${r.title}”`} onClick={() => remove(r.id)}>×</button>
              </li>
            ))}
            {!rows.length && <li className="empty">No conversations yet.</li>}
          </ul>
        </nav>
        <main className="chat">
          {!config.configured && (
            <div className="banner" role="status">
              No language model is configured for this gateway, so the assistant cannot answer. An administrator sets
              GW_CHAT_PROVIDER, GW_CHAT_MODEL and the provider's key (see docs/chat.md).
            </div>
          )}
          <Messages items={items} busy={busy} onExample={send} />
          {notice && <p className="notice" role="alert">{notice}</p>}
          <Composer disabled={busy || !!waiting} max={config.max_message_bytes} onSend={send} waiting={!!waiting} />
        </main>
      </div>
      {waiting && <ConfirmDialog call={waiting} onAnswer={(accept) => answer(waiting.id, accept)} />}
    </div>
  );
}
