// tests/policy/logic-diff.mjs — differential test of the C JSON Logic evaluator
// (src/policy/policy_logic.c) against the reference implementation, json-logic-js 2.0.5
// (pinned in tests/node/package.json).
//
// Generates --count random rules and data (seeded: the same --seed gives the same cases),
// evaluates each with json-logic-js (plus the gateway's `time` operator, defined below exactly as
// the C one) and with the C evaluator (build/<preset>/test_policy_logic_diff --lines, one JSON
// line per case), and compares the results as JSON.stringify shows them. A case agrees when both
// give the same JSON, or both fail (json-logic-js throws, C reports an evaluation error).
// Disagreements in a documented category (docs/policy-logic.md: a lone UTF-16 surrogate that C
// writes as U+FFFD; a data object that json-logic-js runs as a rule) are counted apart; any other
// disagreement, or a generated rule that C refuses to compile, fails the test.
//   node tests/policy/logic-diff.mjs --bin build/ci/test_policy_logic_diff [--count N] [--seed S]
//                                    [--depth D] [--show N]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(REPO, 'tests/node/package.json'));
const jsonLogic = require('json-logic-js');

const opt = { bin: path.join(REPO, 'build/ci/test_policy_logic_diff'), count: 5000, seed: 1, show: 10, depth: 5 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, ''), v = process.argv[i + 1];
  if (!(k in opt) || v === undefined) { console.error(`usage: see the file header (bad argument ${k})`); process.exit(2); }
  opt[k] = k === 'bin' ? v : Number(v);
}

