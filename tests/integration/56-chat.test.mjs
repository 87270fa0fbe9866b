// tests/integration/56-chat.test.mjs
// The chat agent's API end to end (/chat/api/ on the data-plane listener), without a browser:
// the real gateway with the embedded governance rules and authentication required, the mock
// APIM, and the LLM stand-in (tests/support/llm-standin.mjs) speaking the OpenAI and the
// Anthropic wire formats. For each provider:
//   - the booking sentence streams tool calls (resolve_vehicle and find_nearby_dealers in one
//     step, slots, create_booking), the booking waits for the user's confirmation, the
//     accepted confirmation books exactly once (in the mock's database) and the summary names
//     the booking id; the conversation is stored, listed and resumed with its tool calls;
//   - a declined confirmation books nothing and the gateway's decision is recorded;
//   - the analyst (read-only) gets the agent's explanation and no booking;
//   - provider failures give a clear error event and a closed stream (never a stuck turn): the
//     provider down, 429 retried after Retry-After, 429 too long to wait, 500, a malformed
//     stream, a stream cut short, the provider's in-stream error, a stalled stream;
// plus: conversations are private to their owner, the provider key never reaches the browser,
// the agent's tool list is the user's exposed tools, bad requests are refused clearly, and a
// conversation not written to for GW_CHAT_RETENTION_DAYS (90) is deleted at start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, readdirSync, existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import * as h from './lib/e2e-harness.mjs';
import { startStandin } from '../support/llm-standin.mjs';

const RULES = join(h.REPO, 'deploy', 'embedded', 'governance.yaml');
const SENTENCE = 'Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune';
const LLM_KEY = 'sk-standin-' + Math.random().toString(36).slice(2);
let dir, secrets, mock, llm, env;
const gws = {}; // provider -> {url}
const key = {};

function makeKey(name, roles, claims) {
  const args = ['keys', 'create', '--name', name, '--subject', `${name}@msil.example`, '--json'];
  for (const r of roles) args.push('--role', r);
  if (claims) args.push('--claims', JSON.stringify(claims));
  const r = h.mcpgw(env, args);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).key;
}

async function api(base, credential, method, path, body) {
  const headers = { accept: 'application/json' };
  if (credential) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}/chat/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, json, text, headers: r.headers };
}

/** POSTs and reads the whole SSE answer: [{event, data}], with a bound on time. */
async function turn(base, credential, path, body, timeoutMs = 30000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const r = await fetch(`${base}/chat/api${path}`, {
      method: 'POST', signal: ctl.signal,
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status !== 200) return { status: r.status, text, events: [] };
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    const events = [];
    for (const block of text.split('\n\n')) {
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (ev) events.push({ event: ev, data: JSON.parse(data) });
    }
    return { status: 200, events, text };
  } finally {
    clearTimeout(timer);
  }
}

const named = (events, name) => events.filter((e) => e.event === name).map((e) => e.data);

async function startGw(provider, baseUrl, extra = {}) {
  const gdir = join(dir, provider + Object.keys(extra).length);
  const keyFile = join(dir, 'llm-key');
  writeFileSync(keyFile, LLM_KEY + '\n');
  const genv = { ...env, GW_DATA_DIR: env.GW_DATA_DIR, GW_CHAT_PROVIDER: provider, GW_CHAT_MODEL: `${provider}-standin-model`,
    GW_CHAT_BASE_URL: baseUrl, GW_CHAT_API_KEY_FILE: keyFile, GW_CHAT_LLM_STALL_SECONDS: '2', GW_CHAT_RETRY_MAX_WAIT_SECONDS: '5', ...extra };
  const gw = await h.startGateway(genv, dir, [], { name: `gw-${provider}-${Object.keys(extra).length}` });
  void gdir;
  return gw;
}

