// tests/integration/75-metrics-summary.test.mjs
// The console dashboard's backend, GET /admin/api/metrics/summary (src/metrics/metrics_series.c,
// src/admin/admin_metrics.c), on a real `mcpgw serve` with the mock APIM and the audit trail:
// real tool calls through the official SDK client (successes, upstream 404s that are isError
// results, rate-limit refusals of a rule added through the admin API) are counted exactly in the
// window's totals, in the intervals of the series (same timestamps in every series, aligned to
// the step), per tool and per upstream (with its breaker state), agree with the Prometheus
// counters fed by the same observer, and the audit trail's part reports its records and lag;
// windows and steps it cannot answer are clear 400s. Loopback only, ~5 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './lib/e2e-harness.mjs';

let dir, mock, env, gw, client, T;

before(async () => {
  dir = h.tempDir('metrics-summary');
  const secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets,
    settings: { GW_ADMIN_LISTEN: '127.0.0.1:0', GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  T = h.toolMap(env).op;
  gw = await h.startGateway(env, dir, [], { admin: true });
  client = await h.connectClient(gw.mcpUrl, 'metrics-summary');
});

after(async () => {
  await client?.close();
  await h.stopAll();
  const reports = h.sanitizerReports(gw?.stderr() || '');
  h.cleanupDir(dir);
  assert.deepEqual(reports, [], 'sanitizer reports in the gateway log');
});

async function admin(method, path, body) {
  const r = await fetch(gw.adminUrl + path, {
    method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

const sum = (points) => points.reduce((a, p) => a + p[1], 0);

test('real calls are counted exactly: totals, intervals, tools, upstreams, audit; Prometheus agrees', async () => {
  // 5 successes, 2 upstream 404s (isError results), then a limit of 1/min on get_dealer: 1 more
  // success and 3 refusals (-32008)
  for (let i = 0; i < 5; i++) {
    const r = await h.rawCall(client, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
    assert.ok(!r.isError, h.resultText(r));
  }
  for (let i = 0; i < 2; i++) {
    const r = await h.rawCall(client, T.getBooking, { booking_id: `BK-2026-99999${i}` });
    assert.equal(r.isError, true);
  }
  const rule = await admin('POST', '/limits', { id: 'it-dealer', rate: '1/min', per: ['tool'], match: { tools: [T.getDealer] } });
  assert.equal(rule.status, 201, JSON.stringify(rule.json));
  await h.waitFor(async () => (await admin('GET', '/limits')).json.rules.some((x) => x.id === 'it-dealer'));
  let refused = 0, ok = 0;
  for (let i = 0; i < 4; i++) {
    try {
      const r = await h.rawCall(client, T.getDealer, { dealer_id: 'MSIL-PUNE-001' });
      if (!r.isError) ok++;
    } catch (e) {
      assert.equal(e.code, -32008, String(e));
      refused++;
    }
  }
  assert.deepEqual({ ok, refused }, { ok: 1, refused: 3 });

  const r = await admin('GET', '/metrics/summary?window=900&step=15');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const m = r.json;
  assert.equal(m.window, 900);
  assert.equal(m.step, 15);
  assert.deepEqual({ calls: m.totals.calls, errors: m.totals.errors, denials: m.totals.denials },
    { calls: 11, errors: 2, denials: 3 });
  assert.ok(m.totals.p50Ms > 0 && m.totals.p95Ms >= m.totals.p50Ms, JSON.stringify(m.totals));
  // 60 intervals of 15 s, the same aligned timestamps in every series, the last one holding now
  const ts = m.series.calls.map((p) => p[0]);
  assert.equal(ts.length, 60);
  for (const k of ['errors', 'denials', 'p50Ms', 'p95Ms']) assert.deepEqual(m.series[k].map((p) => p[0]), ts, k);
  ts.forEach((t, i) => { assert.equal(t % 15, 0); if (i) assert.equal(t - ts[i - 1], 15); });
  assert.ok(ts[59] <= m.to && m.to < ts[59] + 15);
  assert.equal(sum(m.series.calls), 11);
  assert.equal(sum(m.series.errors), 2);
  assert.equal(sum(m.series.denials), 3);
  for (const p of m.series.p95Ms) assert.ok(p[1] === null || p[1] > 0);
  // per tool and per upstream
  const dealer = m.topTools.find((t) => t.name === T.getDealer);
  const booking = m.topTools.find((t) => t.name === T.getBooking);
  assert.deepEqual({ calls: dealer.calls, errors: dealer.errors, denials: dealer.denials }, { calls: 9, errors: 0, denials: 3 });
  assert.deepEqual({ calls: booking.calls, errors: booking.errors, denials: booking.denials }, { calls: 2, errors: 2, denials: 0 });
  assert.equal(m.topTools[0].name, T.getDealer, 'ranked by calls');
  const up = m.upstreams.find((u) => u.name === 'service-booking');
  assert.equal(up.calls, 8, 'refused calls never reach the upstream');
  assert.equal(up.errors, 2, 'the two 404s');
  assert.equal(up.breaker, 'closed');
  assert.ok(up.p95Ms > 0);
  // the audit trail: records were committed in the window, nothing waits, lag measured
  assert.equal(m.audit.healthy, true);
  assert.equal(m.audit.pending, 0);
  assert.ok(m.audit.records >= 11, `audit records in the window: ${m.audit.records}`);
  assert.ok(m.audit.lagMs === null || m.audit.lagMs >= 0);
  assert.ok(typeof m.replica === 'string' && m.replica.length > 0);

  // the Prometheus counters come from the same completion observer
  const prom = await (await fetch(gw.adminUrl.replace('/admin/api', '/metrics'))).text();
  let promCalls = 0;
  for (const line of prom.split('\n'))
    if (line.startsWith('mcpgw_tool_calls_total{')) promCalls += Number(line.split(' ').pop());
  assert.equal(promCalls, 11);
  // the 8 calls that reached the mock APIM (plain http on 127.0.0.1) went through the native
  // HTTP client, none through libcurl
  const engine = (c) => Number((prom.match(new RegExp(`^mcpgw_upstream_requests_total\\{client="${c}"\\} (\\S+)$`, 'm')) || [])[1]);
  assert.deepEqual({ native: engine('native'), curl: engine('curl') }, { native: 8, curl: 0 });

  // 24 h at one-minute intervals holds the same calls
  const day = await admin('GET', '/metrics/summary?window=86400&step=60');
  assert.equal(day.status, 200);
  assert.equal(day.json.series.calls.length, 1440);
  assert.equal(day.json.totals.calls, 11);
});

test('windows and steps it cannot answer are 400s that say why', async () => {
  const cases = [
    ['window=60', /window must be 900 \(15 min\) to 86400 \(24 h\) seconds, not 60/],
    ['window=90000', /not 90000/],
    ['window=1h', /query parameter window must be an integer/],
    ['window=901', /multiple of 5 seconds/],
    ['window=900&step=7', /step must be a multiple of 5 seconds that divides the window \(900 s\).*e\.g\. 15/],
    ['window=86400&step=30', /multiple of 60 seconds/],
  ];
  for (const [q, re] of cases) {
    const r = await admin('GET', `/metrics/summary?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.json.error.code, 'invalid', q);
    assert.match(r.json.error.message, re, q);
  }
  const d = await admin('GET', '/metrics/summary');
  assert.equal(d.status, 200);
  assert.deepEqual([d.json.window, d.json.step], [3600, 60]);
  // the data-plane port does not answer it
  assert.equal((await fetch(`${gw.url}/admin/api/metrics/summary`)).status, 404);
});
