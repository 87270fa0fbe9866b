// tests/integration/lib/gw.mjs
// Shared helpers of the Node integration tests: start a real `mcpgw` (serve on 127.0.0.1 port 0
// with --port-file, or stdio) with its stderr captured, stop it and fail on sanitizer reports,
// raw HTTP requests (node:http, so Host/Origin/Accept and odd methods are fully controllable),
// SSE parsing, and legacy-era session setup. The official TypeScript SDK is re-exported from
// tests/node/node_modules (see sdk.mjs).
// Environment: GW_BIN (path of mcpgw; default build/ci/mcpgw under the repo), REPO.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = process.env.REPO ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const GW_BIN = process.env.GW_BIN ?? join(REPO, 'build/ci/mcpgw');

export const ACCEPT_BOTH = 'application/json, text/event-stream';
export const LATEST = '2025-11-25';

/** True when the binary was built with AddressSanitizer (RSS numbers mean little then). */
export function isSanitized() {
  try {
    const bin = readFileSync(GW_BIN);
    return bin.includes('__asan_init') || bin.includes('AddressSanitizer');
  } catch {
    return false;
  }
}

// Reports that fail a test whenever they appear in a gateway's stderr.
const SANITIZER_PATTERNS = ['ERROR: AddressSanitizer', 'runtime error:'];
// LeakSanitizer's report at exit: recorded (see exitStatus) and checked by its own test
// (90-known-bugs) rather than failing every test; GW_IT_STRICT_LEAKS=1 makes it fatal too.
const LEAK_PATTERN = 'ERROR: LeakSanitizer';

/** Throws if `text` (a gateway's stderr) carries a sanitizer report. */
export function assertNoSanitizerReport(text, what = 'gateway') {
  const patterns = process.env.GW_IT_STRICT_LEAKS === '1' ? [...SANITIZER_PATTERNS, LEAK_PATTERN] : SANITIZER_PATTERNS;
  for (const p of patterns) {
    const at = text.indexOf(p);
    if (at >= 0) {
      const excerpt = text.slice(Math.max(0, at - 200), at + 3000);
      throw new Error(`${what}: sanitizer report in stderr (${p}):\n${excerpt}`);
    }
  }
}

/**
 * The exit status of a gateway process as the tests judge it: LeakSanitizer turns a clean
 * exit into status 23 (or SIGABRT with abort_on_error=1) when it reports leaks; that case is
 * normalised to status 0 with `leak: true` so the leak is reported once, by its own test.
 */
export function exitStatus(res, stderr) {
  if (!res) return res;
  const leak = stderr.includes(LEAK_PATTERN);
  if (leak && process.env.GW_IT_STRICT_LEAKS !== '1' && (res.code === 23 || res.signal === 'SIGABRT'))
    return { code: 0, signal: null, leak: true };
  return { ...res, leak };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves with p's value, or null after ms (the timer never keeps the process alive). */
export function withTimeout(p, ms) {
  let t;
  const timer = new Promise((r) => {
    t = setTimeout(() => r(null), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/**
 * Starts `mcpgw serve` on 127.0.0.1:0 with the conformance fixtures and waits for its port.
 * opts.sets: { NAME: VALUE } passed as --set NAME=VALUE; opts.env: extra environment;
 * opts.fixtures (default true). Returns { proc, port, base, url, stderr(), exited, stop() }.
 */
export async function startGateway(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-it-'));
  const portFile = join(dir, 'port');
  const args = ['serve', '--listen', '127.0.0.1:0', '--port-file', portFile];
  if (opts.fixtures !== false) args.push('--conformance-fixtures');
  // authentication off unless a test turns it on (tests/integration/70-auth-*.test.mjs do)
  const sets = { GW_WORKERS: '2', GW_LOG_LEVEL: 'info', GW_AUTH_MODE: 'off', ...(opts.sets ?? {}) };
  for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
  const env = { ...process.env, ...(opts.env ?? {}) };
  const proc = spawn(GW_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  let out = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    err += d;
  });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    out += d;
  });
  const exited = new Promise((res) => proc.on('close', (code, signal) => res({ code, signal })));
  let exitInfo = null;
  exited.then((x) => {
    exitInfo = x;
  });
  const t0 = Date.now();
  let port = 0;
  while (!port) {
    if (exitInfo) throw new Error(`mcpgw exited early (${JSON.stringify(exitInfo)}):\n${err}`);
    if (Date.now() - t0 > 15000) {
      proc.kill('SIGKILL');
      throw new Error(`mcpgw did not write its port file in 15 s:\n${err}`);
    }
    if (existsSync(portFile)) {
      const n = parseInt(readFileSync(portFile, 'utf8'), 10);
      if (n > 0) port = n;
    }
    if (!port) await sleep(20);
  }
  const base = `http://127.0.0.1:${port}`;
  const gw = {
    proc,
    port,
    base,
    url: `${base}/mcp`,
    exited,
    stderr: () => err,
    stdout: () => out,
    /** SIGTERM, wait (default 15 s) for the exit, check stderr for sanitizer reports. */
    async stop({ timeoutMs = 15000 } = {}) {
      if (!exitInfo) proc.kill('SIGTERM');
      const res = await withTimeout(exited, timeoutMs);
      rmSync(dir, { recursive: true, force: true });
      if (!res) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`mcpgw did not exit within ${timeoutMs} ms of SIGTERM`);
      }
      assertNoSanitizerReport(err);
      return exitStatus(res, err);
    },
  };
  return gw;
}