before(async () => {
  dir = h.tempDir('chat');
  secrets = h.freshSecrets();
  mock = await h.startMock({ dir, secrets });
  llm = await startStandin({ key: LLM_KEY });
  const upstreams = h.writeUpstreams(dir, { 'service-booking': h.serviceBookingUpstream(mock.url) });
  env = h.gatewayEnv({ dir, upstreamsFile: upstreams, secrets, settings: {
    GW_AUTH_MODE: 'required', GW_GOVERNANCE_FILE: RULES, GW_LOG_LEVEL: 'info' } });
  h.importSpec(env, h.SERVICE_BOOKING_SPEC, { specId: 'service-booking', bundle: 'service-booking', upstream: 'service-booking' });
  key.cc = makeKey('cc', ['customer-care']);
  key.cc2 = makeKey('cc2', ['customer-care']);
  key.analyst = makeKey('analyst', ['analyst']);
  key.dealer = makeKey('dealer', ['dealer'], { dealer_ids: ['MSIL-PUNE-001'] });
  // two conversations of someone, last written 120 and 10 days ago
  const db = new DatabaseSync(join(env.GW_DATA_DIR, 'gateway.db'));
  const ago = (days) => new Date(Date.now() - days * 86400e3).toISOString();
  const ins = db.prepare(`INSERT INTO chat_conversations (owner, id, title, created_at, updated_at,
    version, messages) VALUES (?, ?, 'old', ?, ?, 1, '[]')`);
  ins.run('c'.repeat(64), 'forgotten', ago(130), ago(120));
  ins.run('c'.repeat(64), 'recent', ago(20), ago(10));
  db.close();
  gws.openai = await startGw('openai', llm.url);
  gws.anthropic = await startGw('anthropic', llm.url);
  gws.down = await startGw('openai', 'http://127.0.0.1:9/v1'); // discard port: refused
  gws.none = await startGw('none', '');
  // budgets: a 5 s turn, a model that may stall for a minute, two steps
  gws.tight = await startGw('anthropic', llm.url, { GW_CHAT_TURN_TIMEOUT_SECONDS: '5', GW_CHAT_LLM_STALL_SECONDS: '60', GW_CHAT_MAX_STEPS: '2' });
});

after(async () => {
  await h.stopAll();
  await llm?.close();
  h.cleanupDir(dir);
});

async function newConversation(base, k) {
  const c = await api(base, k, 'POST', '/conversations', {});
  assert.equal(c.status, 201, c.text);
  return c.json.id;
}

