// tests/integration/73-traces.test.mjs
// OpenTelemetry traces (src/trace, docs/observability.md) against a small local OTLP/HTTP
// receiver: a tools/call through the whole pipeline to a recording upstream yields a SERVER
// span "mcp tools/call" with phase children and, under "phase execute", a CLIENT span whose id
// is exactly the parent id the upstream received in its W3C `traceparent` header (same trace
// id); an incoming traceparent is continued; text that carries personal data is masked in
// span attributes and status messages.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';

import {
  connectClient, freshSecrets, gatewayEnv, importSpec, rawCall, startGateway, stopAll, tempDir,
  toolMap, writeUpstreams,
} from './lib/e2e-harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const servers = [];

after(async () => {
  for (const s of servers) s.close();
  await stopAll();
});

function listen(handler) {
  const s = http.createServer(handler);
  servers.push(s);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
}

test('spans per call with phases and the upstream request; traceparent propagated; PII masked', async () => {
  const batches = [];
  const otlpPort = await listen((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      batches.push({ ct: req.headers['content-type'], auth: req.headers['x-otlp-token'], body: JSON.parse(b) });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  const upstreamSeen = [];
  const upPort = await listen((req, res) => {
    upstreamSeen.push({ url: req.url, traceparent: req.headers.traceparent });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ pong: true }));
  });
  const dir = tempDir('traces');
  const spec = join(dir, 'ping.json');
  writeFileSync(spec, JSON.stringify({
    openapi: '3.0.3', info: { title: 'ping', version: '1' },
    paths: { '/ping': { get: { operationId: 'ping', summary: 'Ping',
      responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } } } } },
  }));
  const upstreamsFile = writeUpstreams(dir, { rec: { baseUrls: { mock: `http://127.0.0.1:${upPort}` } } });
  const env = gatewayEnv({ dir, upstreamsFile, secrets: freshSecrets(), settings: {
    GW_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}/v1/traces`,
    GW_OTLP_BATCH_MS: '100',
    GW_OTLP_HEADERS: 'X-OTLP-Token=t0ken',
  } });
  importSpec(env, spec, { specId: 'ping', upstream: 'rec' });
  const tool = toolMap(env).op.ping;
  const gw = await startGateway(env, dir);
  const client = await connectClient(gw.mcpUrl);
  const res = await rawCall(client, tool, {});
  assert.ok(!res.isError, JSON.stringify(res));
  await client.request({ method: 'tools/call', params: { name: 'ring 9876543210', arguments: {} } },
    (await import('./lib/sdk.mjs')).CallToolResultSchema).catch(() => null);
  // an incoming traceparent is continued
  const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const r2 = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2025-11-25', traceparent: incoming },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
  assert.equal(r2.status, 200);
  await client.close();
  let spans = [];
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    spans = batches.flatMap((b) => b.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    if (spans.some((s) => s.name === 'upstream rec') && spans.some((s) => s.traceId === '0af7651916cd43dd8448eb211c80319c')) break;
  }
  assert.equal(batches[0].ct, 'application/json');
  assert.equal(batches[0].auth, 't0ken');
  assert.equal(batches[0].body.resourceSpans[0].resource.attributes[0].value.stringValue, 'mcpgw');
  const attr = (s, k) => s.attributes.find((a) => a.key === k)?.value;
  const root = spans.find((s) => s.name === 'mcp tools/call' && attr(s, 'mcp.tool')?.stringValue === tool);
  assert.ok(root, `root span: ${JSON.stringify(spans.map((s) => s.name))}`);
  assert.equal(root.kind, 2);
  assert.ok(!root.parentSpanId);
  const children = spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);
  for (const p of ['phase resolve', 'phase validate', 'phase execute'])
    assert.ok(children.includes(p), `${p} in ${children}`);
  const exec = spans.find((s) => s.parentSpanId === root.spanId && s.name === 'phase execute');
  const up = spans.find((s) => s.parentSpanId === exec.spanId && s.name === 'upstream rec');
  assert.ok(up, 'upstream span under execute');
  assert.equal(up.kind, 3);
  assert.equal(attr(up, 'http.response.status_code').intValue, '200');
  for (const s of spans.filter((x) => x.traceId === root.traceId)) {
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
    assert.ok(BigInt(s.startTimeUnixNano) >= BigInt(root.startTimeUnixNano));
  }
  // the upstream got the upstream span as its parent, in the same trace
  const tp = upstreamSeen.find((u) => u.url.startsWith('/ping'))?.traceparent;
  assert.equal(tp, `00-${root.traceId}-${up.spanId}-01`);
  // continued trace
  assert.ok(spans.some((s) => s.traceId === '0af7651916cd43dd8448eb211c80319c' && s.name === 'mcp initialize'));
  // PII in an error message is masked in the span
  const text = JSON.stringify(batches.map((b) => b.body));
  const at = text.indexOf('9876543210');
  assert.ok(at < 0, 'raw phone number in the traces: ' + text.slice(Math.max(0, at - 300), at + 50));
  assert.ok(text.includes('[phone:'), 'masked phone number in the traces');
  await gw.stop();
});