/** Spawns `mcpgw stdio --conformance-fixtures [--set ...]` with raw pipes. */
export function spawnStdio(sets = {}) {
  const args = ['stdio', '--conformance-fixtures'];
  for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
  const proc = spawn(GW_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  let buf = '';
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    err += d;
  });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) w();
    }
  });
  const exited = new Promise((res) => proc.on('close', (code, signal) => res({ code, signal })));
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    pendingStdout: () => buf,
    send(obj) {
      proc.stdin.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n');
    },
    /** Waits for the first stdout line (parsed) matching pred, from index `from`. */
    async waitFor(pred, { from = 0, timeoutMs = 10000 } = {}) {
      const t0 = Date.now();
      for (;;) {
        for (let i = from; i < lines.length; i++) {
          let msg;
          try {
            msg = JSON.parse(lines[i]);
          } catch {
            continue;
          }
          if (pred(msg)) return { msg, index: i };
        }
        if (Date.now() - t0 > timeoutMs)
          throw new Error(`no matching stdout line in ${timeoutMs} ms; got:\n${lines.join('\n')}`);
        await new Promise((r) => {
          const w = () => {
            waiters.splice(waiters.indexOf(w), 1);
            r();
          };
          waiters.push(w);
          setTimeout(w, 50);
        });
      }
    },
  };
}

/**
 * One HTTP request with node:http (no connection reuse). opts: { method, path, headers, body
 * (string|Buffer|object -> JSON) }. Resolves { status, headers, body (string), json, events }.
 * `json` is the parsed body for application/json; `events` the parsed SSE messages for
 * text/event-stream (the whole stream is read).
 */
export function request(port, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    let body = opts.body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body))
      body = JSON.stringify(body);
    const headers = { ...(opts.headers ?? {}) };
    if (body !== undefined && headers['Content-Length'] === undefined)
      headers['Content-Length'] = Buffer.byteLength(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/mcp',
        headers,
        agent: false,
        setHost: headers.Host === undefined && headers.host === undefined,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ct = res.headers['content-type'] ?? '';
          const out = { status: res.statusCode, headers: res.headers, body: text, json: undefined };
          if (ct.startsWith('application/json') && text.length) {
            try {
              out.json = JSON.parse(text);
            } catch (e) {
              out.jsonError = e;
            }
          }
          if (ct.startsWith('text/event-stream')) out.events = parseSse(text);
          resolvePromise(out);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Parses an SSE text into [{event, data, id?, json?}] (WHATWG field rules, "message" default). */
export function parseSse(text) {
  const events = [];
  let ev = { event: 'message', data: [], id: undefined };
  for (const raw of text.split(/\r\n|\r|\n/)) {
    if (raw === '') {
      if (ev.data.length) {
        const data = ev.data.join('\n');
        let json;
        try {
          json = JSON.parse(data);
        } catch {
          json = undefined;
        }
        events.push({ event: ev.event, data, id: ev.id, json });
      }
      ev = { event: 'message', data: [], id: undefined };
      continue;
    }
    if (raw.startsWith(':')) continue;
    const i = raw.indexOf(':');
    const field = i < 0 ? raw : raw.slice(0, i);
    let value = i < 0 ? '' : raw.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') ev.event = value;
    else if (field === 'data') ev.data.push(value);
    else if (field === 'id') ev.id = value;
  }
  return events;
}

/** The JSON-RPC messages of a response: the JSON body (object or array) or the SSE messages. */
export function messagesOf(res) {
  if (res.events) return res.events.map((e) => e.json);
  if (Array.isArray(res.json)) return res.json;
  return res.json === undefined ? [] : [res.json];
}

/** POST /mcp with the headers a well-behaved client sends (overridable). */
export function post(gw, body, { session, version, headers = {}, path = '/mcp' } = {}) {
  const h = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH };
  if (session) h['Mcp-Session-Id'] = session;
  if (version) h['MCP-Protocol-Version'] = version;
  return request(gw.port, { method: 'POST', path, headers: { ...h, ...headers }, body });
}

