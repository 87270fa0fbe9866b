// tests/integration/10-http-sdk.test.mjs
// The official TypeScript SDK client (1.32.2) over Streamable HTTP against a real mcpgw with
// the conformance fixtures and GW_PAGE_SIZE=3: negotiation and the session id, paginated
// tools/list (every fixture tool exactly once) and a bad cursor, tool calls with progress,
// logging, sampling and elicitation (server->client requests answered by the client's
// handlers), resources (text, binary, template), prompts with arguments, completion, ping,
// unknown tool, session termination (then 404), and clients asking for 2025-06-18 and
// 2025-03-26 getting exactly that version.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CORE_FIXTURE_TOOLS, fixtureToolNames, post, rpc, startGateway } from './lib/gw.mjs';
import {
  Client,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  StreamableHTTPClientTransport,
  requestVersion,
} from './lib/sdk.mjs';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('10-http-sdk: official SDK client over Streamable HTTP', () => {
  let gw;
  const clients = [];

  async function connect({ capabilities = {}, version } = {}) {
    const client = new Client({ name: 'mcpgw-sdk-it', version: '1.0.0' }, { capabilities });
    const transport = new StreamableHTTPClientTransport(new URL(gw.url));
    if (version) requestVersion(transport, version);
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  }

  before(async () => {
    gw = await startGateway({ sets: { GW_PAGE_SIZE: '3' } });
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (gw) {
      const res = await gw.stop();
      assert.equal(res.code, 0, `exit status; stderr:\n${gw.stderr().slice(-2000)}`);
    }
  });

  test('connect negotiates 2025-11-25 and gets a visible-ASCII session id', async () => {
    const { client, transport } = await connect();
    assert.equal(transport.protocolVersion, '2025-11-25');
    assert.match(transport.sessionId, /^[\x21-\x7e]+$/);
    assert.ok(transport.sessionId.length >= 16);
    const info = client.getServerVersion();
    assert.equal(typeof info.name, 'string');
    assert.equal(typeof info.version, 'string');
    const caps = client.getServerCapabilities();
    assert.ok(caps.tools && caps.resources && caps.prompts && caps.logging && caps.completions);
  });

  test('tools/list pages of 3 return every fixture tool exactly once', async () => {
    const all = await fixtureToolNames(); // the whole catalogue in one page (stdio)
    for (const t of CORE_FIXTURE_TOOLS) assert.ok(all.includes(t), `fixture ${t} missing`);
    const { client } = await connect();
    const names = [];
    let cursor;
    let pages = 0;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      assert.ok(page.tools.length <= 3, `page of ${page.tools.length}`);
      if (page.nextCursor) assert.equal(page.tools.length, 3, 'a short page before the last');
      for (const t of page.tools) {
        assert.equal(t.inputSchema.type, 'object');
        names.push(t.name);
      }
      cursor = page.nextCursor;
      pages++;
      assert.ok(pages < 20, 'pagination does not end');
    } while (cursor);
    assert.equal(pages, Math.ceil(all.length / 3));
    assert.deepEqual(names, all, 'pages differ from the catalogue (order or content)');
    assert.equal(new Set(names).size, names.length, 'a tool was listed twice');
  });

  test('an invalid cursor is -32602', async () => {
    const { client } = await connect();
    for (const cursor of ['!!!not-a-cursor!!!', 'OTk6OTk5', 'eA', '']) {
      await assert.rejects(client.listTools({ cursor }), (e) => {
        assert.ok(e instanceof McpError, String(e));
        assert.equal(e.code, -32602, `cursor ${JSON.stringify(cursor)}: ${e.message}`);
        return true;
      });
    }
  });

  test('tools/call test_simple_text returns the exact text', async () => {
    const { client } = await connect();
    const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
    assert.deepEqual(r.content, [
      { type: 'text', text: 'This is a simple text response for testing.' },
    ]);
    assert.notEqual(r.isError, true);
  });

  test('progress notifications reach onprogress, 3 of them, increasing', async () => {
    const { client } = await connect();
    const seen = [];
    const r = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.equal(r.content[0].text, 'Tool with progress executed successfully');
    assert.equal(seen.length, 3, JSON.stringify(seen));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress);
    assert.equal(seen[2].progress, seen[2].total);
  });

  test('logging: setLevel then the tool sends at least 3 log messages', async () => {
    const { client } = await connect();
    const logs = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
    await client.setLoggingLevel('debug');
    const r = await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    assert.equal(r.content[0].text, 'Tool with logging executed successfully');
    assert.ok(logs.length >= 3, JSON.stringify(logs));
    for (const l of logs) assert.equal(l.level, 'info');
    assert.deepEqual(logs.slice(0, 3).map((l) => l.data), [
      'Tool execution started', 'Tool processing data', 'Tool execution completed',
    ]);
  });

  test('logging: a level above the messages filters them out', async () => {
    const { client } = await connect();
    const logs = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
    await client.setLoggingLevel('error');
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
    assert.equal(logs.length, 0, JSON.stringify(logs));
  });

  test('sampling: the server asks the client, the handler answer ends up in the result', async () => {
    const { client } = await connect({ capabilities: { sampling: {} } });
    const asked = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      asked.push(req.params);
      return {
        model: 'test-model',
        role: 'assistant',
        content: { type: 'text', text: 'Hello from the sampling handler' },
      };
    });
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'Say hi' } });
    assert.equal(asked.length, 1);
    assert.equal(asked[0].messages[0].content.text, 'Say hi');
    assert.equal(r.content[0].text, 'LLM response: Hello from the sampling handler');
  });

  test('sampling without the capability is a tool error, not a hang', async () => {
    const { client } = await connect();
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'x' } });
    assert.equal(r.isError, true);
  });

  test('elicitation: the handler answer ends up in the result', async () => {
    const { client } = await connect({ capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      assert.equal(req.params.message, 'Who are you?');
      return { action: 'accept', content: { username: 'alice', email: 'alice@example.com' } };
    });
    const r = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } });
    const text = r.content[0].text;
    assert.ok(text.startsWith('User response: '), text);
    const answer = JSON.parse(text.slice('User response: '.length));
    assert.deepEqual(answer, {
      action: 'accept',
      content: { username: 'alice', email: 'alice@example.com' },
    });
  });

  test('resources: list, read text, binary and a template instance', async () => {
    const { client } = await connect();
    const list = await client.listResources();
    assert.ok(list.resources.some((r) => r.uri === 'test://static-text'));
    const templates = await client.listResourceTemplates();
    assert.equal(templates.resourceTemplates[0].uriTemplate, 'test://template/{id}/data');
    const text = await client.readResource({ uri: 'test://static-text' });
    assert.equal(text.contents[0].text, 'This is the content of the static text resource.');
    assert.equal(text.contents[0].mimeType, 'text/plain');
    const bin = await client.readResource({ uri: 'test://static-binary' });
    assert.equal(bin.contents[0].blob, PNG);
    assert.equal(bin.contents[0].mimeType, 'image/png');
    const tpl = await client.readResource({ uri: 'test://template/123/data' });
    assert.deepEqual(JSON.parse(tpl.contents[0].text), {
      id: '123',
      templateTest: true,
      data: 'Data for ID: 123',
    });
    await assert.rejects(client.readResource({ uri: 'test://nope' }), (e) => {
      assert.equal(e.code, -32002);
      return true;
    });
  });

  test('prompts: get with arguments; missing arguments and unknown prompt are -32602', async () => {
    const { client } = await connect();
    const list = await client.listPrompts();
    assert.ok(list.prompts.some((p) => p.name === 'test_prompt_with_arguments'));
    const p = await client.getPrompt({
      name: 'test_prompt_with_arguments',
      arguments: { arg1: 'alpha', arg2: 'beta' },
    });
    assert.equal(p.messages[0].role, 'user');
    assert.equal(p.messages[0].content.text, "Prompt with arguments: arg1='alpha', arg2='beta'");
    await assert.rejects(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'x' } }),
      (e) => e.code === -32602);
    await assert.rejects(client.getPrompt({ name: 'no_such_prompt' }), (e) => e.code === -32602);
  });

  test('completion/complete filters by prefix', async () => {
    const { client } = await connect();
    const r = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'par' },
    });
    assert.deepEqual(r.completion.values, ['paris', 'park', 'party']);
    assert.equal(r.completion.total, 3);
    const none = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'zzz' },
    });
    assert.deepEqual(none.completion.values, []);
  });

  test('ping answers {}', async () => {
    const { client } = await connect();
    const r = await client.ping();
    assert.deepEqual(r, {});
  });

  test('an unknown tool is a JSON-RPC error -32602', async () => {
    const { client } = await connect();
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (e) => {
      assert.ok(e instanceof McpError, String(e));
      assert.equal(e.code, -32602);
      assert.match(e.message, /no_such_tool/);
      return true;
    });
  });

  test('a tool error is a result with isError, not a protocol error', async () => {
    const { client } = await connect();
    const r = await client.callTool({ name: 'test_error_handling', arguments: {} });
    assert.equal(r.isError, true);
    assert.equal(r.content[0].type, 'text');
  });

  test('terminateSession (DELETE), then the old session id gets 404', async () => {
    const { client, transport } = await connect();
    const sid = transport.sessionId;
    await client.ping();
    await transport.terminateSession();
    const res = await post(gw, rpc('ping'), { session: sid, version: '2025-11-25' });
    assert.equal(res.status, 404, res.body);
    assert.equal(res.json?.jsonrpc, '2.0');
    assert.equal(typeof res.json?.error?.code, 'number');
  });

  for (const version of ['2025-06-18', '2025-03-26']) {
    test(`a client asking for ${version} gets ${version} and can work with it`, async () => {
      const { client, transport } = await connect({ version });
      assert.equal(transport.protocolVersion, version);
      const page = await client.listTools();
      assert.equal(page.tools.length, 3);
      const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
      assert.equal(r.content[0].text, 'This is a simple text response for testing.');
    });
  }
});
