// tests/integration/40-modern.test.mjs
// The stateless 2026-07-28 revision on the same /mcp endpoint, with raw POSTs carrying
// params._meta {protocolVersion, clientCapabilities} and the MCP-Protocol-Version, Mcp-Method
// and Mcp-Name headers: server/discover, tools/list (resultType, integer ttlMs, one cacheScope
// on every page), tools/call and resources/read, Mcp-Name in the =?base64?...?= form, no
// session minted; the error rules (header mismatch -32020, missing _meta fields -32602,
// unsupported version -32022 with data.supported, unknown or removed method 404 -32601, GET
// 405, each echoing the request id); multi-round tools (input_required, inputResponses,
// sealed requestState that refuses tampering, -32021 for an undeclared capability); and a
// subscriptions/listen stream receiving list_changed with its subscription id.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { openStream, post, postStreaming, request, startGateway } from './lib/gw.mjs';

const V = '2026-07-28';
let nextId = 1000;

/** A modern request: body with _meta, and the three headers (each overridable). */
function modern(gw, method, params = {}, opts = {}) {
  const id = opts.id ?? nextId++;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': V,
    'io.modelcontextprotocol/clientCapabilities': opts.caps ?? {},
    ...(opts.meta ?? {}),
  };
  for (const [k, v] of Object.entries(meta)) if (v === undefined) delete meta[k];
  const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } };
  if (opts.noMeta) delete body.params._meta;
  const headers = { 'MCP-Protocol-Version': V, 'Mcp-Method': method };
  const name = params.name ?? params.uri;
  if (name !== undefined) headers['Mcp-Name'] = name;
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return post(gw, body, { headers }).then((res) => ({ ...res, id }));
}

function rpcResult(res) {
  assert.equal(res.status, 200, res.body);
  const msgs = res.events ? res.events.map((e) => e.json) : [res.json];
  const final = msgs.find((m) => m && m.id === res.id && (m.result || m.error));
  assert.ok(final, `no response for id ${res.id}: ${res.body}`);
  assert.equal(final.error, undefined, JSON.stringify(final.error));
  return final.result;
}