// The gateway's `time` operator, the same definition as parse_time() in policy_logic.c:
// a finite number passes through; "YYYY-MM-DD" or an RFC 3339 date-time -> Unix seconds; else null.
function gwTime(x) {
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (typeof x !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/.exec(x);
  if (!m) return null;
  const y = +m[1], mo = +m[2], d = +m[3];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const mdays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return null;
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400), yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  let t = (era * 146097 + doe - 719468) * 86400;
  if (m[4] === undefined) return t;
  const h = +m[4], mi = +m[5], s = +m[6];
  if (h > 23 || mi > 59 || s > 59) return null;
  let off = 0;
  if (m[8] !== 'Z' && m[8] !== 'z') {
    const oh = +m[8].slice(1, 3), om = +m[8].slice(4, 6);
    if (oh > 23 || om > 59) return null;
    off = (m[8][0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  t += h * 3600 + mi * 60 + s - off;
  if (m[7] !== undefined) t += parseFloat('0' + m[7]);
  return t;
}
jsonLogic.add_operation('time', gwTime);

// ---- seeded generator ----
let state = opt.seed >>> 0;
function rnd() { // mulberry32
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const chance = (p) => rnd() < p;

const STRINGS = ['', '0', '1', '2', '-1', ' 12 ', 'abc', 'a', 'b', 'B', 'a.b', '0x1A', '0b101', '1e3', '1.5',
  '.5', '5.', '-0', 'Infinity', '-Infinity', 'NaN', 'true', 'false', 'null', 'undefined', 'hello world',
  'é', '日本', '\u{1F600}x', '\t7\n', '\u00a03\u2003', '2025-01-31', '2025-01-31T09:15:00Z',
  '2024-02-29T23:59:59.25+05:30', '2023-02-29', 'D1', 'D7', 'dealer', 'admin', '[object Object]', '1,2',
  ',', 'length', 'qty', 'xs'];
const NUMBERS = [0, 1, 2, 3, 4, -1, -2, 0.5, -0.5, 1.5, 10, 100, 1e21, 1e-7, 0.1, 0.2, 3.14159, 2 ** 53,
  -(2 ** 31), 86400, 1738281600, 7, 12];
const KEYS = ['k1', 'k2', 'qty', 'sku', 'a', 'length', '0', ''];
const DATES = ['2025-01-31', '2025-01-31T09:15:00Z', '2025-01-30T12:00:00+05:30', '2025-02-01t00:00:00.5z',
  '2023-02-29', 'soon', 1738281600];

function scalar() {
  const r = rnd();
  if (r < 0.4) return pick(NUMBERS);
  if (r < 0.8) return pick(STRINGS);
  if (r < 0.9) return chance(0.5);
  return null;
}
function value(depth = 0) {
  const r = rnd();
  if (depth < 2 && r < 0.15) return Array.from({ length: int(0, 4) }, () => value(depth + 1));
  if (depth < 2 && r < 0.22) return object(depth + 1);
  return scalar();
}
function object(depth) { // never exactly one member: a one-member object is an operation
  const o = {};
  const n = pick([0, 2, 2, 3]);
  while (Object.keys(o).length < n) o[pick(KEYS)] = value(depth);
  return o;
}
function maybe(o, k, v) { if (chance(0.88)) o[k] = v; }
function data() {
  const d = {}, principal = { claims: {} }, args = {};
  maybe(principal, 'sub', pick(['u1', 'u2', '']));
  maybe(principal.claims, 'roles', Array.from({ length: int(0, 3) }, () => pick(['dealer', 'admin', 'analyst', 'customer-care'])));
  maybe(principal.claims, 'dealer_ids', Array.from({ length: int(0, 3) }, () => pick(['D1', 'D7', 'D9', 7])));
  maybe(principal.claims, 'level', pick(NUMBERS));
  d.principal = principal;
  maybe(d, 'tool', { name: pick(['create_booking', 'cancel_booking', 'get_slots']), risk: pick(['read', 'write', 'privileged']), tags: [pick(STRINGS), pick(STRINGS)] });
  maybe(args, 'dealer_id', pick(['D1', 'D7', 'D9', 7, '', null]));
  maybe(args, 'qty', scalar());
  maybe(args, 'items', Array.from({ length: int(0, 4) }, () => (chance(0.8) ? { qty: pick([1, 2, 3, '4', 0, -1]), sku: pick(STRINGS) } : value(1))));
  maybe(args, 'slot', pick(DATES));
  d.args = args;
  maybe(d, 'context', { now: pick(DATES) });
  for (const k of ['a', 'b', 'c']) maybe(d, k, value());
  maybe(d, 'xs', Array.from({ length: int(0, 5) }, () => value(1)));
  maybe(d, 'ys', Array.from({ length: int(0, 5) }, () => pick(NUMBERS)));
  maybe(d, 's', pick(STRINGS));
  maybe(d, 'n', pick(NUMBERS));
  maybe(d, 'o', object(1));
  return d;
}

const PATHS = ['a', 'b', 'c', 'xs', 'ys', 's', 'n', 'o', 'xs.0', 'xs.1', 'xs.length', 'ys.2', 's.length', 's.0',
  's.1', 'o.k1', 'o.k2.0', 'o.length', 'principal.sub', 'principal.claims.roles', 'principal.claims.dealer_ids',
  'principal.claims.level', 'tool.risk', 'tool.tags', 'tool.tags.1', 'args.dealer_id', 'args.qty', 'args.items',
  'args.items.0.qty', 'args.items.length', 'args.slot', 'context.now', 'nothing', 'a.b.c', 'xs.-1', 'xs.01',
  'args..qty', 'principal'];
const SCOPED = ['', '', 'qty', 'sku', '0', '1', 'length', 'k1', 'a'];
const REDUCE = ['current', 'accumulator', 'current.qty', 'accumulator.0', 'current.length', ''];
const ARRAYS = ['xs', 'ys', 'args.items', 'principal.claims.roles', 'principal.claims.dealer_ids', 'tool.tags', 's', 'o'];

function varRule(scope) {
  const paths = scope === 'item' ? SCOPED : scope === 'reduce' ? REDUCE : PATHS;
  const p = chance(0.1) ? pick([0, 1, 1.5, null]) : pick(paths);
  const r = rnd();
  if (r < 0.6) return { var: p };
  if (r < 0.75) return { var: [p] };
  if (r < 0.92) return { var: [p, scalar()] };
  if (r < 0.96) return { var: [] };
  return { var: { cat: [pick(['xs', 'principal', 'args']), pick(['', '.0', '.claims', '.qty'])] } };
}
function leaf(scope) {
  const r = rnd();
  if (r < 0.5) return varRule(scope);
  if (r < 0.93) return scalar();
  if (r < 0.97) return Array.from({ length: int(0, 3) }, () => leaf(scope));
  return object(2);
}
function args(n, d, scope) { return Array.from({ length: n }, () => gen(d - 1, scope)); }
// One argument in the short form {"op": x}: an array there would be the argument list itself.
function one(d, scope, x = gen(d - 1, scope)) { return Array.isArray(x) ? [x] : x; }
function arraySource(d, scope) {
  const r = rnd();
  if (r < 0.6) return { var: pick(ARRAYS) };
  if (r < 0.8) return Array.from({ length: int(0, 4) }, () => scalar());
  return gen(d - 1, scope);
}
function keys() { return Array.from({ length: int(0, 3) }, () => (chance(0.9) ? pick(PATHS) : scalar())); }

const OPS = ['var', 'missing', 'missing_some', 'if', '?:', '==', '===', '!=', '!==', '!', '!!', 'or', 'and',
  '>', '>=', '<', '<=', 'max', 'min', '+', '-', '*', '/', '%', 'map', 'filter', 'reduce', 'all', 'none',
  'some', 'merge', 'in', 'cat', 'substr', 'log', 'time'];
function gen(d, scope = 'top') {
  if (d <= 0 || chance(0.22)) return leaf(scope);
  if (chance(0.04)) return args(int(0, 3), d, scope); // an array of rules: evaluated element-wise
  const op = pick(OPS);
  switch (op) {
    case 'var': return varRule(scope);
    case 'missing': {
      const r = rnd();
      if (r < 0.4) return { missing: keys() };
      if (r < 0.6) return { missing: pick(PATHS) };
      if (r < 0.8) return { missing: [keys()] };
      return { missing: { merge: [pick(PATHS), { if: [gen(d - 1, scope), keys(), []] }] } };
    }
    case 'missing_some': return { missing_some: [chance(0.8) ? int(0, 3) : scalar(), chance(0.8) ? keys() : gen(d - 1, scope)] };
    case 'if': case '?:': return { [op]: args(int(0, 5), d, scope) };
    case '!': case '!!': return { [op]: chance(0.5) ? one(d, scope) : [gen(d - 1, scope)] };
    case 'or': case 'and': case 'max': case 'min': case 'merge': case 'cat': case '+':
      return { [op]: chance(0.15) ? one(d, scope) : args(int(0, 4), d, scope) };
    case '*': return { '*': args(int(1, 3), d, scope) };
    case '-': return { '-': args(int(1, 2), d, scope) };
    case '<': case '<=': return { [op]: args(int(2, 3), d, scope) };
    case 'substr': return { substr: args(int(2, 3), d, scope) };
    case 'log': return { log: one(d, scope) };
    case 'time': return { time: chance(0.5) ? pick(DATES) : one(d, scope) };
    case 'map': case 'filter': case 'all': case 'none': case 'some':
      return { [op]: [arraySource(d, scope), gen(d - 1, 'item')] };
    case 'reduce': {
      const a = [arraySource(d, scope), gen(d - 1, 'reduce')];
      if (chance(0.8)) a.push(gen(d - 1, scope));
      return { reduce: a };
    }
    default: return { [op]: args(2, d, scope) }; // == === != !== > >= / % in
  }
}

// ---- run both ----
function runC(list) { // one JSON line out per case in
  const input = list.map((x) => JSON.stringify(x)).join('\n') + '\n';
  const r = spawnSync(opt.bin, ['--lines'], { input, maxBuffer: 256 << 20, encoding: 'utf8' });
  const lines = r.status === 0 ? r.stdout.split('\n').filter((l) => l.length > 0) : [];
  if (r.status !== 0 || lines.length !== list.length) {
    console.error(`${opt.bin}: status ${r.status} ${r.signal ?? ''}, ${lines.length}/${list.length} lines\n${r.stderr}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  return lines.map((l) => JSON.parse(l));
}
function runJs({ rule, data: d }) {
  const log = console.log;
  console.log = () => {}; // the `log` operator prints in json-logic-js; it is a no-op in C
  try {
    const r = jsonLogic.apply(rule, JSON.parse(JSON.stringify(d)));
    const text = JSON.stringify(r === undefined ? null : r);
    return { result: text === undefined ? null : JSON.parse(text), text };
  } catch (e) {
    return { error: String(e.message ?? e) };
  } finally {
    console.log = log;
  }
}
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
function same(js, cr) { // both give the same JSON, or both fail at run time
  if (js.error !== undefined || cr.error !== undefined)
    return js.error !== undefined && cr.error === 'eval' && cr.code === 'EINVAL';
  return canon(js.result) === canon(cr.result);
}

const cases = [];
for (let i = 0; i < opt.count; i++) cases.push({ rule: gen(int(1, opt.depth)), data: data() });
const out = runC(cases);
let agree = 0, bothFail = 0, refused = 0, limited = 0, dataCode = 0;
const differ = [], kinds = {};
for (let i = 0; i < cases.length; i++) {
  const js = runJs(cases[i]), cr = out[i];
  const kind = js.error !== undefined ? 'error' : js.result === null ? 'null' : Array.isArray(js.result) ? 'array' : typeof js.result;
  kinds[kind] = (kinds[kind] ?? 0) + 1;
  if (cr.error === 'compile') refused++;
  if (cr.error === 'eval' && cr.code === 'ELIMIT') limited++;
  if (same(js, cr)) {
    agree++;
    if (js.error !== undefined) bothFail++;
  } else if (js.error?.startsWith('Unrecognized operation') && cr.result !== undefined) {
    // the rule compiled, so its operators are known: json-logic-js ran a data object as a rule
    // (a key of missing/missing_some that is a one-member object); C never runs data
    dataCode++;
  } else {
    differ.push({ ...cases[i], js: js.error ?? js.text, c: JSON.stringify(cr) });
  }
}
// A difference that goes away when every character outside the BMP (a UTF-16 surrogate pair) is
// replaced by two BMP characters (same UTF-16 length, so the same cuts and indices) comes from
// the documented surrogate difference: C writes half a pair as U+FFFD.
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;
const astral = differ.filter((x) => JSON.stringify([x.rule, x.data]).match(ASTRAL));
const plain = astral.map((x) => JSON.parse(JSON.stringify({ rule: x.rule, data: x.data }).replace(ASTRAL, '\u2460\u2461')));
const plainOut = plain.length ? runC(plain) : [];
const surrogateCases = new Set(astral.filter((x, i) => same(runJs(plain[i]), plainOut[i])));
const bad = differ.filter((x) => !surrogateCases.has(x));
const surrogate = surrogateCases.size;

const n = cases.length;
const pct = (x) => (100 * x / n).toFixed(2);
console.log(`json-logic-js differential: ${n} cases (seed ${opt.seed}): ${agree} agree (${pct(agree)}%), ` +
  `${surrogate + dataCode} differ as documented (${surrogate} surrogate pair cut -> U+FFFD, ` +
  `${dataCode} data run as a rule by json-logic-js), ${bad.length} unexplained; ` +
  `${bothFail} agreed failures, ${refused} refused by compile, ${limited} over budget`);
console.log(`  results by type: ${Object.entries(kinds).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
for (const b of bad.slice(0, opt.show)) {
  console.log(`  rule ${JSON.stringify(b.rule)}\n  data ${JSON.stringify(b.data)}\n  js   ${b.js}\n  c    ${b.c}`);
}
console.log(`${agree + surrogate + dataCode} passed, ${bad.length} failed`);
process.exit(bad.length === 0 && refused === 0 ? 0 : 1);