for (const provider of ['openai', 'anthropic']) {
  test(`${provider}: the booking journey, confirmed, books once and is stored`, async () => {
    const base = gws[provider].url;
    const before = mock.bookings().bookings.length;
    const id = await newConversation(base, key.cc);
    const t1 = await turn(base, key.cc, `/conversations/${id}/messages`, { content: SENTENCE });
    assert.equal(t1.status, 200, t1.text);
    const calls = named(t1.events, 'tool_call');
    assert.deepEqual(calls.map((c) => c.name), ['resolve_vehicle', 'find_nearby_dealers', 'get_available_slots', 'create_booking'], t1.text);
    // the first two came in one step (parallel), then one step each
    const steps = t1.events.filter((e) => e.event === 'step' || e.event === 'tool_call').map((e) => e.event === 'step' ? 'S' : 'T').join('');
    assert.equal(steps, 'STTSTST');
    assert.ok(named(t1.events, 'text').length > 3, 'text streamed in pieces');
    const results = named(t1.events, 'tool_result');
    assert.deepEqual(results.map((r) => r.decision), ['allowed', 'allowed', 'allowed']);
    const confirm = named(t1.events, 'confirm');
    assert.equal(confirm.length, 1);
    assert.equal(confirm[0].name, 'create_booking');
    assert.equal(confirm[0].arguments.registration_number, 'MH12AB1234');
    assert.equal(confirm[0].arguments.dealer_id, 'MSIL-PUNE-001');
    assert.match(confirm[0].message, /create_booking/);
    assert.equal(named(t1.events, 'done')[0].state, 'awaiting_confirmation');
    assert.equal(named(t1.events, 'saved').length, 1);
    assert.equal(mock.bookings().bookings.length, before, 'nothing booked before the confirmation');

    // a new message while the confirmation is pending is refused
    const busy = await turn(base, key.cc, `/conversations/${id}/messages`, { content: 'hello?' });
    assert.equal(busy.status, 409);

    // the stored conversation shows the pending call without the sealed state
    const mid = await api(base, key.cc, 'GET', `/conversations/${id}`);
    assert.equal(mid.status, 200);
    assert.equal(mid.json.pending.calls[0].state, 'waiting');
    assert.equal(mid.json.pending.calls[0].request_state, undefined);

    const t2 = await turn(base, key.cc, `/conversations/${id}/confirm`, { call_id: confirm[0].id, accept: true });
    assert.equal(t2.status, 200, t2.text);
    const r2 = named(t2.events, 'tool_result');
    assert.equal(r2.length, 1);
    assert.equal(r2[0].decision, 'confirmed', t2.text);
    const booking = JSON.parse(r2[0].content);
    assert.match(booking.booking_id, /^BK-\d{4}-\d{6}$/);
    const text = named(t2.events, 'text').map((d) => d.delta).join('');
    assert.match(text, new RegExp(booking.booking_id));
    assert.equal(named(t2.events, 'done')[0].state, 'complete');
    const rows = mock.bookings().bookings.filter((b) => b.booking_id === booking.booking_id);
    assert.equal(rows.length, 1, 'the booking is in the mock database');
    assert.equal(rows[0].registration_number, 'MH12AB1234');
    assert.equal(rows[0].dealer_id, 'MSIL-PUNE-001');
    assert.equal(rows[0].time, '10:00');
    assert.equal(mock.bookings().bookings.length, before + 1, 'exactly one booking');

    // answering again is refused (the confirmation was spent)
    const again = await turn(base, key.cc, `/conversations/${id}/confirm`, { call_id: confirm[0].id, accept: true });
    assert.equal(again.status, 409);

    // resumed: the conversation has every message and the tool decisions
    const conv = await api(base, key.cc, 'GET', `/conversations/${id}`);
    assert.equal(conv.json.pending, null);
    const tools = conv.json.messages.filter((m) => m.role === 'tool');
    assert.deepEqual(tools.map((m) => `${m.name}:${m.decision}`), ['resolve_vehicle:allowed', 'find_nearby_dealers:allowed', 'get_available_slots:allowed', 'create_booking:confirmed']);
    assert.match(conv.json.title, /^Book a service for MH12AB1234/);
    const list = await api(base, key.cc, 'GET', '/conversations');
    assert.ok(list.json.conversations.some((c) => c.id === id));

    // the audit trail has the confirmed call, made in process under the person's identity
    // (the gateways of this file share a data folder: one log per replica)
    const adir = join(env.GW_DATA_DIR, 'audit');
    const recs = [];
    let out = '';
    for (const log of readdirSync(adir).filter((n) => existsSync(join(adir, n, 'segments')))) {
      const audit = h.mcpgw(env, ['audit', 'search', '--log', log, '--tool', 'create_booking', '--limit', '1000']);
      assert.equal(audit.status, 0, audit.stderr);
      out += audit.stdout;
      recs.push(...audit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((r) => r.event || r));
    }
    const audit = { stdout: out };
    const mine = recs.filter((r) => r.transport === 'internal' && r.outcome === 'result' && r.confirmation);
    assert.ok(mine.length >= 1, `a confirmed internal create_booking in the audit trail: ${audit.stdout.slice(0, 2000)}`);
    assert.ok(mine.every((r) => (r.principal?.roles || []).includes('customer-care')), JSON.stringify(mine[0]));

    // what the provider received: the key (never shown to the browser), the user's tools only
    const reqs = llm.requests.filter((r) => r.provider === provider);
    assert.ok(reqs.length >= 4, `${reqs.length} requests`);
    assert.ok(reqs.every((r) => r.status === 200), 'the provider accepted every request');
    assert.ok(!t1.text.includes(LLM_KEY) && !t2.text.includes(LLM_KEY) && !conv.text.includes(LLM_KEY));
  });

  test(`${provider}: a declined confirmation books nothing`, async () => {
    const base = gws[provider].url;
    const before = mock.bookings().bookings.length;
    const id = await newConversation(base, key.cc);
    const t1 = await turn(base, key.cc, `/conversations/${id}/messages`, { content: SENTENCE });
    const confirm = named(t1.events, 'confirm')[0];
    assert.ok(confirm, t1.text);
    const t2 = await turn(base, key.cc, `/conversations/${id}/confirm`, { call_id: confirm.id, accept: false });
    assert.equal(t2.status, 200, t2.text);
    const r = named(t2.events, 'tool_result')[0];
    assert.equal(r.decision, 'declined');
    assert.match(named(t2.events, 'text').map((d) => d.delta).join(''), /did not book/);
    assert.equal(mock.bookings().bookings.length, before, 'no booking');
  });

  test(`${provider}: the analyst gets the agent's explanation and no booking`, async () => {
    const base = gws[provider].url;
    const before = mock.bookings().bookings.length;
    const id = await newConversation(base, key.analyst);
    const t = await turn(base, key.analyst, `/conversations/${id}/messages`, { content: SENTENCE });
    assert.equal(t.status, 200, t.text);
    assert.ok(!named(t.events, 'tool_call').some((c) => c.name === 'create_booking'));
    assert.equal(named(t.events, 'confirm').length, 0);
    assert.match(named(t.events, 'text').map((d) => d.delta).join(''), /cannot make bookings with your access/);
    assert.equal(named(t.events, 'done')[0].state, 'complete');
    assert.equal(mock.bookings().bookings.length, before);
    // the model was offered the analyst's exposed (read) tools only
    const last = llm.requests.filter((r) => r.provider === provider).at(-1).body;
    const names = (last.tools || []).map((x) => x.name || x.function?.name);
    assert.ok(names.includes('resolve_vehicle'));
    assert.ok(!names.includes('create_booking') && !names.includes('cancel_booking'), names.join(','));
  });
}

