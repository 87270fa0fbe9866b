// tests/support/llm-standin.mjs
// A local stand-in for the paid LLM providers, for tests and the embedded demo. It speaks both
// wire formats the gateway's chat agent uses, as the providers document them:
//   POST /v1/chat/completions  OpenAI Chat Completions with "stream": true: chat.completion.chunk
//        objects as `data:` lines, text in delta.content, tool calls as delta.tool_calls pieces
//        keyed by index (id/name first, arguments in several pieces), finish_reason "stop" |
//        "tool_calls", then `data: [DONE]`; errors as {"error":{"message","type","code"}}.
//   POST /v1/messages          Anthropic Messages streaming: event/data pairs message_start,
//        content_block_start (text | tool_use), content_block_delta (text_delta |
//        input_json_delta), content_block_stop, message_delta (stop_reason end_turn | tool_use),
//        message_stop, with ping events between; errors as {"type":"error","error":{...}}.
// Both check what a provider checks (the key, anthropic-version, model, max_tokens, message
// shape, tool results answering the previous tool calls) and refuse a bad request with 400/401
// and the provider's error body, so a wire-format mistake of the gateway fails the tests.
// What it answers follows a script keyed on the conversation, like a model would reason from it:
//   - the booking sentence ("book ... service ... <REGNO> ... tomorrow ... near <place>"):
//     resolve_vehicle + find_nearby_dealers (in parallel) -> get_available_slots at the nearest
//     dealer for tomorrow (today read from the system prompt; a closed day moves to
//     next_open_date) -> create_booking at 10:00 (or the first free slot) for the owner ->
//     a summary with the booking id; a declined or refused booking is explained; without a
//     create_booking tool among those offered, it says it cannot book with this access;
//   - failure triggers in the last user message: "trigger:rate-limit" (429 + Retry-After: 1
//     once, then answers), "trigger:rate-limit-hard" (429 + Retry-After: 120), "trigger:500",
//     "trigger:malformed" (a data line that is not JSON), "trigger:cut" (the stream ends
//     without its end marker), "trigger:error-event" (the provider's in-stream error),
//     "trigger:slow" (one piece of text, then silence);
//   - anything else: a short streamed answer saying what it can do.
// Use: import { startStandin } and `await startStandin({ key })` -> { url, port, requests,
// close() }; or run `node llm-standin.mjs [--port N] [--port-file F] [--key K]` (the embedded
// demo of scripts/run.sh). Only ever listens on 127.0.0.1.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const PIECE_DELAY_MS = Number(process.env.STANDIN_DELAY_MS ?? 12);
const MAX_BODY = 4 << 20;

const rid = (p) => p + randomBytes(8).toString('hex');

function jsonError(res, status, provider, message, type = 'invalid_request_error', headers = {}) {
  const body = provider === 'anthropic'
    ? { type: 'error', error: { type, message } }
    : { error: { message, type, param: null, code: null } };
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------- conversation, neutral

/** Reads a request of either provider into {system, turns:[{role, text, calls, results}], tools}. */
function readConversation(provider, body) {
  const conv = { system: '', messages: [], tools: [] };
  if (provider === 'anthropic') {
    conv.system = typeof body.system === 'string' ? body.system
      : Array.isArray(body.system) ? body.system.map((b) => b.text || '').join('\n') : '';
    for (const m of body.messages) {
      const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
      const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('\n');
      if (m.role === 'user') {
        for (const b of blocks.filter((x) => x.type === 'tool_result')) {
          const c = typeof b.content === 'string' ? b.content
            : (b.content || []).filter((x) => x.type === 'text').map((x) => x.text).join('\n');
          conv.messages.push({ role: 'tool', id: b.tool_use_id, content: c, isError: !!b.is_error });
        }
        // consecutive user messages arrive merged into one (alternating roles): each text
        // block is one of them
        for (const b of blocks.filter((x) => x.type === 'text')) conv.messages.push({ role: 'user', content: b.text });
      } else {
        const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, args: b.input }));
        conv.messages.push({ role: 'assistant', content: text, calls });
      }
    }
    conv.tools = (body.tools || []).map((t) => t.name);
  } else {
    for (const m of body.messages) {
      if (m.role === 'system') conv.system += (conv.system ? '\n' : '') + m.content;
      else if (m.role === 'user') conv.messages.push({ role: 'user', content: m.content });
      else if (m.role === 'tool') conv.messages.push({ role: 'tool', id: m.tool_call_id, content: m.content });
      else if (m.role === 'assistant') conv.messages.push({
        role: 'assistant', content: m.content || '',
        calls: (m.tool_calls || []).map((c) => ({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments || '{}') })),
      });
    }
    conv.tools = (body.tools || []).map((t) => t.function.name);
  }
  // tool results by tool name (the latest of each), from the calls they answer
  const nameOf = new Map();
  for (const m of conv.messages) for (const c of m.calls || []) nameOf.set(c.id, c);
  conv.results = {};
  conv.resultList = [];
  for (const m of conv.messages) {
    if (m.role !== 'tool') continue;
    const call = nameOf.get(m.id);
    let json = null;
    try { json = JSON.parse(m.content); } catch { json = null; }
    const r = { name: call?.name, args: call?.args, text: m.content, json, isError: !!m.isError };
    conv.results[call?.name] = r;
    conv.resultList.push(r);
  }
  conv.users = conv.messages.filter((m) => m.role === 'user').map((m) => m.content);
  return conv;
}