let nextId = 1;
/** A JSON-RPC request object with a fresh id. */
export function rpc(method, params) {
  const m = { jsonrpc: '2.0', id: nextId++, method };
  if (params !== undefined) m.params = params;
  return m;
}

/** initialize + notifications/initialized; returns { session, result, version }. */
export async function initSession(gw, version = LATEST, capabilities = {}) {
  const res = await post(gw, rpc('initialize', {
    protocolVersion: version,
    capabilities,
    clientInfo: { name: 'mcpgw-it', version: '0' },
  }));
  if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status} ${res.body}`);
  const session = res.headers['mcp-session-id'];
  const [msg] = messagesOf(res);
  if (!session || !msg?.result) throw new Error(`initialize: no session/result: ${res.body}`);
  const v = msg.result.protocolVersion;
  const note = await post(gw, { jsonrpc: '2.0', method: 'notifications/initialized' }, {
    session,
    version: v,
  });
  if (note.status !== 202) throw new Error(`initialized: HTTP ${note.status} ${note.body}`);
  return { session, result: msg.result, version: v };
}

/**
 * Opens a streaming GET (SSE) and returns { res, events, ended, closed, wait(pred), close() }.
 * `ended` resolves true when the stream finished cleanly (final chunk), false when it was cut.
 */
export function openStream(port, { path = '/mcp', headers = {} } = {}) {
  return new Promise((resolveOpen, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'GET', path, headers, agent: false },
      (res) => {
        const events = [];
        let buf = '';
        const waiters = new Set();
        let endResolve;
        const ended = new Promise((r) => {
          endResolve = r;
        });
        res.setEncoding('utf8');
        res.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            events.push(...parseSse(buf.slice(0, i + 2)));
            buf = buf.slice(i + 2);
          }
          for (const w of [...waiters]) w();
        });
        res.on('end', () => endResolve(true));
        res.on('aborted', () => endResolve(false));
        res.on('error', () => endResolve(false));
        res.on('close', () => endResolve(res.complete));
        resolveOpen({
          res,
          events,
          ended,
          async wait(pred, timeoutMs = 10000) {
            const t0 = Date.now();
            for (;;) {
              const hit = events.find(pred);
              if (hit) return hit;
              if (Date.now() - t0 > timeoutMs) throw new Error('stream: no matching event');
              await new Promise((r) => {
                const w = () => {
                  waiters.delete(w);
                  r();
                };
                waiters.add(w);
                setTimeout(w, 50);
              });
            }
          },
          close() {
            req.destroy();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true when a TCP connection to port is refused (or reset at once), false if accepted. */
export function connectionRefused(port, timeoutMs = 2000) {
  return new Promise((res) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      res(false);
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      res(false);
    });
    s.on('error', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

/** Resident set size of a process in kB (Linux /proc), or undefined. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export { sleep };

/**
 * One persistent HTTP/1.1 connection (raw socket) for sending requests after the server has
 * stopped accepting new connections. send() writes one request and resolves the parsed
 * response ({status, headers, body}); Content-Length and chunked bodies are supported.
 */
export async function keepAliveConnection(port) {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise((res, rej) => {
    sock.once('connect', res);
    sock.once('error', rej);
  });
  let buf = Buffer.alloc(0);
  let waiter = null;
  let closed = false;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (waiter) waiter();
  });
  sock.on('close', () => {
    closed = true;
    if (waiter) waiter();
  });
  sock.on('error', () => {});
  const more = () => new Promise((r) => {
    waiter = () => {
      waiter = null;
      r();
    };
  });
  async function readResponse() {
    let end;
    while ((end = buf.indexOf('\r\n\r\n')) < 0) {
      if (closed) throw new Error('connection closed before a response');
      await more();
    }
    const head = buf.subarray(0, end).toString('latin1').split('\r\n');
    buf = buf.subarray(end + 4);
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const l of head.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let body = Buffer.alloc(0);
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        let le;
        while ((le = buf.indexOf('\r\n')) < 0) {
          if (closed) throw new Error('connection closed inside a chunk');
          await more();
        }
        const size = parseInt(buf.subarray(0, le).toString('latin1'), 16);
        while (buf.length < le + 2 + size + 2) {
          if (closed) throw new Error('connection closed inside a chunk');
          await more();
        }
        body = Buffer.concat([body, buf.subarray(le + 2, le + 2 + size)]);
        buf = buf.subarray(le + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const n = Number(headers['content-length'] ?? 0);
      while (buf.length < n) {
        if (closed) throw new Error('connection closed inside a body');
        await more();
      }
      body = buf.subarray(0, n);
      buf = buf.subarray(n);
    }
    const text = body.toString('utf8');
    let json;
    if ((headers['content-type'] ?? '').startsWith('application/json') && text) json = JSON.parse(text);
    return { status, headers, body: text, json };
  }
  return {
    async send({ method = 'GET', path = '/mcp', headers = {}, body } = {}) {
      if (body !== undefined && typeof body !== 'string') body = JSON.stringify(body);
      const h = { Host: `127.0.0.1:${port}`, Connection: 'keep-alive', ...headers };
      if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
      let req = `${method} ${path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(h)) req += `${k}: ${v}\r\n`;
      sock.write(req + '\r\n' + (body ?? ''));
      return readResponse();
    },
    close() {
      sock.destroy();
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * Starts a POST whose reply is read as a stream; resolves once the response headers arrived:
 * { res, events, wait(pred), done } where `done` resolves {complete} at the end.
 */
export function postStreaming(port, body, headers) {
  return new Promise((resolveStart, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mcp',
        agent: false,
        headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Content-Length': Buffer.byteLength(data), ...headers },
      },
      (res) => {
        const events = [];
        let buf = '';
        let raw = '';
        const waiters = new Set();
        let doneResolve;
        const done = new Promise((r) => {
          doneResolve = r;
        });
        res.setEncoding('utf8');
        res.on('data', (d) => {
          raw += d;
          if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
            buf += d;
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              events.push(...parseSse(buf.slice(0, i + 2)));
              buf = buf.slice(i + 2);
            }
          }
          for (const w of [...waiters]) w();
        });
        const finish = () => doneResolve({ complete: res.complete, raw });
        res.on('end', finish);
        res.on('close', finish);
        resolveStart({
          res,
          events,
          done,
          async wait(pred, timeoutMs = 10000) {
            const t0 = Date.now();
            for (;;) {
              const hit = events.find(pred);
              if (hit) return hit;
              if (Date.now() - t0 > timeoutMs) throw new Error('no matching event on the POST stream');
              await new Promise((r) => {
                const w = () => {
                  waiters.delete(w);
                  r();
                };
                waiters.add(w);
                setTimeout(w, 50);
              });
            }
          },
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** The complete fixture tool list (names), read in one page from `mcpgw stdio`. */
export async function fixtureToolNames() {
  const p = spawnStdio({ GW_PAGE_SIZE: '10000' });
  try {
    p.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'list', version: '0' } } });
    await p.waitFor((m) => m.id === 1);
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const { msg } = await p.waitFor((m) => m.id === 2);
    if (msg.result.nextCursor) throw new Error('tools/list with a page of 10000 still has a next page');
    return msg.result.tools.map((t) => t.name);
  } finally {
    p.proc.stdin.end();
    await withTimeout(p.exited, 3000);
  }
}

/** The conformance suite's core tools, which every fixture catalogue must contain. */
export const CORE_FIXTURE_TOOLS = [
  'test_simple_text', 'test_image_content', 'test_audio_content', 'test_embedded_resource',
  'test_multiple_content_types', 'test_tool_with_logging', 'test_tool_with_progress',
  'test_error_handling', 'test_sampling', 'test_elicitation',
  'test_elicitation_sep1034_defaults', 'test_elicitation_sep1330_enums',
  'json_schema_2020_12_tool',
];
