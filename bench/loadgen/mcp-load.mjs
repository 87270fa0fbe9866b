// bench/loadgen/mcp-load.mjs — a small MCP load generator that measures REAL round trips.
//
// Why it exists: wrk can only count HTTP responses. Some MCP servers (@ivotoby/openapi-mcp-server)
// answer a `tools/call` POST with 202 Accepted and deliver the JSON-RPC result later on the
// session's GET (SSE) stream, so an HTTP-level tool measures only the acknowledgement. This
// generator opens real sessions (initialize, notifications/initialized, GET stream) and times each
// call from the POST until its result arrives, wherever it arrives: in the POST's JSON body, in
// the POST's SSE body, or on the GET stream.
//
// Usage: node mcp-load.mjs --url http://127.0.0.1:P/mcp --tool NAME [--args JSON]
//        [--auth 'Bearer <token>'] (sent on every request)
//          [--concurrency 32] [--duration 10] [--warmup 1] [--expect SUBSTRING]
//          [--protocol 2025-06-18] [--timeout 10] [--count N]
// --count N: measure exactly N results (after the warm-up), then stop; --duration bounds it.
// Each of the `concurrency` virtual clients has its own session and one outstanding call at a
// time (closed loop, like wrk's connections). Request ids are unique across sessions (some
// servers route results by id alone). Prints one line "BENCHJSON {...}" in the shape of
// bench/wrk/bench.lua's. Counts: non-2xx, JSON-RPC errors, isError results, results without the
// expected substring, and calls whose result never arrived within --timeout seconds.
// Loopback only: refuses any host but 127.0.0.1, ::1 or localhost.
import http from 'node:http';

