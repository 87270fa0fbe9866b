// bench/loadgen/fixed-count.mjs — sends exactly N HTTP requests (same method, headers, body) over
// C kept-alive connections and reports how many got a 2xx answer containing --expect. Used by
// bench/callgrind.sh, where the server runs under valgrind and what matters is the number of
// requests inside the measured window, not their rate.
//
// Usage: node fixed-count.mjs --url http://127.0.0.1:P/path --count N [--concurrency C]
//          [--method POST] [--headers FILE] [--body FILE] [--expect SUBSTRING]
// Loopback only. Prints one line "FIXEDJSON {"sent":N,"ok":K,"ms":T}"; exit status 1 when a
// request failed or did not match.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const o = { count: 100, concurrency: 1, method: 'GET', expect: '' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) o[argv[i].replace(/^--/, '')] = argv[++i];
o.count = Number(o.count);
o.concurrency = Number(o.concurrency);
const url = new URL(o.url);
if (!['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) {
  console.error('fixed-count: loopback targets only');
  process.exit(2);
}
const headers = {};
if (o.headers) {
  for (const line of readFileSync(o.headers, 'utf8').split(/\r?\n/)) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) headers[m[1]] = m[2];
  }
}
const body = o.body ? readFileSync(o.body) : undefined;
if (body) headers['Content-Length'] = body.length;
const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });

function one() {
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search,
      method: o.method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(res.statusCode >= 200 && res.statusCode < 300 && text.includes(o.expect));
      });
    });
    req.setTimeout(60000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

let next = 0;
let ok = 0;
const t0 = Date.now();
async function worker() {
  while (next < o.count) {
    next++;
    if (await one()) ok++;
  }
}
await Promise.all(Array.from({ length: o.concurrency }, worker));
agent.destroy();
console.log(`FIXEDJSON ${JSON.stringify({ sent: o.count, ok, ms: Date.now() - t0 })}`);
process.exit(ok === o.count ? 0 : 1);
