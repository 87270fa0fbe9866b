// The admin API client: every call goes to /admin/api/ with the signed-in user's credential
// (Authorization: Bearer), so the console can do nothing the API would refuse. Errors come
// back as ApiError with the API's {"error":{"code","message"}}; a 401 signs the user out.

export const API_BASE = '/admin/api';

export class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  /** The endpoint does not exist on this gateway (its backend has not landed yet). */
  get notAvailable(): boolean {
    return this.status === 404 && /no such admin endpoint/i.test(this.message);
  }
}

type Listener = () => void;
let credential: string | null = null;
const unauthorizedListeners = new Set<Listener>();

export function setCredential(c: string | null) {
  credential = c;
}
export function getCredential() {
  return credential;
}
export function onUnauthorized(fn: Listener) {
  unauthorizedListeners.add(fn);
  return () => {
    unauthorizedListeners.delete(fn);
  };
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** a raw body (a spec document) instead of JSON */
  raw?: string | Blob;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** do not send the credential (auth/config) */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `${API_BASE}${path}${s ? `?${s}` : ''}`;
}

export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers || {}) };
  if (credential && !opts.anonymous) headers.Authorization = `Bearer ${credential}`;
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), { method: opts.method || 'GET', headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The gateway cannot be reached. Check that it is running.');
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const e = new ApiError(res.status, err?.code || `http_${res.status}`, err?.message || `${res.status} ${res.statusText}`);
    if (res.status === 401 && !opts.anonymous) unauthorizedListeners.forEach((fn) => fn());
    throw e;
  }
  return data as T;
}

// ---- shapes of the existing admin API (docs/admin-api.md) ----------------------------------

export type ToolStatus = 'draft' | 'active' | 'deprecated' | 'disabled';
export type Risk = 'read' | 'write' | 'privileged';

export interface Tool {
  name: string;
  title?: string;
  description?: string;
  descriptionOverride?: string;
  status: ToolStatus;
  risk?: Risk;
  requiresElevation?: boolean;
  requiresConfirmation?: boolean;
  rateLimitTier?: string;
  bundle?: string | null;
  tags?: string[];
  inputSchema?: unknown;
  outputSchema?: unknown;
  binding?: { upstream?: string; method?: string; path?: string; [k: string]: unknown };
  source?: { specId?: string; method?: string; path?: string; operationId?: string; [k: string]: unknown };
  version?: number;
  createdAt?: string;
  updatedAt?: string;
  updatedBy?: string;
  [k: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next: string | null;
  total?: number;
}

export interface Bundle {
  id: number;
  name: string;
  title: string;
  description: string;
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
  toolCount: number;
}

export interface Spec {
  id: string;
  title: string;
  version: string;
  sourceUrl: string | null;
  fileName: string | null;
  contentHash: string;
  importedAt: string;
  importedBy: string;
  toolCount: number;
}

export interface HistoryEntry {
  version: number;
  action: string;
  actor: string;
  reason: string;
  changedAt: string;
  previous: Tool | null;
}

export interface Diff {
  specId?: string;
  specVersion?: string;
  added: string[];
  changed: string[];
  removed: string[];
  renamed: Array<string | { from: string; to: string }>;
  /** new tools stored under their product's prefix because the name was taken (GW_IMPORT_ON_CONFLICT=prefix) */
  conflicts?: Array<{ name: string; wanted: string; takenBy: string }>;
  /** existing tools keeping their name although the spec now names them otherwise */
  nameKept?: Array<{ name: string; computed: string }>;
  unchanged: number;
  dryRun: boolean;
}

export interface ImportWarning {
  operation?: string;
  operationId?: string | null;
  level: 'info' | 'warning' | 'error';
  code: string;
  message: string;
  pointer?: string;
  line?: number;
}

export interface Preview {
  spec: { title: string; version: string; id: string; fileName?: string; content?: string; sourceUrl?: string };
  tools: Tool[];
  warnings: ImportWarning[];
  summary: {
    spec: { title: string; dialect: string; servers: string[]; upstream: string };
    operations: number;
    tools: number;
    skipped: number;
    excluded: number;
    degraded: number;
    documents: number;
    elapsedMs: number;
  };
  diff: Diff | null;
  diffError?: { code: string; message: string };
}

export interface Setting {
  name: string;
  group: string;
  type: string;
  value: string;
  default: string;
  source: string;
  secret: boolean;
  help: string;
  min?: number;
  max?: number;
  choices?: string;
}

/** Fetches every page of a paginated list (bounded). */
export async function listAll<T>(path: string, query: RequestOptions['query'] = {}, max = 10000): Promise<T[]> {
  const out: T[] = [];
  let after: string | null = null;
  do {
    const page: Page<T> = await api<Page<T>>(path, { query: { ...query, limit: 1000, after } });
    out.push(...page.items);
    after = page.next;
  } while (after && out.length < max);
  return out;
}