/** What a provider checks before answering; returns an error message or null. */
function validate(provider, body, headers, key) {
  if (provider === 'anthropic') {
    if (key && headers['x-api-key'] !== key) return [401, 'invalid x-api-key', 'authentication_error'];
    if (!headers['anthropic-version']) return [400, 'anthropic-version: header is required'];
    if (typeof body.max_tokens !== 'number') return [400, 'max_tokens: Field required'];
  } else if (key && headers.authorization !== `Bearer ${key}`) {
    return [401, 'Incorrect API key provided', 'invalid_api_key'];
  }
  if (!body.model) return [400, 'model: Field required'];
  if (body.stream !== true) return [400, 'this stand-in only serves streaming requests'];
  if (!Array.isArray(body.messages) || body.messages.length === 0) return [400, 'messages: at least one message is required'];
  if (provider === 'anthropic') {
    let prev = null;
    let open = new Set();
    for (const [i, m] of body.messages.entries()) {
      if (m.role !== 'user' && m.role !== 'assistant') return [400, `messages.${i}.role: Input should be 'user' or 'assistant'`];
      if (m.role === prev) return [400, `messages: roles must alternate between "user" and "assistant", but found multiple "${m.role}" roles in a row`];
      if (i === 0 && m.role !== 'user') return [400, 'messages: first message must use the "user" role'];
      const blocks = typeof m.content === 'string' ? [] : m.content;
      if (m.role === 'user') {
        for (const b of blocks.filter((x) => x.type === 'tool_result'))
          if (!open.has(b.tool_use_id)) return [400, `messages.${i}: unexpected tool_use_id found in tool_result blocks: ${b.tool_use_id}`];
        const answered = new Set(blocks.filter((x) => x.type === 'tool_result').map((x) => x.tool_use_id));
        for (const id of open) if (!answered.has(id)) return [400, `messages.${i}: tool_use ids were found without tool_result blocks immediately after: ${id}`];
        open = new Set();
      } else {
        open = new Set(blocks.filter((x) => x.type === 'tool_use').map((x) => x.id));
      }
      prev = m.role;
    }
    for (const t of body.tools || []) if (!t.name || !t.input_schema) return [400, 'tools: each tool needs name and input_schema'];
  } else {
    let open = new Set();
    for (const [i, m] of body.messages.entries()) {
      if (m.role === 'tool') {
        if (!open.has(m.tool_call_id)) return [400, `messages.[${i}].tool_call_id: no matching tool call`];
        open.delete(m.tool_call_id);
        continue;
      }
      if (open.size) return [400, "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'."];
      if (m.role === 'assistant') open = new Set((m.tool_calls || []).map((c) => c.id));
    }
    for (const t of body.tools || []) if (t.type !== 'function' || !t.function?.name) return [400, 'tools: each tool needs type function and a name'];
  }
  return null;
}

// ---------------------------------------------------------------- the script