function rpcError(res, status, code) {
  assert.equal(res.status, status, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(res.json?.jsonrpc, '2.0', res.body);
  assert.equal(res.json.error?.code, code, res.body);
  assert.equal(res.json.id, res.id, `the error must echo the request id: ${res.body}`);
  return res.json.error;
}

describe('40-modern: the stateless 2026-07-28 revision', () => {
  let gw;

  before(async () => {
    gw = await startGateway({ sets: { GW_PAGE_SIZE: '5' } });
  });

  after(async () => {
    if (gw) assert.equal((await gw.stop()).code, 0);
  });

  test('server/discover: complete, lists 2026-07-28, ttlMs and cacheScope, no session', async () => {
    const res = await modern(gw, 'server/discover');
    const r = rpcResult(res);
    assert.equal(r.resultType, 'complete');
    assert.ok(r.supportedVersions.includes(V));
    assert.equal(typeof r.capabilities, 'object');
    assert.ok(Number.isInteger(r.ttlMs) && r.ttlMs >= 0);
    assert.ok(['public', 'private'].includes(r.cacheScope));
    assert.equal(res.headers['mcp-session-id'], undefined, 'a session id was minted');
  });

  test('tools/list: complete, integer ttlMs, one cacheScope on every page', async () => {
    const names = [];
    const scopes = new Set();
    let cursor;
    let pages = 0;
    do {
      const r = rpcResult(await modern(gw, 'tools/list', cursor ? { cursor } : {}));
      assert.equal(r.resultType, 'complete');
      assert.ok(Number.isInteger(r.ttlMs) && r.ttlMs >= 0, JSON.stringify(r.ttlMs));
      assert.equal(typeof r.cacheScope, 'string');
      scopes.add(r.cacheScope);
      assert.ok(r.tools.length <= 5);
      names.push(...r.tools.map((t) => t.name));
      cursor = r.nextCursor;
      assert.ok(++pages < 50);
    } while (cursor);
    assert.equal(scopes.size, 1, `cacheScope differs across pages: ${[...scopes]}`);
    assert.ok(names.includes('test_simple_text'));
    assert.equal(new Set(names).size, names.length);
  });

  test('tools/call test_simple_text', async () => {
    const r = rpcResult(await modern(gw, 'tools/call', { name: 'test_simple_text', arguments: {} }));
    assert.equal(r.resultType, 'complete');
    assert.deepEqual(r.content, [{ type: 'text', text: 'This is a simple text response for testing.' }]);
  });

  test('resources/read and prompts/get with Mcp-Name', async () => {
    const r = rpcResult(await modern(gw, 'resources/read', { uri: 'test://static-text' }));
    assert.equal(r.resultType, 'complete');
    assert.equal(r.contents[0].text, 'This is the content of the static text resource.');
    assert.ok(Number.isInteger(r.ttlMs));
    const p = rpcResult(await modern(gw, 'prompts/get', { name: 'test_simple_prompt' }));
    assert.equal(p.resultType, 'complete');
    assert.equal(p.messages[0].content.text, 'This is a simple prompt for testing.');
  });

  test('Mcp-Name in the =?base64?...?= form is decoded before comparing', async () => {
    const enc = `=?base64?${Buffer.from('test_simple_text').toString('base64')}?=`;
    const r = rpcResult(await modern(gw, 'tools/call', { name: 'test_simple_text', arguments: {} }, {
      headers: { 'Mcp-Name': enc },
    }));
    assert.equal(r.content[0].text, 'This is a simple text response for testing.');
  });

  test('header mismatch or absence: 400 -32020', async () => {
    rpcError(await modern(gw, 'tools/list', {}, { headers: { 'Mcp-Method': 'tools/call' } }), 400, -32020);
    rpcError(await modern(gw, 'tools/list', {}, { headers: { 'Mcp-Method': undefined } }), 400, -32020);
    rpcError(await modern(gw, 'tools/call', { name: 'test_simple_text' }, { headers: { 'Mcp-Name': 'other' } }), 400, -32020);
    rpcError(await modern(gw, 'tools/call', { name: 'test_simple_text' }, { headers: { 'Mcp-Name': undefined } }), 400, -32020);
    // _meta says 2026-07-28 but the version header is missing
    rpcError(await modern(gw, 'tools/list', {}, { headers: { 'MCP-Protocol-Version': undefined } }), 400, -32020);
    // a base64 sentinel whose base64 is not padded base64 is refused as such, never taken literally
    const bad = rpcError(await modern(gw, 'tools/call', { name: 'test_simple_text' },
      { headers: { 'Mcp-Name': '=?base64?dGVzdF9zaW1wbGVfdGV4dA?=' } }), 400, -32020);
    assert.match(bad.message, /Mcp-Name header: the value inside =\?base64\?\.\.\.\?= is not padded base64/);
    assert.match(rpcError(await modern(gw, 'tools/list', {}, { headers: { 'Mcp-Method': 'tools/call' } }), 400, -32020).message,
      /Mcp-Method header does not match the request method/);
  });

  test('missing _meta protocolVersion or clientCapabilities: 400 -32602', async () => {
    rpcError(await modern(gw, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': undefined } }), 400, -32602);
    rpcError(await modern(gw, 'tools/list', {}, { noMeta: true }), 400, -32602);
    rpcError(await modern(gw, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/clientCapabilities': undefined } }), 400, -32602);
  });

  test('an unsupported version: 400 -32022 with data.supported', async () => {
    const e = rpcError(await modern(gw, 'tools/list', {}, {
      meta: { 'io.modelcontextprotocol/protocolVersion': '2027-01-01' },
      headers: { 'MCP-Protocol-Version': '2027-01-01' },
    }), 400, -32022);
    assert.ok(Array.isArray(e.data?.supported), JSON.stringify(e));
    assert.ok(e.data.supported.includes(V));
    assert.equal(e.data.requested, '2027-01-01');
  });

  test('an unknown method, and methods removed in 2026-07-28: 404 -32601', async () => {
    rpcError(await modern(gw, 'tools/explode'), 404, -32601);
    for (const m of ['ping', 'logging/setLevel', 'resources/subscribe']) rpcError(await modern(gw, m), 404, -32601);
  });

  test('GET /mcp with the 2026-07-28 version header: 405', async () => {
    const res = await request(gw.port, { method: 'GET', headers: { Accept: 'text/event-stream', 'MCP-Protocol-Version': V } });
    assert.equal(res.status, 405);
    assert.equal(res.json?.jsonrpc, '2.0');
  });

  test('multi-round: input_required with a sampling request, then the retry completes', async () => {
    const first = rpcResult(await modern(gw, 'tools/call', { name: 'test_input_required_result_sampling', arguments: {} }, {
      caps: { sampling: {} },
    }));
    assert.equal(first.resultType, 'input_required');
    const req = first.inputRequests?.capital_question;
    assert.equal(req?.method, 'sampling/createMessage', JSON.stringify(first));
    const second = rpcResult(await modern(gw, 'tools/call', {
      name: 'test_input_required_result_sampling',
      arguments: {},
      inputResponses: { capital_question: { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'm' } },
    }, { caps: { sampling: {} } }));
    assert.equal(second.resultType, 'complete');
    assert.equal(second.content[0].text, 'The LLM answered: Paris');
  });

  test('multi-round: the sealed requestState round-trips and refuses tampering', async () => {
    const name = 'test_input_required_result_request_state';
    const first = rpcResult(await modern(gw, 'tools/call', { name, arguments: {} }, { caps: { elicitation: {} } }));
    assert.equal(first.resultType, 'input_required');
    assert.equal(typeof first.requestState, 'string');
    const answer = { confirm: { action: 'accept', content: { ok: true } } };
    const s = first.requestState;
    const tampered = s.slice(0, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6);
    const bad = await modern(gw, 'tools/call', { name, arguments: {}, inputResponses: answer, requestState: tampered }, { caps: { elicitation: {} } });
    assert.equal(bad.json?.error?.code ?? bad.events?.at(-1)?.json?.error?.code, -32602, bad.body);
    const ok = rpcResult(await modern(gw, 'tools/call', { name, arguments: {}, inputResponses: answer, requestState: s }, { caps: { elicitation: {} } }));
    assert.equal(ok.resultType, 'complete');
    assert.equal(ok.content[0].text, 'state-ok: confirmation received');
  });

  test('a tool needing an undeclared client capability: -32021', async () => {
    const res = await modern(gw, 'tools/call', { name: 'test_missing_capability', arguments: {} });
    const code = res.json?.error?.code ?? res.events?.at(-1)?.json?.error?.code;
    assert.equal(code, -32021, res.body);
    const ok = rpcResult(await modern(gw, 'tools/call', { name: 'test_missing_capability', arguments: {} }, { caps: { sampling: {} } }));
    assert.equal(ok.content[0].text, 'The client declared sampling');
  });

  test('subscriptions/listen: acknowledged first, then list_changed with the subscription id', async () => {
    const id = 'listen-1';
    const body = {
      jsonrpc: '2.0',
      id,
      method: 'subscriptions/listen',
      params: {
        notifications: { toolsListChanged: true },
        _meta: { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    };
    const stream = await postStreaming(gw.port, body, { 'MCP-Protocol-Version': V, 'Mcp-Method': 'subscriptions/listen' });
    assert.equal(stream.res.statusCode, 200);
    const ack = await stream.wait((e) => e.json);
    assert.equal(ack.json.method, 'notifications/subscriptions/acknowledged');
    assert.equal(ack.json.params.notifications.toolsListChanged, true);
    rpcResult(await modern(gw, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} }));
    const note = await stream.wait((e) => e.json?.method === 'notifications/tools/list_changed');
    assert.equal(note.json.params._meta['io.modelcontextprotocol/subscriptionId'], id);
    stream.res.destroy();
  });

  test('legacy and modern clients share the endpoint', async () => {
    // a legacy initialize right after modern traffic still gets a session
    const res = await post(gw, {
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers['mcp-session-id']);
    const s = await openStream(gw.port, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': res.headers['mcp-session-id'] } });
    assert.equal(s.res.statusCode, 200);
    s.close();
  });
});
