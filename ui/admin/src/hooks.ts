// Data hooks: one request per (path, query) with loading/error state, reload, and an optional
// refresh interval (live pages). Responses that arrive after a newer request are dropped.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, RequestOptions } from './api';

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

export function useApi<T>(path: string | null, query?: RequestOptions['query'], opts: { refreshMs?: number } = {}): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState<boolean>(!!path);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  const key = JSON.stringify(query || {});
  useEffect(() => {
    if (!path) return;
    const my = ++seq.current;
    const ctl = new AbortController();
    setLoading(true);
    api<T>(path, { query, signal: ctl.signal })
      .then((d) => {
        if (my !== seq.current) return;
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if (my !== seq.current || (e as Error).name === 'AbortError') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'client', String(e)));
      })
      .finally(() => {
        if (my === seq.current) setLoading(false);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, key, tick]);
  useEffect(() => {
    if (!opts.refreshMs || !path) return;
    const id = window.setInterval(() => setTick((t) => t + 1), opts.refreshMs);
    return () => window.clearInterval(id);
  }, [opts.refreshMs, path]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

/** Debounced copy of a value (search boxes). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** Sets document.title for a page. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · MCP Gateway Admin`;
  }, [title]);
}
