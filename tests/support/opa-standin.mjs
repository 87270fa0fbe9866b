// tests/support/opa-standin.mjs
// A stand-in for an OPA server (OPA cannot be installed here): it speaks OPA's REST Data API as
// OPA does, and decides with a scripted policy equivalent to docs/opa/mcp.rego (itself
// equivalent to the policies of deploy/embedded/governance.yaml), implemented in JavaScript.
//
// What it serves, as OPA does:
//   POST /v1/data/<path>  {"input": ...}  -> 200 {"result": <document>}, or 200 {} when the
//        document is undefined (an unknown path, or no rule produced a value): OPA does not
//        answer 404 for data. A body that is not JSON -> 400 {"code":"invalid_parameter",...}.
//        No "input" member: evaluated without input (plus OPA's api_usage_warning).
//   GET  /v1/data/<path>  -> the same without input.
//   GET  /health          -> 200 {}.
//   query parameters (?pretty, ?explain, ?metrics, ?provenance ...) are accepted and ignored.
//   with `token` set: requests without "Authorization: Bearer <token>" get 401
//        {"code":"unauthorized",...} (OPA's --authentication=token).
//   every answer carries a decision_id (as with decision logging on).
// The document tree: data.msil.mcp.decision ({allow, reason, rule, hint, confirm}) and
// data.msil.mcp.allow (the boolean form); data.msil.mcp is the package (both, evaluated).
//
// Faults for tests (`standin.fault = {...}` in process, or POST /_standin/fault with the same
// JSON from another process; null clears): {mode, delayMs, tool}
//   mode "slow"       answer after delayMs (default 2000)
//   mode "garbage"    200 with a body that is not JSON
//   mode "status500"  500 {"code":"internal_error","message":"..."} (as OPA's conflicts)
//   mode "undefined"  200 {} (no result)
//   mode "wrong-type" 200 {"result": "allow"}
//   mode "huge"       200 with a result padded to 200 KiB
//   mode "deny"       a scripted refusal: {"result": false} at a path ending in "allow", else
//                     {"result": {"allow": false, "rule": "standin-deny", "reason", "hint"}}
//   tool              apply the fault only to inputs for that tool name
// "Down" is real: stop() closes the listener and every connection (connection refused), and
// start() listens again on the same port.
// Every data request is recorded in `standin.requests` ({method, path, input, headers, at}).
//
// From the command line: node tests/support/opa-standin.mjs [--port N] [--port-file F]
//   [--token T]  (listens on 127.0.0.1 only; prints the port).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---- the scripted policy (docs/opa/mcp.rego in JavaScript) ----

const DEALER_TOOLS = new Set(['get_dealer', 'get_available_slots', 'create_booking']);
const CONFIRMED_TOOLS = new Set(['create_booking', 'cancel_booking']);
const HORIZON_SECONDS = 60 * 24 * 3600;

/** A YYYY-MM-DD date or an RFC 3339 date-time -> Unix seconds; null when it is neither. */
export function unixSeconds(v) {
  if (typeof v !== 'string') return null;
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) {
    const t = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    const d = new Date(t);
    return d.getUTCDate() === +m[3] && d.getUTCMonth() === +m[2] - 1 ? t / 1000 : null;
  }
  m = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(v);
  if (!m) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

function fmt(v) { // Rego's sprintf("%v") of a JSON value
  return typeof v === 'string' ? v : v === undefined ? 'null' : JSON.stringify(v);
}

/** The denials of an input, in the order the rules are listed. */
function denials(input) {
  const roles = new Set(input?.principal?.roles ?? []);
  const tool = input?.tool?.name;
  const args = input?.arguments ?? {};
  const out = [];
  if (roles.has('dealer') && DEALER_TOOLS.has(tool)) {
    const ids = input?.principal?.claims?.dealer_ids;
    if (!(Array.isArray(ids) && ids.includes(args.dealer_id)))
      out.push({ rule: 'dealer-own-dealers',
        reason: `dealer agents act only for their own dealers, and ${fmt(args.dealer_id)} is not one of yours`,
        hint: 'use one of the dealer ids in your identity (claim dealer_ids)' });
  }
  if ((roles.has('customer-care') || roles.has('dealer')) && tool === 'create_booking') {
    const when = unixSeconds(args.date);
    const hint = 'offer the customer a date within the next 60 days';
    if (when === null)
      out.push({ rule: 'booking-horizon', hint,
        reason: `bookings can be made at most 60 days ahead (the date ${fmt(args.date)} cannot be read)` });
    else if (typeof input?.context?.now === 'number' && when - input.context.now > HORIZON_SECONDS)
      out.push({ rule: 'booking-horizon', hint,
        reason: `bookings can be made at most 60 days ahead (${fmt(args.date)} is later)` });
  }
  return out;
}

/** data.msil.mcp.decision (defined with or without input, like the Rego rule with its default). */
export function decision(input) {
  const d = denials(input);
  if (d.length) return { allow: false, ...d[0] };
  if (CONFIRMED_TOOLS.has(input?.tool?.name))
    return { allow: true, confirm: true, rule: 'confirm-bookings',
      reason: "a booking changes the customer's appointments" };
  return { allow: true };
}

