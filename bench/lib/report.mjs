// bench/lib/report.mjs — turns one benchmark run into the table, the ratios, the verdict on the
// bars, the chart and docs/benchmarks.md.
// Usage: node report.mjs RESULTS_DIR OUT_DIR
//   RESULTS_DIR  bench/results/<stamp>/ as written by bench/run.sh (points.jsonl, meta.json,
//                import.txt, profile-top.txt, profile-dso.txt, ...)
//   OUT_DIR      where benchmarks.md and benchmarks.png go (docs/ for a full run)
// Prints the table and the ratios on stdout. The hand-written analysis (why the gateway stands
// where it does, what closes the gap) is bench/analysis.md, included verbatim.
// Needs gnuplot for the chart (skipped with a note when absent). Pure Node, no dependencies.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const [resDir, outDir] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const read = (f) => (existsSync(join(resDir, f)) ? readFileSync(join(resDir, f), 'utf8') : '');
const meta = JSON.parse(read('meta.json'));
const points = read('points.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l));

// [target, label in tables, client, label in the chart]
const TARGETS = [
  ['upstream', 'nginx upstream, direct (ceiling)', 'wrk', 'nginx upstream\\ndirect'],
  ['nginx-proxy', 'nginx reverse proxy, 1 worker', 'wrk', 'nginx reverse\\nproxy'],
  ['gw-call', 'gateway tools/call, every phase on', 'wrk', 'gateway\\ntools/call'],
  ['gw-call-nolog', 'gateway tools/call, access log off', 'wrk', 'gateway tools/call\\naccess log off'],
  ['gw-call-noaudit', 'gateway tools/call, audit trail off', 'wrk', 'gateway tools/call\\naudit off'],
  ['gw-call-ssrf', 'gateway tools/call, spec server + SSRF guard', 'wrk', 'gateway tools/call\\nSSRF-guarded'],
  ['gw-call-noauth', 'gateway tools/call, authentication (and governance) off', 'wrk', 'gateway tools/call\\nno authentication'],
  ['gw-call-nogov', 'gateway tools/call, governance rules off', 'wrk', 'gateway tools/call\\nno governance'],
  ['gw-call-nolimit', 'gateway tools/call, rate limits off', 'wrk', 'gateway tools/call\\nno limits'],
  ['gw-call-limit-redis', 'gateway tools/call, the 3 rate limits on Redis', 'wrk', 'gateway tools/call\\nlimits on Redis'],
  ['gw-call-mcpload', 'gateway tools/call, sessions (mcp-load)', 'mcp-load', 'gateway tools/call\\nsessions (mcp-load)'],
  ['ivotoby', `@ivotoby/openapi-mcp-server ${meta.ivotoby}`, 'mcp-load', '@ivotoby\\nopenapi-mcp-server'],
  ['sdk', `official TS SDK ${meta.sdk}, minimal, stateless`, 'wrk', 'official SDK\\n(minimal)'],
  ['list-static', 'nginx, the tools/list answer as a static file', 'wrk', 'tools/list bytes\\nnginx static'],
  ['gw-list', 'gateway tools/list', 'wrk', 'gateway\\ntools/list'],
];
const NODE_PEERS = ['ivotoby', 'sdk'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const errorsOf = (p) => (p.bad_status || 0) + (p.rpc_errors || 0) + (p.tool_errors || 0) +
  (p.unexpected || 0) + (p.socket_errors || 0) + (p.timeouts || 0) + (p.failed ? 1 : 0);

/* stats[target][conc] */
const stats = {};
for (const p of points) {
  const s = ((stats[p.target] ??= {})[p.conc] ??= { runs: [] });
  s.runs.push(p);
}
// A run during which other work on this shared machine used more than DISTURBED of a core is
// "disturbed": a point's figures come from its undisturbed runs when it has any, else from all
// of them, and the point is flagged.
const DISTURBED = 0.35;
for (const byConc of Object.values(stats)) {
  for (const s of Object.values(byConc)) {
    const clean = s.runs.filter((p) => (p.other_cpu ?? 0) <= DISTURBED);
    s.disturbed = clean.length === 0;
    const r = s.disturbed ? s.runs : clean;
    s.used = r.length;
    const rps = r.map((p) => p.rps || 0);
    s.rps = median(rps);
    s.rpsMin = Math.min(...rps);
    s.rpsMax = Math.max(...rps);
    s.p50 = median(r.map((p) => p.p50_us || 0)) / 1000;
    s.p99 = median(r.map((p) => p.p99_us || 0)) / 1000;
    s.p99Max = Math.max(...r.map((p) => p.p99_us || 0)) / 1000;
    // errors count over every run, used or not
    s.requests = s.runs.reduce((a, p) => a + (p.requests || 0), 0);
    s.errors = s.runs.reduce((a, p) => a + errorsOf(p), 0);
    s.rssMb = Math.max(...r.map((p) => p.rss_kb || 0)) / 1024;
    s.genCpu = median(r.map((p) => p.gen_cpu || 0));
    s.serverCpu = median(r.map((p) => p.server_cpu || 0));
    s.upCpu = median(r.map((p) => p.upstream_cpu || 0));
    s.storeCpu = median(r.map((p) => p.store_cpu || 0)); // the Redis point's redis-server
    s.otherCpu = median(r.map((p) => p.other_cpu || 0));
    s.stealCpu = median(r.map((p) => p.steal_cpu || 0));
    s.upConns = median(r.map((p) => (p.up_conns_per_1k ?? -1)));
    const upReq = r.reduce((a, p) => a + (p.up_requests || 0), 0);
    const rReq = r.reduce((a, p) => a + (p.requests || 0), 0);
    s.upPerCall = rReq > 0 ? upReq / rReq : 0;
  }
}
const get = (t, c) => stats[t]?.[c];

const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const fmtMs = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×` : 'n/a');

function bestPeer(c) {
  let best = null;
  for (const t of NODE_PEERS) {
    const s = get(t, c);
    if (s && s.errors === 0 && (!best || s.rps > best.s.rps)) best = { t, s };
  }
  return best;
}

// ---- the table ----
const rows = [];
for (const [t, label, gen] of TARGETS) {
  for (const c of [1, 32]) {
    const s = get(t, c);
    if (!s) continue;
    rows.push({ t, c, label, gen, s });
  }
}
const header = ['target', 'c', 'req/s (median)', 'min–max (runs used)', 'p50 ms', 'p99 ms', 'errors',
  'RSS MB', 'CPU % server/upstream/client/other', 'upstream conns per 1k req', 'upstream req per call'];
const pc = (x) => (x * 100).toFixed(0);
const SELF = new Set(['upstream', 'list-static']); // points served by the upstream nginx itself
const tableRows = rows.map(({ t, label, c, s, gen }) => [label, String(c), fmtInt(s.rps),
  `${fmtInt(s.rpsMin)}–${fmtInt(s.rpsMax)} (${s.used}/${s.runs.length}${s.disturbed ? ' ⚠' : ''})`, fmtMs(s.p50), fmtMs(s.p99),
  `${s.errors}/${fmtInt(s.requests)}`, s.rssMb.toFixed(1),
  `${pc(s.serverCpu)}${s.storeCpu > 0.005 ? `+${pc(s.storeCpu)} redis` : ''}/${SELF.has(t) ? '–' : pc(s.upCpu)}/${pc(s.genCpu)} ${gen}/${pc(s.otherCpu)}`,
  // no upstream traffic (the upstream's own points, tools/list, the in-process fixture tool): '–'
  SELF.has(t) ? '(server)' : (t === 'gw-list' || s.upPerCall < 0.5 ? '–' : (s.upConns >= 0 ? s.upConns.toFixed(1) : 'n/a')),
  SELF.has(t) || t === 'gw-list' || s.upPerCall < 0.5 ? '–' : s.upPerCall.toFixed(2)]);

function textTable(h, rs) {
  const w = h.map((x, i) => Math.max(x.length, ...rs.map((r) => r[i].length)));
  const line = (r) => r.map((x, i) => (i < 1 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  return [line(h), w.map((n) => '-'.repeat(n)).join('  '), ...rs.map(line)].join('\n');
}
function mdTable(h, rs, align) {
  const a = align || h.map((_, i) => (i === 0 ? ':--' : '--:'));
  return [`| ${h.join(' | ')} |`, `| ${a.join(' | ')} |`, ...rs.map((r) => `| ${r.join(' | ')} |`)]
    .join('\n');
}

// ---- ratios and bars ----
const ratios = [];
for (const c of [32, 1]) {
  const gw = get('gw-call', c);
  const px = get('nginx-proxy', c);
  const peer = bestPeer(c);
  if (!gw) continue;
  ratios.push({ c, thr: px ? gw.rps / px.rps : NaN, p99: px ? gw.p99 / px.p99 : NaN,
    peer: peer ? gw.rps / peer.s.rps : NaN, peerName: peer ? peer.t : 'none' });
}
const r32 = ratios.find((r) => r.c === 32) || {};
const listRatios = [1, 32].filter((c) => get('gw-list', c) && get('list-static', c)).map((c) => ({ c,
  thr: get('gw-list', c).rps / get('list-static', c).rps, p99: get('gw-list', c).p99 / get('list-static', c).p99 }));
const gw32 = get('gw-call', 32);
const gwClean = gw32 && gw32.errors === 0;
const importLine = read('import.txt').split('\n').find((l) => l.startsWith('api.github.com'));
const progBest = importLine ? Number(importLine.trim().split(/\s+/)[1]) : NaN;
const progRss = importLine ? Number(importLine.trim().split(/\s+/).at(-1)) : NaN;
const cli = read('import-cli.txt').split('\n').filter(Boolean).map((l) => l.split(/\s+/).map(Number))
  .filter(([sec]) => Number.isFinite(sec));
const cliMs = cli.map(([sec]) => sec * 1000);
const cliBest = cliMs.length ? Math.min(...cliMs) : NaN;
const cliMedian = cliMs.length ? median(cliMs) : NaN;
const cliRssMb = cli.length ? Math.max(...cli.map(([, kb]) => kb)) / 1024 : NaN;
const coreMs = Number(read('import-core-ms.txt').trim() || NaN);
const importMeasured = cliMs.length ? `\`mcpgw import --dry-run\` ${cliMedian.toFixed(0)} ms median (best ${cliBest.toFixed(0)}), end to end`
  : Number.isFinite(progBest) ? `${progBest.toFixed(0)} ms (bench/import, in-process)` : 'not measured';
const importOk = cliMs.length ? cliMedian < 1000 : progBest < 1000;
const idleMb = meta.gw_idle_kb / 1024;
const emptyMb = (meta.gw_empty_kb || 0) / 1024;
const verdict = (ok) => (ok ? '**met**' : '**not met**');
// catalogue scale points (bench/import/scale.sh): {empty_rss_kb, points: [{tools, import_s, ...}]}
let scale = null;
try { scale = JSON.parse(read('scale.json') || 'null'); } catch { scale = null; }
const scalePoint = (n) => scale && scale.points.find((p) => p.tools === n);
const s20 = scalePoint(20000), s1 = scalePoint(1000);
const bars = [
  ['tools/call throughput, every governance phase on, ≥ 0.7× nginx-proxy (c=32)', fmtRatio(r32.thr),
    verdict(gwClean && r32.thr >= 0.7)],
  ['tools/call p99 ≤ 2× nginx-proxy p99 (c=32)', `${fmtRatio(r32.p99)} (${gw32 ? fmtMs(gw32.p99) : '?'} ms vs ${get('nginx-proxy', 32) ? fmtMs(get('nginx-proxy', 32).p99) : '?'} ms)`,
    verdict(gwClean && r32.p99 <= 2)],
  ['tools/call ≥ 10× the best Node peer (c=32)', `${fmtRatio(r32.peer)} (best: ${r32.peerName})`,
    verdict(gwClean && r32.peer >= 10)],
  ['import of GitHub\'s spec < 1 s', importMeasured,
    importMeasured === 'not measured' ? 'n/a' : verdict(importOk)],
  ['import of a 20,000-operation spec < 5 s, peak memory < 1 GB',
    s20 ? `${s20.import_s} s (CPU ${s20.import_cpu_s} s), peak ${(s20.import_peak_kb / 1024).toFixed(0)} MB` : 'not measured',
    s20 ? verdict(s20.import_s < 5 && s20.import_peak_kb < 1024 * 1024) : 'n/a'],
  ['tools/list of 20,000 tools as fast as of 1,000', s20 && s1
    ? `first page ${s20.list_first_ms} ms vs ${s1.list_first_ms} ms; middle page ${s20.list_middle_ms} ms vs ${s1.list_middle_ms} ms` : 'not measured',
    s20 && s1 ? verdict(s20.list_middle_ms <= 2 * Math.max(s1.list_middle_ms, s1.list_first_ms)) : 'n/a'],
  ['idle RSS ≤ 20 MB', `${emptyMb.toFixed(1)} MB with an empty registry; ${idleMb.toFixed(1)} MB with ${meta.gw_tool === 'upstream' ? '1,001 tools' : 'the fixtures'}`,
    `${verdict(emptyMb > 0 && emptyMb <= 20)} empty; ${verdict(idleMb <= 20)} with the tools`],
  ['no errors in any gateway point', `${rows.filter((r) => r.t.startsWith('gw-')).reduce((a, r) => a + r.s.errors, 0)} errors`,
    verdict(rows.filter((r) => r.t.startsWith('gw-')).every((r) => r.s.errors === 0))],
];

// ---- what each governance phase costs per call (c=32) ----
// Server CPU per call (the gateway's cores used / its req/s) of the full gateway minus the same
// with one phase off. authentication's own cost is nogov - noauth (noauth has no governance).
const cpuPerCall = (t, withStore = false) => {
  const s = get(t, 32);
  return s && s.rps > 0 ? ((s.serverCpu + (withStore ? s.storeCpu : 0)) * 1e6) / s.rps : NaN;
};
const PHASES = [
  ['authentication (RS256 token, verified-token cache)', 'gw-call-nogov', 'gw-call-noauth'],
  ['governance (exposure + authorization, 3 rules)', 'gw-call', 'gw-call-nogov'],
  ['rate limits (3, in process)', 'gw-call', 'gw-call-nolimit'],
  ['rate limits on Redis instead of in process (the gateway\'s CPU; redis-server\'s own in the next row)', 'gw-call-limit-redis', 'gw-call'],
  ['rate limits on Redis instead of in process, the gateway and redis-server together', 'gw-call-limit-redis', 'gw-call', true],
  ['audit trail', 'gw-call', 'gw-call-noaudit'],
  ['access log', 'gw-call', 'gw-call-nolog'],
];
const phaseRows = PHASES.filter(([, on, off]) => get(on, 32) && get(off, 32)).map(([label, on, off, store]) => {
  const d = cpuPerCall(on, store) - cpuPerCall(off);
  // a negative difference is run-to-run noise (two gateways measured minutes apart), not a gain
  const noise = Number.isFinite(d) && d < 0;
  return [label, `${fmtInt(get(on, 32).rps)} vs ${fmtInt(get(off, 32).rps)}`,
    !Number.isFinite(d) ? 'n/a' : noise ? `≈ 0 (${d.toFixed(1)} µs: noise)` : `+${d.toFixed(1)} µs`,
    !Number.isFinite(d) ? 'n/a' : noise ? '≈ 0' : `${((100 * d) / cpuPerCall(off)).toFixed(1)} %`];
});

// ---- stdout ----
const out = [];
out.push(`\nBenchmark ${meta.date}  (${meta.quick ? 'QUICK smoke run' : 'full run'}: ${meta.reps}× ${meta.duration_s} s per point after a ${meta.warmup_s} s warm-up; load average before: ${meta.load_before})`);
out.push(`gateway tools/call: ${meta.gw_tools_note}`);
out.push(`gateway tools/list: ${meta.gw_list_note}\n`);
out.push(textTable(header, tableRows));
out.push('');
for (const r of listRatios) {
  out.push(`c=${r.c}: gateway tools/list / nginx static file throughput ${fmtRatio(r.thr)}, p99 ${fmtRatio(r.p99)}`);
}
for (const r of ratios) {
  out.push(`c=${r.c}: gateway/nginx-proxy throughput ${fmtRatio(r.thr)}, p99 ${fmtRatio(r.p99)}; gateway/best Node peer (${r.peerName}) ${fmtRatio(r.peer)}`);
}
out.push('');
for (const b of bars) out.push(`${b[0]}: ${b[1]} -> ${b[2].replace(/\*/g, '')}`);
for (const p of phaseRows) out.push(`phase cost: ${p[0]}: ${p[2]} per call (${p[3]}); req/s ${p[1]}`);
console.log(out.join('\n'));

// ---- chart ----
const chartName = 'benchmarks.png';
const chartTargets = TARGETS.filter(([t]) => get(t, 32) || get(t, 1));
const dat = chartTargets.map(([t, , , short]) => {
  const v = (c, k) => (get(t, c) ? get(t, c)[k] : '-');
  return `"${short}" ${v(1, 'rps')} ${v(32, 'rps')} ${v(1, 'p99')} ${v(32, 'p99')}`;
}).join('\n');
writeFileSync(join(resDir, 'chart.dat'), `${dat}\n`);
let chartOk = false;
try {
  execFileSync('gnuplot', ['-e', `datafile='${join(resDir, 'chart.dat')}'; outfile='${join(outDir, chartName)}'; subtitle='${meta.date.slice(0, 10)}, ${meta.nproc} cores (${meta.cpu}), gateway ${meta.gateway_rev}'`,
    join(here, 'chart.gp')], { stdio: ['ignore', 'ignore', 'pipe'] });
  chartOk = true;
} catch (e) {
  console.error(`chart skipped: ${e.stderr || e.message}`);
}

// ---- docs/benchmarks.md ----
const analysis = existsSync(join(repo, 'bench', 'analysis.md'))
  ? readFileSync(join(repo, 'bench', 'analysis.md'), 'utf8').trim() : '';
/* Text blocks from perf: drop blank lines and the common indentation, keep the columns. */
const block = (t) => {
  const lines = t.split('\n').filter((l) => l.trim());
  const ind = Math.min(...lines.map((l) => l.match(/^ */)[0].length));
  return lines.map((l) => l.slice(ind)).join('\n');
};
const profTop = block(read('profile-top.txt'));
const profDso = block(read('profile-dso.txt'));

const md = [];
md.push('# Benchmarks: the gateway against nginx and the Node peers');
md.push('');
md.push(`<!-- Generated by bench/run.sh (bench/lib/report.mjs) on ${meta.date}. Do not edit by hand: re-run \`bench/run.sh\`. The analysis section comes from bench/analysis.md. -->`);
md.push('');
md.push(`Run of **${meta.date}** on ${meta.nproc} cores (${meta.cpu}), gateway \`${meta.gateway_rev}\`. ` +
  `One command: \`bench/run.sh\` (what it measures and how: [bench/README.md](../bench/README.md)). ` +
  `Each point: ${meta.warmup_s} s warm-up, then ${meta.reps} runs of ${meta.duration_s} s; the table shows the median run ` +
  '(and the min–max of req/s across runs). Loopback only.');
md.push('');
if (meta.gw_tool !== 'upstream') {
  md.push(`> **Provisional:** the gateway's tools/call measured here is the ${meta.gw_tools_note}. ` +
    'The REST-bound tool (`get_item` on the same nginx upstream as everyone else) is measured as soon as `mcpgw import` exists: ' +
    '`bench/run.sh` switches by itself (`BENCH_GW_TOOL=auto`). Until then the comparison with nginx-proxy and the Node peers ' +
    'flatters the gateway: it does not make the upstream call they make.');
  md.push('');
}
md.push('## Standing against the bars');
md.push('');
md.push(mdTable(['bar (product brief §4)', 'measured', 'verdict'], bars, [':--', ':--', ':--']));
md.push('');
md.push('## Results');
md.push('');
md.push(mdTable(header, tableRows));
md.push('');
md.push(`- gateway tools/call: ${meta.gw_tools_note}; MCP 2026-07-28 stateless requests (no session), ` +
  `${meta.gw_workers} worker threads (the default: one per core), access log on (to a file) unless stated.`);
md.push(`- gateway tools/list: ${meta.gw_list_note}; ${meta.gw_list_tools} tools, ${fmtInt(meta.gw_list_bytes)} bytes per answer. ` +
  'The static-file line is nginx sending the very same bytes (sendfile): the cost of shipping them over loopback.');
md.push('- errors: non-2xx + JSON-RPC errors + `isError` results + bodies without the expected content + socket errors + timeouts, over all requests of the point. A point with errors does not count for a bar.');
md.push(`- runs used: each point's figures are the median of its runs during which other work on this shared machine used at most ${DISTURBED * 100} % of a core; ` +
  '⚠ marks a point all of whose runs were disturbed (its figures come from all of them and are pessimistic). min–max is over the runs used.');
md.push('- RSS: the server process tree (nginx: master + worker), the highest of samples every 0.2 s during the runs.');
md.push('- CPU: CPU time per wall second in % of one core (200 % = both cores) of the server (with `+N redis`: the redis-server the Redis point\'s gateway uses, ' +
  'part of the system measured), the nginx upstream behind it, the load generator, ' +
  'and everything else on this shared machine during the run (the last should be near 0; when it is not, the point was disturbed).');
md.push('- upstream conns per 1k req: TCP connections the upstream accepted per 1,000 requests it served (nginx stub_status): ' +
  '~0 means the proxy keeps its upstream connections alive. upstream req per call: requests the upstream served per request measured ' +
  '(1.00 for a proxy that forwards every call, no cache, no retry).');
md.push('- `mcp-load` (bench/loadgen/mcp-load.mjs) opens real sessions and waits for each result wherever it arrives ' +
  '(POST body or the session\'s GET stream). @ivotoby answers `tools/call` with 202 and sends the result on the GET stream, so ' +
  'only such a client measures its real round trips. The `gateway … sessions (mcp-load)` line is the same client against the ' +
  'gateway: it shows the client\'s own ceiling, far above the @ivotoby figure.');
md.push('');
md.push('### Ratios');
md.push('');
md.push(mdTable(['tools/call, concurrency', 'gateway / nginx-proxy (req/s)', 'gateway p99 / nginx-proxy p99', 'gateway / best Node peer (req/s)'],
  ratios.map((r) => [String(r.c), fmtRatio(r.thr), fmtRatio(r.p99), `${fmtRatio(r.peer)} (${r.peerName})`])));
if (listRatios.length) {
  md.push('');
  md.push(mdTable(['tools/list, concurrency', 'gateway / nginx static file (req/s)', 'gateway p99 / nginx static p99'],
    listRatios.map((r) => [String(r.c), fmtRatio(r.thr), fmtRatio(r.p99)])));
}
md.push('');
if (chartOk) {
  md.push(`![Throughput and p99 latency per target](${chartName})`);
  md.push('');
}
if (phaseRows.length) {
  md.push('### What each phase costs per call');
  md.push('');
  md.push(`The full gateway (\`gw-call\`: ${fmtInt(cpuPerCall('gw-call'))} µs of server CPU per call at c=32) against the same ` +
    'gateway with one phase off, in the same run. Wall-clock CPU on a shared 2-core machine is noisy (a few µs); ' +
    '`bench/callgrind.sh` counts instructions per phase, load-independently (bench/analysis.md).');
  md.push('');
  md.push(mdTable(['phase', 'req/s with vs without (c=32)', 'server CPU per call', 'of the call without it'], phaseRows));
  md.push('');
}
md.push('### Memory and import');
md.push('');
md.push(`- Gateway RSS: **${emptyMb.toFixed(1)} MB idle with an empty registry**, ${idleMb.toFixed(1)} MB idle with ${meta.gw_tool === 'upstream' ? '1,001 tools loaded' : 'the fixtures'}, ` +
  `${(meta.gw_loaded_kb / 1024).toFixed(1)} MB at most under load. ` +
  `Node peers idle: @ivotoby ${(meta.ivotoby_idle_kb / 1024).toFixed(1)} MB, official-SDK server ${(meta.sdk_idle_kb / 1024).toFixed(1)} MB.`);
const importParts = [];
if (cliMs.length) {
  importParts.push(`\`mcpgw import --dry-run\` (process start, read, parse, map to tools, diff against the registry; nothing written): ` +
    `**${cliMedian.toFixed(0)} ms** median of ${cliMs.length}, best ${cliBest.toFixed(0)} ms, peak RSS ${cliRssMb.toFixed(0)} MB`);
}
if (Number.isFinite(coreMs)) importParts.push(`the importer's own share (its \`elapsedMs\`): ${coreMs.toFixed(0)} ms`);
if (Number.isFinite(progBest)) importParts.push(`bench/import (in-process, best of runs): ${progBest.toFixed(0)} ms, peak RSS ${progRss} MB`);
else importParts.push('bench/import/run.sh did not run in this session (see the run\'s import.err)');
md.push(`- Importing GitHub's spec (api.github.com.json, ~13 MB, 1,223 operations): ${importParts.join('; ')}.`);
if (meta.import_crashes) {
  md.push(`- **\`mcpgw import\` crashed ${meta.import_crashes} time(s)** while loading the benchmark specs (retried; see the run's gw-import.err).`);
}
if (scale && scale.points.length) {
  md.push('');
  md.push('### Catalogue scale');
  md.push('');
  md.push('Graph-like generated specs (bench/import/gen-large-spec.mjs) imported with `mcpgw import --activate` into a fresh SQLite registry, ' +
    'then served by a gateway (1 worker): resident memory per loaded tool is (RSS − empty gateway RSS) / tools; tools/list is the ' +
    'median of 20 requests of a 100-tool page over loopback.');
  md.push('');
  md.push(mdTable(['operations', 'import (s)', 'import CPU (s)', 'import peak RSS (MB)', 'gateway RSS (MB)', 'KB per tool', 'database (MB)',
    'tools/list first page (ms)', 'tools/list middle page (ms)'],
  scale.points.map((p) => [fmtInt(p.tools), p.import_s, p.import_cpu_s, (p.import_peak_kb / 1024).toFixed(0), (p.rss_kb / 1024).toFixed(1),
    p.kb_per_tool, p.db_mb, p.list_first_ms, p.list_middle_ms])));
}
md.push('');
md.push('## Machine, versions, method');
md.push('');
md.push(mdTable(['', ''], [
  ['date', meta.date],
  ['machine', `${meta.cpu}, ${meta.nproc} cores, ${meta.mem}, ${meta.os}, Linux ${meta.kernel}`],
  ['load average', `${meta.load_before} before, ${meta.load_after} after (the machine is shared: other work skews numbers)`],
  ['gateway', `mcpgw ${meta.gateway_version.replace(/^mcpgw /, '')} at \`${meta.gateway_rev}\`, Release build, ${meta.cc}`],
  ['nginx', `${meta.nginx} (Debian), 1 worker for the upstream and 1 for the proxy`],
  ['load generators', `wrk ${meta.wrk} (Debian) with bench/wrk/bench.lua (1 thread at c=1, 2 at c=32); bench/loadgen/mcp-load.mjs on Node ${meta.node}`],
  ['Node peers', `@ivotoby/openapi-mcp-server ${meta.ivotoby}, @modelcontextprotocol/sdk ${meta.sdk}, Node ${meta.node}`],
  ['run', `${meta.reps}× ${meta.duration_s} s per point after ${meta.warmup_s} s warm-up; \`bench/run.sh\` took ${meta.elapsed_s} s in all (setup, build, measuring, import, profile)`],
], [':--', ':--']));
md.push('');
md.push('## Profile of the gateway under load');
md.push('');
md.push('Recipe (what `bench/run.sh` does for this section, by hand; perf from Debian\'s `linux-perf`):');
md.push('');
md.push('```sh');
md.push('bench/run.sh --no-docs     # leaves the specs, the database, the configs and the requests in bench/.work/run');
md.push('W=$PWD/bench/.work/run');
md.push('nginx -p $W -c $W/upstream.conf -e $W/upstream-error.log &          # the upstream, on the port in the imported spec');
md.push('GW_DATA_DIR=$W/gwdata build/bench/mcpgw serve --listen 127.0.0.1:8000 \\');
md.push('  --set GW_UPSTREAMS_FILE=$W/upstreams.json 2>/tmp/gw.log &');
md.push('BENCH_METHOD=POST BENCH_BODY=$W/b-gw-call BENCH_HEADERS=$W/h-gw-call BENCH_EXPECT=widget \\');
md.push('  wrk -t2 -c32 -d20s -s bench/wrk/bench.lua http://127.0.0.1:8000/mcp &');
md.push('perf record -F 499 --call-graph dwarf,8192 -p $(pgrep -n mcpgw) -o /tmp/perf.data -- sleep 10');
md.push('perf report -i /tmp/perf.data --no-children --sort dso,symbol   # self time');
md.push('perf report -i /tmp/perf.data --children --sort symbol          # inclusive, with call graphs');
md.push('# -g (frame pointers) is cheaper, but the Release build has none: most call chains are lost');
md.push('# strace -f -c -p $(pgrep -n mcpgw)   # syscalls per request (compare with nginx: strace -c -p <worker pid>)');
md.push('# instruction-level alternative (slow, ~50x): valgrind --tool=callgrind build/bench/mcpgw serve ... ; callgrind_annotate');
md.push('```');
md.push('');
if (profTop) {
  md.push(`Top of the current profile (tools/call at c=32, 8 s at 499 Hz with DWARF call graphs; self time by binary and symbol, over 0.7 %; ${meta.gw_tools_note}):`);
  md.push('');
  md.push('```');
  md.push(profTop);
  md.push('```');
  md.push('');
  const profChildren = block(read('profile-children.txt'));
  if (profChildren) {
    md.push('Inclusive time of the gateway\'s own functions (with everything they call; several static functions share the name `finish`):');
    md.push('');
    md.push('```');
    md.push(profChildren);
    md.push('```');
    md.push('');
  }
  if (profDso) {
    md.push('By binary:');
    md.push('');
    md.push('```');
    md.push(profDso);
    md.push('```');
    md.push('');
  }
} else {
  md.push('_No profile in this run (perf unavailable or `--no-profile`)._');
  md.push('');
}
if (analysis) {
  md.push(analysis);
  md.push('');
}
writeFileSync(join(outDir, 'benchmarks.md'), `${md.join('\n')}\n`);
writeFileSync(join(resDir, 'summary.json'), JSON.stringify({ meta, stats, ratios, bars }, null, 1));
console.log(`\nwrote ${relative(process.cwd(), join(outDir, 'benchmarks.md'))}${chartOk ? ` and ${chartName}` : ''}`);

// --strict (the smoke run): fail when a point produced no result or a gateway point had errors,
// so that CI notices a broken harness or a gateway answering with errors.
if (process.argv.includes('--strict')) {
  const broken = points.filter((p) => p.failed).map((p) => `${p.target} c=${p.conc}`);
  const gwErr = rows.filter((r) => r.t.startsWith('gw-') && r.s.errors > 0).map((r) => `${r.t} c=${r.c}`);
  if (broken.length || gwErr.length) {
    console.error(`bench: FAILED: ${broken.length ? `no result from ${broken.join(', ')}` : ''}${broken.length && gwErr.length ? '; ' : ''}${gwErr.length ? `gateway errors in ${gwErr.join(', ')}` : ''}`);
    process.exit(1);
  }
}