function parseArgs(argv) {
  const o = { concurrency: 32, duration: 10, warmup: 1, args: '{}', protocol: '2025-06-18',
    timeout: 10, expect: '', count: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    o[k] = argv[++i];
  }
  for (const k of ['concurrency', 'duration', 'warmup', 'timeout', 'count']) o[k] = Number(o[k] || 0);
  if (!o.url || !o.tool) {
    console.error('usage: node mcp-load.mjs --url URL --tool NAME [--args JSON] [...]');
    process.exit(2);
  }
  o.args = JSON.parse(o.args);
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const url = new URL(opt.url);
if (!['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) {
  console.error('mcp-load: loopback targets only');
  process.exit(2);
}

const counts = { bad_status: 0, rpc_errors: 0, tool_errors: 0, unexpected: 0, responses: 0,
  socket_errors: 0, timeouts: 0, requests: 0 };
let measuring = false;
let stopping = false;
const lat = []; // µs, measured phase only
let nextId = 1;
let done = () => {}; // ends the measured phase early (--count)

/* Incremental SSE parser: calls onMessage(obj) for each `data:` event holding JSON. */
function sseParser(onMessage) {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let idx;
    while ((idx = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, idx);
      buf = buf.slice(idx + (buf[idx] === '\r' ? 4 : 2));
      const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (!data) continue;
      try { onMessage(JSON.parse(data)); } catch { /* not JSON: ignore (e.g. endpoint events) */ }
    }
  };
}

/* One HTTP request; resolves {status, headers, body} (body as string, fully read). */
function post(agent, headers, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname.replace(/[[\]]/g, ''), port: url.port,
      path: url.pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Content-Length': Buffer.byteLength(payload), ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/* The JSON-RPC response with `id` inside a POST answer (JSON or SSE body), or undefined. */
function findInBody(res, id) {
  const ct = String(res.headers['content-type'] || '');
  if (!res.body) return undefined;
  if (ct.includes('text/event-stream')) {
    let found;
    sseParser((m) => { if (m && m.id === id) found = m; })(res.body + '\n\n');
    return found;
  }
  try {
    const m = JSON.parse(res.body);
    if (Array.isArray(m)) return m.find((x) => x && x.id === id);
    return m;
  } catch { return undefined; }
}

class Client {
  constructor(n) {
    this.n = n;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.pending = new Map(); // id -> resolve
    this.headers = opt.auth ? { Authorization: opt.auth } : {};
  }

  async start() {
    const id = `init-${this.n}`;
    const init = { jsonrpc: '2.0', id, method: 'initialize', params: {
      protocolVersion: opt.protocol, capabilities: {},
      clientInfo: { name: 'mcp-load', version: '1.0.0' } } };
    const r = await post(this.agent, this.headers, JSON.stringify(init));
    if (r.status !== 200) throw new Error(`initialize: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    const sid = r.headers['mcp-session-id'];
    if (sid) this.headers['Mcp-Session-Id'] = sid;
    const m = findInBody(r, id);
    const pv = m && m.result && m.result.protocolVersion;
    if (pv) this.headers['MCP-Protocol-Version'] = pv;
    const n = await post(this.agent, this.headers,
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if (n.status >= 300) throw new Error(`notifications/initialized: HTTP ${n.status}`);
    this.openStream();
  }

  /* The session's GET stream, if the server offers one (405 means it does not). Some servers
   * (Node's http without flushHeaders) send the stream's headers only with its first event, so
   * the stream is not awaited: results are matched whenever its response shows up. */
  openStream() {
    const req = http.request({ host: url.hostname.replace(/[[\]]/g, ''), port: url.port,
      path: url.pathname, method: 'GET', agent: false,
      headers: { Accept: 'text/event-stream', ...this.headers } }, (res) => {
      if (res.statusCode !== 200) { res.resume(); return; }
      res.setEncoding('utf8');
      const feed = sseParser((msg) => {
        if (msg && msg.id !== undefined && this.pending.has(msg.id)) {
          const done = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          done(msg);
        }
      });
      res.on('data', feed);
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end();
    this.stream = req;
  }

  async call() {
    const id = `c${this.n}-${nextId++}`;
    const payload = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call',
      params: { name: opt.tool, arguments: opt.args } });
    const t0 = process.hrtime.bigint();
    let viaStream;
    const streamed = new Promise((resolve) => { viaStream = resolve; });
    this.pending.set(id, viaStream);
    let msg;
    let res;
    try {
      res = await post(this.agent, this.headers, payload);
    } catch {
      this.pending.delete(id);
      if (measuring) counts.socket_errors++;
      return;
    }
    if (res.status === 202) {
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(undefined), opt.timeout * 1000);
      });
      msg = await Promise.race([streamed, timeout]);
      clearTimeout(timer);
      if (!msg) {
        this.pending.delete(id);
        if (measuring) counts.timeouts++;
        return;
      }
    } else {
      this.pending.delete(id);
      if (res.status < 200 || res.status > 299) {
        if (measuring) { counts.bad_status++; counts.requests++; }
        return;
      }
      msg = findInBody(res, id);
    }
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (!measuring) return;
    counts.requests++;
    if (opt.count && counts.requests >= opt.count) { measuring = false; stopping = true; done(); }
    counts.responses++;
    lat.push(us);
    if (!msg || msg.error) counts.rpc_errors++;
    else if (msg.result && msg.result.isError) counts.tool_errors++;
    else if (opt.expect && !JSON.stringify(msg.result).includes(opt.expect)) counts.unexpected++;
  }

  async loop() {
    while (!stopping) await this.call();
  }

  close() {
    if (this.stream) this.stream.destroy();
    this.agent.destroy();
  }
}

function pct(sorted, p) {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
}

async function main() {
  // Hard bound on the whole run, whatever the server does.
  setTimeout(() => {
    console.error('mcp-load: run did not finish in time');
    process.exit(3);
  }, (opt.warmup + opt.duration + opt.timeout + 20) * 1000).unref();
  const clients = Array.from({ length: opt.concurrency }, (_, i) => new Client(i));
  await Promise.all(clients.map((c) => c.start()));
  // let the servers register the GET streams before the first call
  await new Promise((r) => setTimeout(r, 300));
  const loops = clients.map((c) => c.loop());
  await new Promise((r) => setTimeout(r, opt.warmup * 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => { done = r; setTimeout(r, opt.duration * 1000); });
  measuring = false;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  stopping = true;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, opt.timeout * 1000))]);
  clients.forEach((c) => c.close());
  lat.sort((a, b) => a - b);
  const mean = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : 0;
  const out = { requests: counts.requests, duration_s: +secs.toFixed(3),
    rps: +(counts.requests / secs).toFixed(1), p50_us: pct(lat, 50), p90_us: pct(lat, 90),
    p99_us: pct(lat, 99), max_us: Math.round(lat[lat.length - 1] || 0), mean_us: +mean.toFixed(1),
    bad_status: counts.bad_status, rpc_errors: counts.rpc_errors, tool_errors: counts.tool_errors,
    unexpected: counts.unexpected, responses: counts.responses,
    socket_errors: counts.socket_errors, timeouts: counts.timeouts };
  process.stdout.write(`BENCHJSON ${JSON.stringify(out)}\n`);
  process.exit(0);
}

main().catch((e) => {
  console.error(`mcp-load: ${e.message}`);
  process.exit(1);
});