const PKG = Symbol('package');
const pkg = (members) => ({ [PKG]: true, ...members });

/** data: packages hold rules (functions of the input) and sub-packages. */
const TREE = pkg({
  msil: pkg({
    mcp: pkg({
      decision,
      allow: (input) => decision(input)?.allow,
    }),
  }),
});

/** The document at `segments`: rules are evaluated, then indexed into like any JSON value;
 * a package is the object of its defined members; undefined stays undefined. */
function evaluate(node, segments, input) {
  for (const s of segments) {
    if (typeof node === 'function') node = node(input);
    if (node === null || typeof node !== 'object') return undefined;
    node = Object.prototype.hasOwnProperty.call(node, s) ? node[s] : undefined;
  }
  if (typeof node === 'function') return node(input);
  if (node && node[PKG]) {
    const out = {};
    for (const k of Object.keys(node)) {
      const v = evaluate(node, [k], input);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return node;
}

// ---- the server ----

function send(res, status, obj, raw) {
  const body = raw ?? JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Starts a stand-in on 127.0.0.1 (port 0 = any free port). opts: {port, token}.
 * Returns {url, port, requests, fault, stop(), start(), close()}.
 */
export async function startOpaStandin(opts = {}) {
  const st = { requests: [], fault: null, port: 0, url: '' };
  const sockets = new Set();
  const tree = TREE;
  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= 8 << 20) chunks.push(c); });
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 30000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function handle(req, res, text) {
    const url = new URL(req.url, 'http://opa');
    if (url.pathname === '/_standin/fault' && req.method === 'POST') {
      st.fault = text ? JSON.parse(text) : null;
      return send(res, 200, { fault: st.fault });
    }
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`)
      return send(res, 401, { code: 'unauthorized', message: 'request rejected by administrative policy' });
    if (url.pathname === '/health') return send(res, 200, {});
    const m = /^\/v1\/data(?:\/(.*))?$/.exec(url.pathname);
    if (!m) return send(res, 404, { code: 'not_found', message: 'not found' });
    if (req.method !== 'POST' && req.method !== 'GET')
      return send(res, 405, { code: 'method_not_allowed', message: 'method not allowed' });
    let input;
    let warning;
    if (req.method === 'POST' && text.trim()) {
      let body;
      try {
        body = JSON.parse(text);
      } catch (e) {
        return send(res, 400, { code: 'invalid_parameter', message: `body contains malformed input document: ${e.message}` });
      }
      if (body && typeof body === 'object' && 'input' in body) input = body.input;
      else warning = { code: 'api_usage_warning', message: "'input' key missing from the request" };
    }
    const path = (m[1] ?? '').split('/').filter(Boolean);
    st.requests.push({ method: req.method, path: path.join('/'), input, headers: req.headers, at: Date.now() });
    const f = st.fault && (!st.fault.tool || st.fault.tool === input?.tool?.name) ? st.fault : null;
    if (f?.mode === 'slow') await new Promise((r) => setTimeout(r, f.delayMs ?? 2000));
    if (res.destroyed) return;
    const decisionId = randomUUID();
    switch (f?.mode) {
    case 'garbage': return send(res, 200, null, '<html>502 Bad Gateway</html>');
    case 'status500': return send(res, 500, { code: 'internal_error', message: 'eval_conflict_error: complete rules must not produce multiple outputs' });
    case 'undefined': return send(res, 200, { decision_id: decisionId });
    case 'wrong-type': return send(res, 200, { decision_id: decisionId, result: 'allow' });
    case 'deny':
      return send(res, 200, { decision_id: decisionId, result: path[path.length - 1] === 'allow' ? false
        : { allow: false, rule: 'standin-deny', reason: 'refused by the stand-in', hint: 'ask the stand-in' } });
    case 'huge': return send(res, 200, { decision_id: decisionId, result: { allow: true, reason: 'x'.repeat(200 * 1024) } });
    default: break;
    }
    const result = evaluate(tree, path, input);
    const out = { decision_id: decisionId };
    if (result !== undefined) out.result = result;
    if (warning) out.warning = warning;
    send(res, 200, out);
  }

  st.start = () => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(st.port || opts.port || 0, '127.0.0.1', () => {
      server.off('error', reject);
      st.port = server.address().port;
      st.url = `http://127.0.0.1:${st.port}`;
      resolve(st);
    });
  });
  /** Goes down: no listener, every connection closed (clients get "connection refused"). */
  st.stop = () => new Promise((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  st.close = st.stop;
  st.dataRequests = (path) => st.requests.filter((r) => path === undefined || r.path === path);
  await st.start();
  return st;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const st = await startOpaStandin({ port: Number(arg('--port') ?? 0), token: arg('--token') });
  if (arg('--port-file')) writeFileSync(arg('--port-file'), `${st.port}\n`);
  console.log(`opa stand-in listening on ${st.url}`);
  process.on('SIGTERM', () => st.stop().then(() => process.exit(0)));
}
