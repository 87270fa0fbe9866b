// tests/integration/index.mjs
// Entry point used when the folder itself is given to `node --test tests/integration/` (Node 22
// resolves a directory through package.json "main"; it does not scan it). Each NN-*.test.mjs
// file runs in its OWN `node --test` process, as a glob of the files would, so that one file's
// root-level hooks, handlers or stray timers cannot leak into another's tests. Here each file
// is one test: it passes when that file's run exits 0 (todo tests do not fail it), and its
// full report is printed either way. Running the files directly (a glob of *.test.mjs) is
// equivalent; this file is not matched by that glob.
// GW_IT_ONLY=<regexp> limits the run to matching file names.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.GW_IT_ONLY ? new RegExp(process.env.GW_IT_ONLY) : null;
const files = readdirSync(here)
  .filter((n) => n.endsWith('.test.mjs'))
  .filter((n) => !only || only.test(n))
  .sort();

// The runner marks its children with NODE_TEST_CONTEXT; a child that inherits it refuses to
// run test files ("run() is being called recursively"), so the marker is removed.
const childEnv = { ...process.env };
delete childEnv.NODE_TEST_CONTEXT;

for (const f of files) {
  test(f, { timeout: 300000 }, async (t) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', join(here, f)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv,
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const code = await new Promise((r) => child.on('close', (c, sig) => r(c ?? sig)));
    process.stderr.write(`\n===== ${f} (exit ${code}) =====\n${out}\n`);
    for (const k of ['tests', 'pass', 'fail', 'todo', 'cancelled']) {
      const m = new RegExp(`ℹ ${k} (\\d+)`).exec(out);
      if (m) t.diagnostic(`${k} ${m[1]}`);
    }
    if (!/ℹ tests \d+/.test(out)) throw new Error(`${f}: no test report (exit ${code})\n${out.slice(-4000)}`);
    if (code !== 0) {
      const at = out.indexOf('✖ failing tests:');
      const detail = at >= 0 ? out.slice(at, at + 8000) : out.slice(-8000);
      throw new Error(`${f}: exit ${code}\n${detail}`);
    }
  });
}
