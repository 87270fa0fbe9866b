// tests/integration/12-legacy-sse.test.mjs
// The old 2024-11-05 HTTP+SSE transport (GET /sse + POST /messages?sessionId=) with the
// official SDK's SSEClientTransport: connect (the endpoint event, initialize over /messages),
// list tools, call a tool, progress notifications, sampling through the stream; raw checks:
// the endpoint event's URL, POST /messages with an unknown or missing sessionId is 404 JSON,
// wrong method 405, wrong Content-Type 415, malformed JSON 400 -32700, and a closed stream's
// session is refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CORE_FIXTURE_TOOLS, openStream, request, startGateway } from './lib/gw.mjs';
import {
  Client,
  CreateMessageRequestSchema,
  SSEClientTransport,
} from './lib/sdk.mjs';

describe('12-legacy-sse: the 2024-11-05 HTTP+SSE transport', () => {
  let gw;
  const clients = [];

  async function connect(capabilities = {}) {
    const client = new Client({ name: 'legacy-sse-it', version: '1' }, { capabilities });
    const transport = new SSEClientTransport(new URL(`${gw.base}/sse`));
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  }

  before(async () => {
    gw = await startGateway();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (gw) assert.equal((await gw.stop()).code, 0);
  });

  test('SDK SSEClientTransport: connect, list tools, call a tool', async () => {
    const { client } = await connect();
    const tools = await client.listTools();
    for (const t of CORE_FIXTURE_TOOLS) assert.ok(tools.tools.some((x) => x.name === t), t);
    const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
    assert.equal(r.content[0].text, 'This is a simple text response for testing.');
    assert.deepEqual(await client.ping(), {});
  });

  test('SDK SSEClientTransport: progress notifications arrive on the stream', async () => {
    const { client } = await connect();
    const seen = [];
    const r = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    assert.equal(r.content[0].text, 'Tool with progress executed successfully');
    assert.ok(seen.length >= 2, JSON.stringify(seen));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1]);
  });

  test('SDK SSEClientTransport: sampling request and its answer travel over the old transport', async () => {
    const { client } = await connect({ sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'm',
      role: 'assistant',
      content: { type: 'text', text: 'legacy answer' },
    }));
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'p' } });
    assert.equal(r.content[0].text, 'LLM response: legacy answer');
  });

  test('raw: the endpoint event names /messages with a session id', async () => {
    const s = await openStream(gw.port, { path: '/sse', headers: { Accept: 'text/event-stream' } });
    assert.equal(s.res.statusCode, 200);
    assert.match(s.res.headers['content-type'], /^text\/event-stream/);
    const ev = await s.wait((e) => e.event === 'endpoint');
    assert.match(ev.data, /^\/messages\?sessionId=[A-Za-z0-9_-]+$/);
    const sid = ev.data.split('=')[1];
    // a message for this session is accepted (202) and answered on the stream
    const res = await request(gw.port, {
      method: 'POST',
      path: `/messages?sessionId=${sid}`,
      headers: { 'Content-Type': 'application/json' },
      body: { jsonrpc: '2.0', id: 77, method: 'ping' },
    });
    assert.equal(res.status, 202);
    const pong = await s.wait((e) => e.json?.id === 77);
    assert.deepEqual(pong.json.result, {});
    // wrong Content-Type and malformed JSON are refused with JSON bodies
    const bad = await request(gw.port, {
      method: 'POST',
      path: `/messages?sessionId=${sid}`,
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    assert.equal(bad.status, 415);
    assert.equal(bad.json?.jsonrpc, '2.0');
    const bad2 = await request(gw.port, {
      method: 'POST',
      path: `/messages?sessionId=${sid}`,
      headers: { 'Content-Type': 'application/json' },
      body: '{"jsonrpc":',
    });
    assert.equal(bad2.status, 400);
    assert.equal(bad2.json?.error?.code, -32700);
    s.close();
    await s.ended;
    // once the stream is gone its session is not served any more (stream gone or 404)
    let after404 = null;
    for (let i = 0; i < 50 && after404 !== 404; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after404 = (await request(gw.port, {
        method: 'POST',
        path: `/messages?sessionId=${sid}`,
        headers: { 'Content-Type': 'application/json' },
        body: { jsonrpc: '2.0', id: 78, method: 'ping' },
      })).status;
    }
    assert.equal(after404, 404);
  });

  test('raw: POST /messages with an unknown or missing sessionId is 404 JSON', async () => {
    for (const path of ['/messages?sessionId=nope', '/messages', '/messages?sessionId=']) {
      const res = await request(gw.port, {
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/json' },
        body: { jsonrpc: '2.0', id: 1, method: 'ping' },
      });
      assert.equal(res.status, 404, path);
      assert.equal(res.json?.jsonrpc, '2.0', `${path}: ${res.body}`);
      assert.equal(typeof res.json.error.message, 'string');
    }
  });

  test('raw: wrong methods on /sse and /messages are 405', async () => {
    const a = await request(gw.port, { method: 'POST', path: '/sse', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(a.status, 405);
    assert.match(a.headers.allow, /GET/);
    const b = await request(gw.port, { method: 'GET', path: '/messages?sessionId=x' });
    assert.equal(b.status, 405);
    assert.match(b.headers.allow, /POST/);
  });
});
