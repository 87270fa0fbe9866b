// The conversation view: messages with streamed text, each tool call inline and collapsible
// (tool, arguments, result, the gateway's decision), errors in words, the composer and the
// confirmation dialog (a native modal <dialog>: focus kept inside and starting on Decline, so a
// stray Enter never accepts; Escape declines).
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { argumentLines, decisionLabel, errorTitle, explainTool, prettyContent, type Item, type ToolView } from './model';

const EXAMPLES = [
  'Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune',
  'Find dealer workshops near Baner, Pune',
  'What can you do for me?',
];

export function Messages({ items, busy, onExample }: { items: Item[]; busy: boolean; onExample: (t: string) => void }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [items]);
  if (!items.length)
    return (
      <section className="messages welcome" aria-label="Conversation">
        <h2>How can I help?</h2>
        <p>I book car service appointments and find workshops, using only what your account may do. I ask before I book anything.</p>
        <ul className="examples">
          {EXAMPLES.map((e) => (
            <li key={e}>
              <button type="button" onClick={() => onExample(e)} disabled={busy}>{e}</button>
            </li>
          ))}
        </ul>
      </section>
    );
  return (
    <section className="messages" aria-label="Conversation" aria-live="polite" aria-busy={busy}>
      {items.map((it, i) => <Message key={i} item={it} />)}
      {busy && (
        <p className="typing" role="status">
          <span aria-hidden="true">…</span>
          <span className="visually-hidden">The assistant is working</span>
        </p>
      )}
      <div ref={end} />
    </section>
  );
}

function Message({ item }: { item: Item }) {
  switch (item.kind) {
    case 'user':
      return <div className="msg user"><p className="bubble">{item.text}</p></div>;
    case 'assistant':
      return (
        <div className="msg assistant">
          {item.text && <p className="bubble">{item.text}</p>}
          {item.tools.map((t) => <ToolCall key={t.id} tool={t} />)}
        </div>
      );
    case 'status':
      return <p className="status-line" role="status">{item.message}</p>;
    case 'error':
      return (
        <div className="msg error" role="alert">
          <p className="bubble">
            <strong>{errorTitle(item.errorKind)}.</strong> {item.message}
          </p>
        </div>
      );
  }
}

export function ToolCall({ tool }: { tool: ToolView }) {
  const why = explainTool(tool);
  const state = tool.status === 'done' ? tool.decision || 'allowed' : tool.status;
  return (
    <details className={`tool ${state}`} data-tool={tool.name} data-state={state}>
      <summary>
        <span className="tool-name">{tool.name}</span>
        <span className="tool-state">{decisionLabel(tool)}</span>
      </summary>
      {why && <p className="why">{why}</p>}
      <h4>Arguments</h4>
      {/* focusable: a long block scrolls, and keyboard users must be able to scroll it */}
      <pre tabIndex={0} aria-label={`Arguments of ${tool.name}`}>{JSON.stringify(tool.arguments, null, 2)}</pre>
      {tool.status === 'done' && (
        <>
          <h4>Result</h4>
          <pre className="result" tabIndex={0} aria-label={`Result of ${tool.name}`}>{prettyContent(tool.content) || '(empty)'}</pre>
        </>
      )}
    </details>
  );
}

export function Composer({ disabled, waiting, max, onSend }: { disabled: boolean; waiting: boolean; max: number; onSend: (t: string) => void }) {
  const [text, setText] = useState('');
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t || disabled) return;
    setText('');
    onSend(t);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };
  const tooLong = new TextEncoder().encode(text).length > max;
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="message" className="visually-hidden">Your message</label>
      <textarea
        id="message"
        rows={2}
        value={text}
        placeholder={waiting ? 'Answer the confirmation first' : 'e.g. Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune'}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        disabled={disabled}
        aria-invalid={tooLong || undefined}
        aria-describedby="composer-hint"
      />
      <button type="submit" className="primary" disabled={disabled || !text.trim() || tooLong}>Send</button>
      <p id="composer-hint" className="hint">{tooLong ? 'This message is too long.' : 'Enter sends · Shift+Enter adds a line'}</p>
    </form>
  );
}

export function ConfirmDialog({ call, onAnswer }: { call: ToolView; onAnswer: (accept: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal?.();
    return () => d?.close?.();
  }, []);
  const message = (call.prompt || '').split('\n\n')[0];
  return (
    <dialog
      ref={ref}
      className="confirm"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-what"
      onCancel={(e) => {
        e.preventDefault();
        onAnswer(false);
      }}
    >
      <h2 id="confirm-title">Confirm: {call.name.replace(/_/g, ' ')}</h2>
      <p id="confirm-what">The assistant wants to run <code>{call.name}</code>{message ? ` (${message.replace(/\.$/, '')})` : ''}. Nothing happens unless you accept.</p>
      <table>
        <caption className="visually-hidden">Arguments of the call</caption>
        <tbody>
          {argumentLines(call.arguments).map(([k, v]) => (
            <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <button type="button" onClick={() => onAnswer(false)}>Decline</button>
        <button type="button" className="primary" onClick={() => onAnswer(true)}>Accept</button>
      </div>
    </dialog>
  );
}
