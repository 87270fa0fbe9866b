// The conversation as the page shows it, built from what the API stores (messages + pending
// confirmations) and updated by the events of a running turn. Pure functions (unit-tested).

export type Decision = 'allowed' | 'confirmed' | 'declined' | 'denied' | 'error';

export interface ToolView {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  status: 'running' | 'waiting' | 'done';
  decision?: Decision;
  isError?: boolean;
  content?: string;
  error?: { code: number; message: string; reason?: string; hint?: string };
  /** the question of a pending confirmation */
  prompt?: string;
}

export type Item =
  | { kind: 'user'; text: string }
  | { kind: 'assistant'; text: string; tools: ToolView[]; streaming?: boolean }
  | { kind: 'error'; errorKind: string; message: string; retryAfter?: number }
  | { kind: 'status'; message: string };

export interface StoredMessage {
  role: 'user' | 'assistant' | 'tool' | 'event';
  content?: string;
  tool_calls?: { id: string; name: string; arguments: Record<string, unknown> }[];
  tool_call_id?: string;
  name?: string;
  is_error?: boolean;
  decision?: Decision;
  error?: ToolView['error'];
  kind?: string;
  message?: string;
  retry_after?: number;
}

export interface Pending {
  calls: { id: string; name: string; arguments: Record<string, unknown>; state: string; prompt?: string; message?: StoredMessage }[];
}

export type TurnEvent =
  | { event: 'turn'; data: { conversation: string; provider: string; model: string } }
  | { event: 'step'; data: { step: number } }
  | { event: 'text'; data: { delta: string } }
  | { event: 'tool_call'; data: { id: string; name: string; arguments: Record<string, unknown> } }
  | { event: 'tool_result'; data: { id: string; name: string; decision: Decision; is_error: boolean; content: string; error?: ToolView['error'] } }
  | { event: 'confirm'; data: { id: string; name: string; arguments: Record<string, unknown>; message: string } }
  | { event: 'confirm_answer'; data: { id: string; accept: boolean } }
  | { event: 'status'; data: { message: string; retry_after?: number } }
  | { event: 'error'; data: { kind: string; message: string; retry_after?: number } }
  | { event: 'done'; data: { state: string; steps: number } }
  | { event: 'saved'; data: { version: number } };

function applyResult(t: ToolView, m: { decision?: Decision; is_error?: boolean; content?: string; error?: ToolView['error'] }): ToolView {
  return { ...t, status: 'done', decision: m.decision, isError: m.is_error, content: m.content, error: m.error, prompt: undefined };
}

/** The items of a stored conversation. */
export function fromStored(messages: StoredMessage[], pending: Pending | null): Item[] {
  const items: Item[] = [];
  const byId = new Map<string, { item: Extract<Item, { kind: 'assistant' }>; index: number }>();
  for (const m of messages) {
    if (m.role === 'user') items.push({ kind: 'user', text: m.content || '' });
    else if (m.role === 'assistant') {
      const a: Extract<Item, { kind: 'assistant' }> = {
        kind: 'assistant', text: m.content || '',
        tools: (m.tool_calls || []).map((c) => ({ id: c.id, name: c.name, arguments: c.arguments || {}, status: 'running' })),
      };
      a.tools.forEach((t, index) => byId.set(t.id, { item: a, index }));
      items.push(a);
    } else if (m.role === 'tool' && m.tool_call_id) {
      const f = byId.get(m.tool_call_id);
      if (f) f.item.tools[f.index] = applyResult(f.item.tools[f.index], m);
    } else if (m.role === 'event') {
      items.push({ kind: 'error', errorKind: m.kind || 'error', message: m.message || '', retryAfter: m.retry_after });
    }
  }
  for (const c of pending?.calls || []) {
    const f = byId.get(c.id);
    if (!f) continue;
    if (c.state === 'waiting') f.item.tools[f.index] = { ...f.item.tools[f.index], status: 'waiting', prompt: c.prompt };
    else if (c.message) f.item.tools[f.index] = applyResult(f.item.tools[f.index], c.message);
  }
  // calls that never got a result in a finished conversation were interrupted
  return items.map((it) => it.kind === 'assistant'
    ? { ...it, tools: it.tools.map((t) => t.status === 'running' ? { ...t, status: 'done', decision: 'error', isError: true, content: 'The outcome of this call is unknown.' } : t) }
    : it);
}

function lastAssistant(items: Item[]): number {
  for (let i = items.length - 1; i >= 0; i--) if (items[i].kind === 'assistant') return i;
  return -1;
}

function updateTool(items: Item[], id: string, f: (t: ToolView) => ToolView): Item[] {
  return items.map((it) => it.kind === 'assistant' && it.tools.some((t) => t.id === id)
    ? { ...it, tools: it.tools.map((t) => (t.id === id ? f(t) : t)) }
    : it);
}