test('a refusal of the gateway is shown with its reason and explained by the agent', async () => {
  for (const provider of ['openai', 'anthropic']) {
    const base = gws[provider].url;
    const id = await newConversation(base, key.dealer);
    const t = await turn(base, key.dealer, `/conversations/${id}/messages`,
      { content: 'Book a service for MH12AB1234 tomorrow at 10 AM at dealer MSIL-MUMBAI-001' });
    const results = named(t.events, 'tool_result');
    assert.deepEqual(results.map((r) => `${r.name}:${r.decision}`), ['resolve_vehicle:allowed', 'get_available_slots:denied'], t.text);
    assert.equal(results[1].error.code, -32004);
    assert.match(results[1].error.reason, /only for their own dealers, and MSIL-MUMBAI-001 is not one of yours/);
    assert.match(results[1].error.hint, /dealer_ids/);
    const said = named(t.events, 'text').map((d) => d.delta).join('');
    assert.match(said, /I cannot do that for you: dealer agents act only for their own dealers/);
    assert.equal(named(t.events, 'done')[0].state, 'complete');
  }
});

async function failing(gw, content, k = key.cc) {
  const id = await newConversation(gw.url, k);
  const t0 = Date.now();
  const t = await turn(gw.url, k, `/conversations/${id}/messages`, { content });
  assert.equal(t.status, 200, t.text);
  const errs = named(t.events, 'error');
  const done = named(t.events, 'done');
  assert.equal(done.length, 1, `the turn ended: ${t.text}`);
  assert.ok(named(t.events, 'saved').length === 1, 'saved');
  return { t, err: errs[0], done: done[0], ms: Date.now() - t0, id };
}

