// tests/load/slow-upstream.mjs — does a slow upstream operation hurt the fast ones?
//
// Starts the mock APIM and the gateway (service-booking spec imported, real API-key auth) on free
// loopback ports, then runs three measured phases of closed-loop MCP load (raw Streamable HTTP
// JSON-RPC over keep-alive connections, one session per virtual client):
//   A "fast only": FAST_CONC clients call resolveVehicle (GET /api/v1/vehicles/resolve);
//   B "fast + slow": the same, while SLOW_CONC other clients keep getAvailableSlots calls pending,
//     the mock delaying /api/v1/dealers/*/slots by SLOW_MS (a latency fault: an evtimer, so the
//     mock itself stays responsive);
//   A2 "fast only" again (warm-up and machine drift control; the baseline is the more lenient
//     of A and A2).
// Reports p50/p90/p99/max latency and throughput of the fast tool per phase, and the slow calls
// completed. Exits 1 when the fast tool loses its latency under the slow load (p50 > 2x + 5 ms,
// p99 > max(3x, +50 ms), throughput < 50 %; a blocked loop would show ~SLOW_MS), when any fast
// call fails, when the slow calls did not stay in flight, or on a sanitizer report.
// Settings (env): BUILD_DIR, GW_BIN, DURATION (s per phase, 8), WARMUP (s, 1), FAST_CONC (8),
// SLOW_CONC (32), SLOW_MS (2000), WORKERS (gateway worker threads, 2), RESULTS_JSON (path).
// Loopback only; bounded: about 3 x (DURATION + WARMUP) + SLOW_MS + 3 s.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import * as h from '../integration/lib/e2e-harness.mjs';

const num = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const DURATION = num('DURATION', 8);
const WARMUP = num('WARMUP', 1);
const FAST_CONC = num('FAST_CONC', 8);
const SLOW_CONC = num('SLOW_CONC', 32);
const SLOW_MS = num('SLOW_MS', 2000);
const WORKERS = num('WORKERS', 2);