function tomorrowFrom(system) {
  const m = /Today is (\d{4}-\d{2}-\d{2})/.exec(system || '');
  const d = m ? new Date(m[1] + 'T00:00:00Z') : new Date();
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The gateway's refusal as the chat gives it to the model: "The gateway refused this call
 * (gateway error N): <message>. Reason: <reason>. Hint: <hint>" -> words for the person. */
function explainRefusal(r) {
  const reason = /Reason: (.*?)(?:\. Hint: |$)/s.exec(r.text)?.[1];
  const hint = /Hint: (.*)$/s.exec(r.text)?.[1];
  const msg = r.text.replace(/^The gateway refused this call \(gateway error -?\d+\): /, '').replace(/\. (Reason|Hint): .*$/s, '');
  return `${reason || msg}${hint ? `. You could ${hint}` : ''}`;
}

const refused = (r) => /^The gateway refused this call/.test(r.text);

/** The next answer for a conversation: {text, calls:[{name, args}]} */
export function decide(conv) {
  const last = conv.users[conv.users.length - 1] || '';
  const first = conv.users[0] || '';
  const trigger = /trigger:([a-z0-9-]+)/.exec(last)?.[1];
  if (trigger && !conv.resultList.length) return { trigger };
  const booking = /book/i.test(first) && /service/i.test(first);
  const said = conv.users.join('\n');
  const reg = /\b([A-Z]{2}\s?\d{1,2}\s?[A-Z]{1,3}\s?\d{3,4})\b/i.exec(said)?.[1]?.replace(/\s/g, '').toUpperCase();
  if (!booking) {
    return { text: 'I am the test stand-in for a language model. I can book a car service for you: try "Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune".' };
  }
  // a follow-up question when the person has not said which car
  if (!reg) return { text: 'Which car should I book the service for? Please tell me its registration number (like MH12AB1234).' };
  // a refusal of the gateway in the last step is explained, never worked around
  const lastCalls = [...conv.messages].reverse().find((m) => m.role === 'assistant')?.calls || [];
  const lastRefused = conv.resultList.find((r) => refused(r) && lastCalls.some((c) => c.name === r.name && JSON.stringify(c.args) === JSON.stringify(r.args)));
  if (lastRefused && lastRefused.name !== 'create_booking') return { text: `I cannot do that for you: ${explainRefusal(lastRefused)}.` };
  const named = /\b(MSIL-[A-Z]+-\d{3})\b/.exec(said)?.[1];
  const place = /near ([^.!?\n]+)/i.exec(said)?.[1]?.trim() || 'Pune';
  const wantTime = (() => {
    const m = /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b/i.exec(said);
    if (!m) return '10:00';
    let h = Number(m[1]) % 12;
    if (/pm/i.test(m[3])) h += 12;
    return `${String(h).padStart(2, '0')}:${m[2] || '00'}`;
  })();
  const R = conv.results;
  const has = (n) => conv.tools.includes(n);
  if (!R.resolve_vehicle && !R.find_nearby_dealers) {
    const calls = [];
    if (has('resolve_vehicle')) calls.push({ name: 'resolve_vehicle', args: { registration_number: reg } });
    if (has('find_nearby_dealers') && !named) calls.push({ name: 'find_nearby_dealers', args: { location: place } });
    if (!calls.length) return { text: 'I cannot look up vehicles or dealers with your access, so I cannot book a service for you.' };
    return { text: calls.length > 1 ? 'Let me look up your vehicle and the workshops near you.' : 'Let me look up your vehicle.', calls };
  }
  const veh = R.resolve_vehicle?.json;
  const dealers = named ? [{ dealer_id: named, name: named }] : R.find_nearby_dealers?.json?.dealers || [];
  if (!veh || !dealers.length) {
    const bad = (!veh ? R.resolve_vehicle : R.find_nearby_dealers);
    return { text: `I could not continue: ${bad?.text?.slice(0, 300) || 'a lookup failed'}.` };
  }
  const dealer = dealers[0];
  const slotsR = R.get_available_slots;
  const closedNext = slotsR?.json?.error?.details?.next_open_date || slotsR?.json?.next_open_date
    || /"next_open_date"\s*:\s*"(\d{4}-\d{2}-\d{2})"/.exec(slotsR?.text || '')?.[1];
  if (!slotsR || (closedNext && slotsR.args?.date !== closedNext && !slotsR.json?.slots)) {
    if (!has('get_available_slots')) return { text: 'I cannot check appointment slots with your access.' };
    const date = slotsR ? closedNext : tomorrowFrom(conv.system);
    return {
      text: slotsR ? `${dealer.name || dealer.dealer_id} is closed that day; checking ${date} instead.` : `Checking the slots of ${dealer.name || dealer.dealer_id}.`,
      calls: [{ name: 'get_available_slots', args: { dealer_id: dealer.dealer_id, date } }],
    };
  }
  const slots = slotsR.json?.slots || [];
  const date = slotsR.args?.date;
  const free = slots.filter((s) => s.available && (s.available_capacity ?? 1) > 0);
  const slot = free.find((s) => s.time === wantTime) || free[0];
  if (!slot) return { text: `There is no free slot at ${dealer.name || dealer.dealer_id} on ${date}. Shall I look at another day?` };
  const bookR = R.create_booking;
  if (!bookR) {
    if (!has('create_booking')) {
      return { text: `Your ${veh.model || 'car'} (${reg}) can be serviced at ${dealer.name || dealer.dealer_id} on ${date} at ${slot.time}, but I cannot make bookings with your access: the booking tool is not available to you. Please ask a customer-care agent to book it.` };
    }
    const args = { registration_number: reg, dealer_id: dealer.dealer_id, date, time: slot.time, service_type: 'regular' };
    if (veh.owner?.customer_id) args.customer_id = veh.owner.customer_id;
    return { text: `I will book ${slot.time} on ${date} at ${dealer.name || dealer.dealer_id} for your ${veh.model || 'car'}.`, calls: [{ name: 'create_booking', args }] };
  }
  if (bookR.json?.booking_id) {
    const b = bookR.json;
    return { text: `Done: your service is booked. Booking ${b.booking_id} at ${dealer.name || dealer.dealer_id} on ${date} at ${slot.time} (status ${b.status}).` };
  }
  if (/declined/i.test(bookR.text)) return { text: 'Understood: I did not book anything. Tell me if you want another time or workshop.' };
  return { text: `I could not book it: ${explainRefusal(bookR)}` };
}

// ---------------------------------------------------------------- streaming

function pieces(text, n = 3) {
  const words = text.split(/(?<= )/);
  const out = [];
  for (let i = 0; i < words.length; i += n) out.push(words.slice(i, i + n).join(''));
  return out;
}

function argPieces(args) {
  const s = JSON.stringify(args);
  const out = [];
  for (let i = 0; i < s.length; i += 11) out.push(s.slice(i, i + 11));
  return out.length ? out : [''];
}

async function streamOpenAI(res, model, answer, opts = {}) {
  const id = rid('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_standin', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': rid('req_') });
  res.write(chunk({ role: 'assistant', content: '' }));
  for (const p of pieces(answer.text || '')) {
    res.write(chunk({ content: p }));
    await sleep(PIECE_DELAY_MS);
    if (opts.stallAfterFirst) return; // trigger:slow: never finishes
  }
  (answer.calls || []).forEach((c, i) => { c.id = rid('call_'); c.index = i; });
  for (const c of answer.calls || []) {
    res.write(chunk({ tool_calls: [{ index: c.index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const a of argPieces(c.args)) {
      res.write(chunk({ tool_calls: [{ index: c.index, function: { arguments: a } }] }));
      await sleep(PIECE_DELAY_MS / 2);
    }
  }
  if (opts.cut) { res.end(); return; }
  res.write(chunk({}, answer.calls?.length ? 'tool_calls' : 'stop'));
  res.write('data: [DONE]\n\n');
  res.end();
}

async function streamAnthropic(res, model, answer, opts = {}) {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': rid('req_') });
  res.write(ev('message_start', { message: { id: rid('msg_'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 100, output_tokens: 1 } } }));
  let index = 0;
  if (answer.text) {
    res.write(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    res.write(ev('ping', {}));
    for (const p of pieces(answer.text)) {
      res.write(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
      await sleep(PIECE_DELAY_MS);
      if (opts.stallAfterFirst) return;
    }
    res.write(ev('content_block_stop', { index }));
    index++;
  }
  for (const c of answer.calls || []) {
    c.id = rid('toolu_');
    res.write(ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }));
    for (const a of argPieces(c.args)) {
      res.write(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: a } }));
      await sleep(PIECE_DELAY_MS / 2);
    }
    res.write(ev('content_block_stop', { index }));
    index++;
  }
  if (opts.cut) { res.end(); return; }
  res.write(ev('message_delta', { delta: { stop_reason: answer.calls?.length ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 42 } }));
  res.write(ev('message_stop', {}));
  res.end();
}

// ---------------------------------------------------------------- the server

export async function startStandin({ port = 0, key = 'standin-key', log = false } = {}) {
  const requests = [];
  const rateLimited = new Set(); // conversations already given their one 429
  const open = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= MAX_BODY) chunks.push(c); });
    req.on('end', () => handle(req, res, size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')).catch((e) => {
      if (!res.headersSent) jsonError(res, 500, 'openai', String(e?.message || e), 'server_error');
      else res.end();
    }));
  });
  server.on('connection', (s) => { open.add(s); s.on('close', () => open.delete(s)); });

  async function handle(req, res, text) {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/_standin/requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(requests));
      return;
    }
    const provider = url.pathname === '/v1/messages' ? 'anthropic' : url.pathname === '/v1/chat/completions' ? 'openai' : null;
    if (req.method !== 'POST' || !provider) { jsonError(res, 404, 'openai', `no route ${req.method} ${url.pathname}`, 'not_found_error'); return; }
    if (text === null) { jsonError(res, 413, provider, 'request too large', 'request_too_large'); return; }
    let body;
    try { body = JSON.parse(text); } catch { jsonError(res, 400, provider, 'the body is not JSON'); return; }
    const bad = validate(provider, body, req.headers, key);
    const entry = { provider, headers: { authorization: req.headers.authorization ? 'present' : 'absent', 'x-api-key': req.headers['x-api-key'] ? 'present' : 'absent' }, body, status: bad ? bad[0] : 200 };
    requests.push(entry);
    if (requests.length > 500) requests.splice(0, requests.length - 500); // bounded (demo mode runs long)
    if (log) console.error(`[standin] ${provider} ${bad ? bad[0] + ' ' + bad[1] : 'ok'}`);
    if (bad) { jsonError(res, bad[0], provider, bad[1], bad[2]); return; }
    const conv = readConversation(provider, body);
    const answer = decide(conv);
    entry.answer = answer;
    const stream = provider === 'anthropic' ? streamAnthropic : streamOpenAI;
    switch (answer.trigger) {
      case 'rate-limit': {
        const k = provider + '\n' + conv.users.join('\n');
        if (!rateLimited.has(k)) {
          rateLimited.add(k);
          jsonError(res, 429, provider, 'Rate limit reached for requests', provider === 'anthropic' ? 'rate_limit_error' : 'requests', { 'retry-after': '1' });
          return;
        }
        await stream(res, body.model, { text: 'Answered after the rate limit passed.' });
        return;
      }
      case 'rate-limit-hard':
        jsonError(res, 429, provider, 'Rate limit reached for requests', provider === 'anthropic' ? 'rate_limit_error' : 'requests', { 'retry-after': '120' });
        return;
      case '500':
        jsonError(res, 500, provider, 'The server had an error while processing your request', provider === 'anthropic' ? 'api_error' : 'server_error');
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(provider === 'anthropic' ? 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel\n\n' : 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hel\n\n');
        res.write('data: this is not json\n\n');
        res.end();
        return;
      case 'cut':
        await stream(res, body.model, { text: 'This answer never ends properly' }, { cut: true });
        return;
      case 'error-event':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (provider === 'anthropic') {
          res.write('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant","content":[],"model":"m"}}\n\n');
          res.write('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
        } else {
          res.write('data: {"error":{"message":"The model is overloaded","type":"server_error","code":null}}\n\n');
        }
        res.end();
        return;
      case 'slow':
        await stream(res, body.model, { text: 'Thinking very slowly about this' }, { stallAfterFirst: true });
        return; // the connection stays open with nothing more until the client gives up
      default:
        await stream(res, body.model, answer);
    }
  }

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const p = server.address().port;
  return {
    port: p,
    url: `http://127.0.0.1:${p}/v1`,
    requests,
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---------------------------------------------------------------- command line

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (n) => { const i = process.argv.indexOf(n); return i > 0 ? process.argv[i + 1] : undefined; };
  const s = await startStandin({ port: Number(arg('--port') || 0), key: arg('--key') ?? 'standin-key', log: !!process.env.STANDIN_LOG });
  if (arg('--port-file')) writeFileSync(arg('--port-file'), `${s.port}\n`);
  console.error(`LLM stand-in (OpenAI + Anthropic wire formats) at ${s.url}`);
  const stop = () => s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