test('provider failures give a clear message and end the turn', async () => {
  const down = await failing(gws.down, 'hello');
  assert.equal(down.err.kind, 'provider_down');
  assert.match(down.err.message, /cannot be reached/);
  assert.equal(down.done.state, 'failed');

  const none = await failing(gws.none, 'hello');
  assert.equal(none.err.kind, 'not_configured');
  assert.match(none.err.message, /No language model is configured/);

  for (const provider of ['openai', 'anthropic']) {
    const gw = gws[provider];
    const soft = await failing(gw, 'please answer trigger:rate-limit');
    assert.equal(soft.err, undefined, soft.t.text);
    assert.ok(named(soft.t.events, 'status').length, soft.t.text);
    assert.match(named(soft.t.events, 'status')[0].message, /busy \(HTTP 429\); trying again in 1 s/);
    assert.equal(soft.done.state, 'complete');

    const hard = await failing(gw, 'trigger:rate-limit-hard');
    assert.equal(hard.err?.kind, 'rate_limited', hard.t.text);
    assert.equal(hard.err.retry_after, 120);
    assert.match(hard.err.message, /Try again in 120 seconds/);

    const e500 = await failing(gw, 'trigger:500');
    assert.equal(e500.err.kind, 'provider_down');
    assert.match(e500.err.message, /HTTP 500/);

    const bad = await failing(gw, 'trigger:malformed');
    assert.equal(bad.err.kind, 'malformed', bad.t.text);

    const cut = await failing(gw, 'trigger:cut');
    assert.equal(cut.err.kind, 'malformed');
    assert.match(cut.err.message, /cut off or malformed/);

    const ev = await failing(gw, 'trigger:error-event');
    assert.equal(ev.err.kind, 'provider_error', ev.t.text);
    assert.match(ev.err.message, /overloaded/i);

    const slow = await failing(gw, 'trigger:slow');
    assert.equal(slow.err.kind, 'timeout', slow.t.text);
    assert.ok(slow.ms < 5000, `a stalled stream is given up after the stall limit (${slow.ms} ms)`);
    assert.ok(named(slow.t.events, 'text').length >= 1, 'the partial text was streamed');

    // the failure is stored in the conversation, and the conversation goes on afterwards
    const conv = await api(gw.url, key.cc, 'GET', `/conversations/${slow.id}`);
    assert.equal(conv.json.messages.at(-1).role, 'event');
    assert.equal(conv.json.messages.at(-1).kind, 'timeout');
    const next = await turn(gw.url, key.cc, `/conversations/${slow.id}/messages`, { content: 'hello again' });
    assert.equal(named(next.events, 'done')[0].state, 'complete', next.text);
  }
});

test('a follow-up question: the agent asks for what it needs, the next message continues the journey', async () => {
  const base = gws.openai.url;
  const id = await newConversation(base, key.cc);
  const t1 = await turn(base, key.cc, `/conversations/${id}/messages`, { content: 'Book a service tomorrow at 10 AM near Hinjewadi, Pune' });
  assert.equal(named(t1.events, 'tool_call').length, 0);
  assert.match(named(t1.events, 'text').map((d) => d.delta).join(''), /Which car/);
  assert.equal(named(t1.events, 'done')[0].state, 'complete');
  const t2 = await turn(base, key.cc, `/conversations/${id}/messages`, { content: 'It is MH12AB1234' });
  assert.deepEqual(named(t2.events, 'tool_call').map((c) => c.name), ['resolve_vehicle', 'find_nearby_dealers', 'get_available_slots', 'create_booking'], t2.text);
  assert.equal(named(t2.events, 'done')[0].state, 'awaiting_confirmation');
});

test('budgets end a turn with a clear message; the conversation stays usable', async () => {
  const base = gws.tight.url;
  // the time budget: a model that stalls is cut off by the turn's deadline
  const slow = await failing(gws.tight, 'trigger:slow');
  assert.equal(slow.err.kind, 'timeout', slow.t.text);
  assert.match(slow.err.message, /longer than the 5 s a turn may take/);
  assert.ok(slow.ms >= 4500 && slow.ms < 9000, `${slow.ms} ms`);
  // the step budget: two model answers, then the agent stops and says so
  const id = await newConversation(base, key.cc);
  const t = await turn(base, key.cc, `/conversations/${id}/messages`, { content: SENTENCE });
  assert.deepEqual(named(t.events, 'tool_call').map((c) => c.name), ['resolve_vehicle', 'find_nearby_dealers', 'get_available_slots']);
  assert.equal(named(t.events, 'error')[0]?.kind, 'budget', t.text);
  assert.match(named(t.events, 'error')[0].message, /stopped after 2 steps/);
  // the history stays valid for the provider (which checks tool results against calls)
  const more = await turn(base, key.cc, `/conversations/${id}/messages`, { content: 'go on' });
  assert.equal(named(more.events, 'tool_call')[0]?.name, 'create_booking', more.text);
});