/** The items after one event of a running turn. */
export function applyEvent(items: Item[], ev: TurnEvent): Item[] {
  switch (ev.event) {
    case 'step':
      // each model answer is a new assistant message
      return [...items.filter((i) => i.kind !== 'status'), { kind: 'assistant', text: '', tools: [], streaming: true }];
    case 'text': {
      const i = lastAssistant(items);
      if (i < 0) return items;
      const a = items[i] as Extract<Item, { kind: 'assistant' }>;
      const out = items.slice();
      out[i] = { ...a, text: a.text + ev.data.delta };
      return out;
    }
    case 'tool_call': {
      const i = lastAssistant(items);
      if (i < 0) return items;
      const a = items[i] as Extract<Item, { kind: 'assistant' }>;
      const out = items.slice();
      out[i] = { ...a, tools: [...a.tools, { id: ev.data.id, name: ev.data.name, arguments: ev.data.arguments || {}, status: 'running' }] };
      return out;
    }
    case 'tool_result':
      return updateTool(items, ev.data.id, (t) => applyResult(t, ev.data));
    case 'confirm':
      return updateTool(items, ev.data.id, (t) => ({ ...t, status: 'waiting', prompt: ev.data.message }));
    case 'confirm_answer':
      return updateTool(items, ev.data.id, (t) => ({ ...t, status: 'running', prompt: undefined }));
    case 'status':
      return [...items.filter((i) => i.kind !== 'status'), { kind: 'status', message: ev.data.message }];
    case 'error':
      return [...items.filter((i) => i.kind !== 'status'), { kind: 'error', errorKind: ev.data.kind, message: ev.data.message, retryAfter: ev.data.retry_after }];
    case 'done':
      return items
        .filter((i) => i.kind !== 'status')
        // an answer that failed part-way leaves no empty bubble behind
        .filter((i) => !(i.kind === 'assistant' && !i.text && !i.tools.length))
        .map((i) => (i.kind === 'assistant' && i.streaming ? { ...i, streaming: false } : i));
    default:
      return items;
  }
}

/** The confirmation the person must answer now, if any. */
export function waitingCall(items: Item[]): ToolView | null {
  for (const it of items) if (it.kind === 'assistant') for (const t of it.tools) if (t.status === 'waiting') return t;
  return null;
}

const DECISIONS: Record<Decision | 'running' | 'waiting', string> = {
  allowed: 'Done',
  confirmed: 'Done after your confirmation',
  declined: 'You declined: nothing was done',
  denied: 'Refused by the gateway',
  error: 'Failed',
  running: 'Running…',
  waiting: 'Waiting for your confirmation',
};

/** The state of a tool call in words. */
export function decisionLabel(t: ToolView): string {
  if (t.status !== 'done') return DECISIONS[t.status];
  return DECISIONS[t.decision || 'allowed'];
}

/** Why a call was refused or failed, in words. */
export function explainTool(t: ToolView): string | null {
  if (t.decision === 'denied') {
    const e = t.error;
    if (e?.code === -32602 && /unknown tool/i.test(e.message)) return 'This tool is not available to you.';
    const why = e?.reason || e?.message || t.content || 'no reason given';
    return `The gateway refused this call: ${why}${e?.hint ? ` (hint: ${e.hint})` : ''}`;
  }
  if (t.decision === 'declined') return 'You declined this action, so it was not carried out.';
  if (t.decision === 'error') return t.error?.message || firstLine(t.content) || 'The call failed.';
  return null;
}

function firstLine(s?: string): string {
  return (s || '').split('\n')[0].slice(0, 300);
}

const ERROR_TITLES: Record<string, string> = {
  provider_down: 'The language model is unavailable',
  rate_limited: 'The language model is busy',
  timeout: 'The request took too long',
  malformed: "The language model's answer was unusable",
  provider_error: 'The language model service refused the request',
  not_configured: 'No language model is configured',
  budget: 'Stopped after too many steps',
  shutdown: 'The gateway is restarting',
  not_saved: 'Not saved',
  conflict: 'Cannot continue',
};

export function errorTitle(kind: string): string {
  return ERROR_TITLES[kind] || 'Something went wrong';
}

/** Arguments as "name: value" lines for the confirmation dialog. */
export function argumentLines(args: Record<string, unknown>): [string, string][] {
  return Object.entries(args).map(([k, v]) => [k.replace(/_/g, ' '), typeof v === 'string' ? v : JSON.stringify(v)]);
}

/** A tool result as pretty JSON when it is JSON, else as it is. */
export function prettyContent(s?: string): string {
  if (!s) return '';
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}
