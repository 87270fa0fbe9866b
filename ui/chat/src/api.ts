// The chat API client: every call goes to /chat/api/ with the signed-in person's credential
// (Authorization: Bearer); the agent then acts with exactly that person's rights. Errors come
// back as ApiError with the API's {"error":{"code","message"}}; a 401 signs the person out.
// A turn is a POST whose answer is a stream of events (streamTurn).
import { SseReader } from './sse';
import type { TurnEvent } from './model';

export const API_BASE = '/chat/api';

export class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let credential: string | null = null;
const unauthorized = new Set<() => void>();

export function setCredential(c: string | null) {
  credential = c;
}
export function onUnauthorized(fn: () => void) {
  unauthorized.add(fn);
  return () => {
    unauthorized.delete(fn);
  };
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: json ? 'application/json' : 'text/event-stream' };
  if (credential) h.Authorization = `Bearer ${credential}`;
  return h;
}

async function fail(r: Response): Promise<never> {
  let code = 'error';
  let message = `HTTP ${r.status}`;
  try {
    const j = await r.json();
    code = j?.error?.code || code;
    message = j?.error?.message || message;
  } catch {
    /* not JSON */
  }
  if (r.status === 401) unauthorized.forEach((f) => f());
  throw new ApiError(r.status, code, message);
}

export async function api<T>(path: string, opts: { method?: string; body?: unknown; anonymous?: boolean } = {}): Promise<T> {
  const h = opts.anonymous ? { Accept: 'application/json' } : headers(true);
  const init: RequestInit = { method: opts.method || 'GET', headers: h };
  if (opts.body !== undefined) {
    (h as Record<string, string>)['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const r = await fetch(`${API_BASE}${path}`, init);
  if (!r.ok) return fail(r);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

/** Runs one turn (a message, or the answer to a confirmation); calls onEvent for each event
 * as it arrives; resolves when the stream ends. */
export async function streamTurn(path: string, body: unknown, onEvent: (e: TurnEvent) => void, signal?: AbortSignal): Promise<void> {
  const h = headers(false);
  h['Content-Type'] = 'application/json';
  const r = await fetch(`${API_BASE}${path}`, { method: 'POST', headers: h, body: JSON.stringify(body), signal });
  if (!r.ok || !r.body) return fail(r);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  const sse = new SseReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const ev of sse.feed(decoder.decode(value, { stream: true }))) {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        continue;
      }
      onEvent({ event: ev.event, data } as TurnEvent);
    }
  }
}