test('conversations are private, requests are checked', async () => {
  const base = gws.openai.url;
  const id = await newConversation(base, key.cc);
  assert.equal((await api(base, key.cc2, 'GET', `/conversations/${id}`)).status, 404, 'another user sees nothing');
  assert.equal((await api(base, key.cc2, 'DELETE', `/conversations/${id}`)).status, 404);
  assert.equal((await turn(base, key.cc2, `/conversations/${id}/messages`, { content: 'hi' })).status, 404);
  assert.ok(!(await api(base, key.cc2, 'GET', '/conversations')).json.conversations.some((c) => c.id === id));
  assert.equal((await api(base, null, 'GET', '/conversations')).status, 401);
  const r401 = await api(base, 'mcpgw_bogus_key', 'GET', '/conversations');
  assert.equal(r401.status, 401);
  assert.equal((await api(base, key.cc, 'GET', '/conversations/..%2Fetc')).status, 404);
  assert.equal((await api(base, key.cc, 'PUT', '/conversations')).status, 405);
  assert.equal((await turn(base, key.cc, `/conversations/${id}/messages`, { content: '   ' })).status, 400);
  assert.equal((await turn(base, key.cc, `/conversations/${id}/messages`, { content: 'x'.repeat(9000) })).status, 400);
  assert.equal((await turn(base, key.cc, `/conversations/${id}/confirm`, { call_id: 'nope', accept: true })).status, 409);
  const form = await fetch(`${base}/chat/api/conversations`, { method: 'POST', headers: { authorization: `Bearer ${key.cc}`, 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(form.status, 415);
  const cfg = await api(base, null, 'GET', '/config');
  assert.equal(cfg.status, 200);
  assert.equal(cfg.json.provider, 'openai');
  assert.equal(cfg.json.configured, true);
  assert.ok(!cfg.text.includes(LLM_KEY));
  const me = await api(base, key.cc, 'GET', '/me');
  assert.equal(me.json.subject, 'cc@msil.example');
  assert.equal((await api(base, key.cc, 'DELETE', `/conversations/${id}`)).status, 204);
  assert.equal((await api(base, key.cc, 'GET', `/conversations/${id}`)).status, 404);
  // nothing in the gateway's log carries the provider key
  for (const gw of Object.values(gws)) assert.ok(!gw.stderr().includes(LLM_KEY), 'the provider key is never logged');
});

test('shutdown ends a running turn with a message, saves it and exits', async () => {
  const gw = await startGw('openai', llm.url, { GW_CHAT_LLM_STALL_SECONDS: '60' });
  const id = await newConversation(gw.url, key.cc);
  const running = turn(gw.url, key.cc, `/conversations/${id}/messages`, { content: 'trigger:slow' });
  await h.waitFor(() => llm.requests.some((r) => JSON.stringify(r.body).includes('trigger:slow') && r.answer?.trigger === 'slow'), 5000);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  const stopped = gw.stop();
  const t = await running;
  const err = named(t.events, 'error')[0];
  assert.equal(err?.kind, 'shutdown', t.text);
  assert.equal(named(t.events, 'saved').length, 1, 'saved before the process ended');
  const r = await stopped;
  assert.ok(Date.now() - t0 < 5000, 'no stuck turn held the shutdown');
  assert.ok(h.cleanExit(r, gw.stderr()), `exit ${JSON.stringify(r)}: ${gw.stderr().slice(-2000)}`);
  assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
  // (under LeakSanitizer: nothing of the chat leaks)
  assert.deepEqual(h.leakReports(gw.stderr()).filter((l) => /chat|mcp_internal|httpc/.test(l)), []);
});

test('a conversation not written to for GW_CHAT_RETENTION_DAYS is deleted', async () => {
  const db = new DatabaseSync(join(env.GW_DATA_DIR, 'gateway.db'));
  try {
    let ids = [];
    for (let i = 0; i < 50; i++) { // the janitors run at start: up to 5 s
      ids = db.prepare("SELECT id FROM chat_conversations WHERE owner = ?").all('c'.repeat(64)).map((r) => r.id);
      if (!ids.includes('forgotten')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(ids, ['recent']);
  } finally {
    db.close();
  }
});

test('no sanitizer report', () => {
  for (const gw of Object.values(gws)) assert.deepEqual(h.sanitizerReports(gw.stderr()), []);
});
