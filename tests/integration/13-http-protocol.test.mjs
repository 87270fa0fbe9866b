// tests/integration/13-http-protocol.test.mjs
// Protocol behaviours over Streamable HTTP with raw requests, beyond what the SDK exercises:
// cancellation (notifications/cancelled stops a running request: no result is ever sent;
// initialize cannot be cancelled), server->client requests bound to their session (an answer
// posted from another session is ignored, the right one completes the call), a client error
// answer turning into a tool error, list_changed delivered on the session's GET stream exactly
// once, the response mode (JSON for plain requests, SSE when notifications precede the
// result), and ids of every JSON type echoed unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { initSession, openStream, post, postStreaming, rpc, startGateway, withTimeout } from './lib/gw.mjs';

describe('13-http-protocol: cancellation, server->client requests, streams', () => {
  let gw;

  before(async () => {
    gw = await startGateway();
  });

  after(async () => {
    if (gw) assert.equal((await gw.stop()).code, 0);
  });

  const hdr = (s) => ({ 'Mcp-Session-Id': s.session, 'MCP-Protocol-Version': s.version });

  test('notifications/cancelled stops a running request: no result is sent', async () => {
    const s = await initSession(gw);
    const call = rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'c1' } });
    const stream = await postStreaming(gw.port, call, hdr(s));
    await stream.wait((e) => e.json?.method === 'notifications/progress');
    const c = await post(gw, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.id, reason: 'test' } }, { session: s.session, version: s.version });
    assert.equal(c.status, 202);
    const fin = await withTimeout(stream.done, 3000);
    assert.ok(fin, 'the cancelled request stream did not end');
    const msgs = stream.events.map((e) => e.json);
    assert.ok(!msgs.some((m) => m && m.id === call.id), `a response was sent after cancellation: ${JSON.stringify(msgs)}`);
    // the session is fine afterwards
    const ping = await post(gw, rpc('ping'), { session: s.session, version: s.version });
    assert.deepEqual(ping.json.result, {});
  });

  test('a cancellation naming another session\'s request does not touch it', async () => {
    const a = await initSession(gw);
    const b = await initSession(gw);
    const call = rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'x' } });
    const stream = await postStreaming(gw.port, call, hdr(a));
    await stream.wait((e) => e.json?.method === 'notifications/progress');
    await post(gw, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.id } }, { session: b.session, version: b.version });
    await withTimeout(stream.done, 3000);
    const result = stream.events.map((e) => e.json).find((m) => m?.id === call.id);
    assert.equal(result?.result?.content?.[0]?.text, 'Tool with progress executed successfully');
  });

  test('server->client requests are bound to their session', async () => {
    const a = await initSession(gw, '2025-11-25', { sampling: {} });
    const b = await initSession(gw, '2025-11-25', { sampling: {} });
    const call = rpc('tools/call', { name: 'test_sampling', arguments: { prompt: 'who?' } });
    const stream = await postStreaming(gw.port, call, hdr(a));
    const ask = await stream.wait((e) => e.json?.method === 'sampling/createMessage');
    assert.equal(typeof ask.json.id, 'string');
    assert.equal(ask.json.params.messages[0].content.text, 'who?');
    const answer = (text) => ({ jsonrpc: '2.0', id: ask.json.id, result: { model: 'm', role: 'assistant', content: { type: 'text', text } } });
    // session B answers A's request: accepted as a message (202) but ignored
    const wrong = await post(gw, answer('from B'), { session: b.session, version: b.version });
    assert.equal(wrong.status, 202);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!stream.events.some((e) => e.json?.id === call.id), 'the call completed with another session\'s answer');
    // the right session's answer completes it
    const right = await post(gw, answer('from A'), { session: a.session, version: a.version });
    assert.equal(right.status, 202);
    await withTimeout(stream.done, 3000);
    const result = stream.events.map((e) => e.json).find((m) => m?.id === call.id);
    assert.equal(result?.result?.content?.[0]?.text, 'LLM response: from A');
    // a second answer to the same request is ignored
    const again = await post(gw, answer('late'), { session: a.session, version: a.version });
    assert.equal(again.status, 202);
  });

  test('a client error answer becomes a tool error result', async () => {
    const s = await initSession(gw, '2025-11-25', { elicitation: {} });
    const call = rpc('tools/call', { name: 'test_elicitation', arguments: { message: 'm' } });
    const stream = await postStreaming(gw.port, call, hdr(s));
    const ask = await stream.wait((e) => e.json?.method === 'elicitation/create');
    await post(gw, { jsonrpc: '2.0', id: ask.json.id, error: { code: -1, message: 'user closed the dialog' } }, { session: s.session, version: s.version });
    await withTimeout(stream.done, 3000);
    const result = stream.events.map((e) => e.json).find((m) => m?.id === call.id);
    assert.equal(result?.result?.isError, true, JSON.stringify(result));
  });

  test('list_changed reaches the session\'s GET stream, once', async () => {
    const s = await initSession(gw);
    const get = await openStream(gw.port, { headers: { Accept: 'text/event-stream', ...hdr(s) } });
    assert.equal(get.res.statusCode, 200);
    const r = await post(gw, rpc('tools/call', { name: 'test_trigger_tool_change', arguments: {} }), { session: s.session, version: s.version });
    assert.equal(r.json?.result?.isError, undefined, r.body);
    await get.wait((e) => e.json?.method === 'notifications/tools/list_changed');
    await new Promise((res) => setTimeout(res, 100));
    const n = get.events.filter((e) => e.json?.method === 'notifications/tools/list_changed').length;
    assert.equal(n, 1);
    // responses never travel on the GET stream
    assert.ok(!get.events.some((e) => e.json && ('result' in e.json || 'error' in e.json)));
    get.close();
  });

  test('response mode: JSON for a plain request, SSE when notifications come first', async () => {
    const s = await initSession(gw);
    const plain = await post(gw, rpc('tools/call', { name: 'test_simple_text', arguments: {} }), { session: s.session, version: s.version });
    assert.match(plain.headers['content-type'], /^application\/json/);
    const streamed = await post(gw, rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 7 } }), { session: s.session, version: s.version });
    assert.match(streamed.headers['content-type'], /^text\/event-stream/);
    assert.equal(streamed.headers['cache-control']?.includes('no-cache'), true);
    assert.ok(streamed.events.every((e) => e.id === undefined), 'SSE ids would make the SDK resume');
    const kinds = streamed.events.map((e) => (e.json.method ? 'n' : 'r')).join('');
    assert.equal(kinds, 'nnnr');
    assert.ok(streamed.events.slice(0, 3).every((e) => e.json.params.progressToken === 7));
  });

  test('ids of every allowed type are echoed unchanged', async () => {
    const s = await initSession(gw);
    for (const id of [0, -1, 9007199254740991, 'x', '', 'ünïcødé ✓', 'a'.repeat(500)]) {
      const res = await post(gw, { jsonrpc: '2.0', id, method: 'ping' }, { session: s.session, version: s.version });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(res.json, { jsonrpc: '2.0', id, result: {} });
    }
  });

  test('initialize cannot be cancelled and a repeated initialize gets a new session', async () => {
    const init = rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } });
    const r1 = await post(gw, init);
    const r2 = await post(gw, { ...init, id: init.id + 100000 });
    assert.ok(r1.headers['mcp-session-id'] && r2.headers['mcp-session-id']);
    assert.notEqual(r1.headers['mcp-session-id'], r2.headers['mcp-session-id']);
    assert.equal(r1.json.result.protocolVersion, '2025-11-25');
  });
});
