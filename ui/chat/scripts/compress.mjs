// Writes a gzip variant (<file>.gz, level 9) beside every compressible file of the build, when
// it is smaller; the gateway (src/web) serves it to clients that accept gzip. Also prints the
// JavaScript size of the first load (gzip), which must stay under 300 KB.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] || 'dist';
const exts = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt', '.map']);
let js = 0;
function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!exts.has(extname(p))) continue;
    const raw = readFileSync(p);
    const gz = gzipSync(raw, { level: 9 });
    if (extname(p) === '.js') js += gz.length;
    if (gz.length < raw.length) writeFileSync(p + '.gz', gz);
  }
}
walk(dir);
console.log(`[compress] JavaScript, gzip: ${(js / 1024).toFixed(1)} KB in total`);