function post(agent, port, headers, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
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

/** The JSON-RPC message in a POST answer (JSON body or one SSE event). */
function message(res) {
  const ct = String(res.headers['content-type'] || '');
  if (ct.includes('text/event-stream')) {
    const data = res.body.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
    return JSON.parse(data);
  }
  return JSON.parse(res.body);
}

let ids = 0;
class Session {
  constructor(port) {
    this.port = port;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.headers = {};
  }
  async start() {
    const r = await post(this.agent, this.port, {}, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slow-upstream-load', version: '1' } } }));
    if (r.status !== 200) throw new Error(`initialize: HTTP ${r.status} ${r.body}`);
    this.headers['Mcp-Session-Id'] = r.headers['mcp-session-id'];
    this.headers['MCP-Protocol-Version'] = message(r).result.protocolVersion;
    const n = await post(this.agent, this.port, this.headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if (n.status >= 300) throw new Error(`initialized: HTTP ${n.status}`);
  }
  /** One tools/call; resolves {ms, ok, text}. */
  async call(name, args) {
    const t0 = process.hrtime.bigint();
    const r = await post(this.agent, this.port, this.headers,
      JSON.stringify({ jsonrpc: '2.0', id: ++ids, method: 'tools/call', params: { name, arguments: args } }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    let ok = false;
    let text = `HTTP ${r.status}`;
    if (r.status === 200) {
      const m = message(r);
      ok = !!(m.result && !m.result.isError);
      text = JSON.stringify(m.result || m.error).slice(0, 300);
    }
    return { ms, ok, text };
  }
  close() { this.agent.destroy(); }
}

/** Closed loop: each session keeps one call outstanding until stop(); records measured calls. */
function loop(sessions, name, args) {
  const rec = { lat: [], errors: 0, lastError: '', measuring: false, running: true };
  const runners = sessions.map(async (s) => {
    while (rec.running) {
      let r;
      try { r = await s.call(name, args); } catch (e) { r = { ms: 0, ok: false, text: String(e) }; }
      if (!rec.measuring) continue;
      if (r.ok) rec.lat.push(r.ms); else { rec.errors++; rec.lastError = r.text; }
    }
  });
  rec.stop = async () => { rec.running = false; await Promise.all(runners); };
  return rec;
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(rec, seconds) {
  const s = [...rec.lat].sort((a, b) => a - b);
  return { calls: s.length, errors: rec.errors, rps: +(s.length / seconds).toFixed(1),
    p50: +pct(s, 50).toFixed(2), p90: +pct(s, 90).toFixed(2), p99: +pct(s, 99).toFixed(2),
    max: +(s[s.length - 1] || NaN).toFixed(2) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(rec) {
  await sleep(WARMUP * 1000);
  rec.measuring = true;
  const t0 = performance.now();
  await sleep(DURATION * 1000);
  rec.measuring = false;
  return (performance.now() - t0) / 1000;
}

async function main() {
  const dir = h.tempDir('load');
  const secrets = h.freshSecrets();
  let code = 0;
  try {
    const mock = await h.startMock({ dir, secrets });
    const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
    const env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
      GW_LOG_LEVEL: 'warn', GW_ACCESS_LOG: 'false', GW_WORKERS: String(WORKERS),
      GW_UPSTREAM_TIMEOUT_MS: String(SLOW_MS + 5000) } });
    h.importSpec(env, h.SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
    const gw = await h.startGateway(env, dir);
    const day = h.nextWorkday((await mock.health()).today);
    const T = h.toolMap(env).op;
    const FAST = [T.resolveVehicle, { registration_number: 'MH12AB1234' }];
    const SLOW = [T.getAvailableSlots, { dealer_id: 'MSIL-PUNE-001', date: day }];

    const fastS = await Promise.all(Array.from({ length: FAST_CONC }, async () => { const s = new Session(gw.port); await s.start(); return s; }));
    const slowS = await Promise.all(Array.from({ length: SLOW_CONC }, async () => { const s = new Session(gw.port); await s.start(); return s; }));

    // A: fast only
    let fast = loop(fastS, ...FAST);
    const secsA = await measure(fast);
    await fast.stop();
    const A = summary(fast, secsA);

    // B: fast while SLOW_CONC slow calls stay pending
    await mock.addFault({ mode: 'latency', ms: SLOW_MS, paths: '/api/v1/dealers/*/slots' });
    const slow = loop(slowS, ...SLOW);
    slow.measuring = true;
    fast = loop(fastS, ...FAST);
    const secsB = await measure(fast);
    await fast.stop();
    const B = summary(fast, secsB);
    await slow.stop();   // lets the pending slow calls finish (at most SLOW_MS)
    const S = summary(slow, secsB + WARMUP);
    await mock.clearFaults();

    // A2: fast only again (controls for warm-up and for drift of a shared machine)
    fast = loop(fastS, ...FAST);
    const secsA2 = await measure(fast);
    await fast.stop();
    const A2 = summary(fast, secsA2);
    // baseline: the more lenient of the two fast-only phases
    const base = { p50: Math.max(A.p50, A2.p50), p99: Math.max(A.p99, A2.p99), rps: Math.min(A.rps, A2.rps) };

    for (const s of [...fastS, ...slowS]) s.close();
    await gw.stop();
    const sanit = h.sanitizerReports(gw.stderr());

    const res = { date: new Date().toISOString(), settings: { DURATION, WARMUP, FAST_CONC, SLOW_CONC, SLOW_MS, WORKERS,
      build: h.BUILD_DIR }, fastOnly: A, fastWithSlow: B, fastOnlyAfter: A2, slow: S };
    console.log(JSON.stringify(res, null, 2));
    console.log('\n| phase | fast calls | rps | p50 ms | p90 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|');
    for (const [n, r] of [['A: fast only', A], [`B: fast + ${SLOW_CONC} pending slow (${SLOW_MS} ms)`, B], ['A2: fast only, after', A2]])
      console.log(`| ${n} | ${r.calls} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.errors} |`);
    console.log(`slow calls completed: ${S.calls} (p50 ${S.p50} ms, errors ${S.errors})`);
    if (process.env.RESULTS_JSON) writeFileSync(process.env.RESULTS_JSON, JSON.stringify(res, null, 2));

    const fails = [];
    if (A.errors || B.errors || A2.errors) fails.push(`fast calls failed (${A.errors} + ${B.errors} + ${A2.errors}): ${fast.lastError}`);
    if (A.calls < 100 || A2.calls < 100) fails.push(`too few fast calls in phase A/A2 (${A.calls}, ${A2.calls})`);
    if (B.p50 > 2 * base.p50 + 5) fails.push(`fast p50 degraded: ${base.p50} -> ${B.p50} ms`);
    if (B.p99 > Math.max(3 * base.p99, base.p99 + 50)) fails.push(`fast p99 degraded: ${base.p99} -> ${B.p99} ms`);
    if (B.rps < 0.5 * base.rps) fails.push(`fast throughput dropped: ${base.rps} -> ${B.rps} rps`);
    const expectSlow = Math.floor(SLOW_CONC * ((secsB + WARMUP) * 1000 / (SLOW_MS + 50)) * 0.8);
    if (S.calls < expectSlow) fails.push(`slow calls did not stay in flight: ${S.calls} < ${expectSlow}`);
    if (S.errors) fails.push(`slow calls failed: ${S.errors}: ${slow.lastError}`);
    if (S.calls && S.p50 < SLOW_MS) fails.push(`slow calls were not slow (p50 ${S.p50} ms)`);
    if (sanit.length) fails.push(`sanitizer report: ${sanit[0]}`);
    for (const f of fails) console.log(`FAIL: ${f}`);
    if (!fails.length) console.log('OK: the fast tool kept its latency while slow calls were pending');
    code = fails.length ? 1 : 0;
  } catch (e) {
    console.error(e);
    code = 1;
  } finally {
    await h.stopAll();
    h.cleanupDir(dir);
  }
  process.exit(code);
}

main();
