// tests/integration/31-process.test.mjs
// The serving process itself: `mcpgw serve` executes itself once with GNUTLS_NO_IMPLICIT_INIT=1
// (src/app/main.c) so that GnuTLS, loaded only through libldap, does not initialise itself in its
// library constructor (~0.7 MB resident for the life of the server). Checked on the processes
// the test spawned (same pid after the exec): the variable is in the environment, and GnuTLS's
// resident pages are well below those of a gateway whose operator asked for the initialisation
// (GNUTLS_NO_IMPLICIT_INIT=0: an operator's value is kept, no second exec). Both serve.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { startGateway } from './lib/gw.mjs';

function environ(pid) {
  return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean);
}

/** Resident kB of the mappings of files whose name contains `lib` (/proc/PID/smaps). */
function residentKb(pid, lib) {
  let kb = 0;
  let inLib = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inLib = line.includes(lib);
    else if (inLib && line.startsWith('Rss:')) kb += parseInt(line.slice(4), 10);
  }
  return kb;
}

describe('31-process: what the serving process loads', () => {
  test('serve runs without GnuTLS initialised; an operator value is kept', async () => {
    // undefined: the variable is left out of the child's environment (Node skips it)
    const lean = await startGateway({ env: { GNUTLS_NO_IMPLICIT_INIT: undefined } });
    const asked = await startGateway({ env: { GNUTLS_NO_IMPLICIT_INIT: '0' } });
    try {
      assert.ok(environ(lean.proc.pid).includes('GNUTLS_NO_IMPLICIT_INIT=1'), 'set by the exec');
      assert.ok(environ(asked.proc.pid).includes('GNUTLS_NO_IMPLICIT_INIT=0'), 'kept');
      for (const gw of [lean, asked]) assert.equal((await fetch(`${gw.base}/health`)).status, 200);
      const a = residentKb(lean.proc.pid, 'libgnutls');
      const b = residentKb(asked.proc.pid, 'libgnutls');
      assert.ok(b > 0, 'GnuTLS is mapped (through libldap)');
      assert.ok(a + 256 <= b, `GnuTLS resident: ${a} kB without its initialisation, ${b} kB with it`);
    } finally {
      assert.equal((await lean.stop()).code, 0);
      assert.equal((await asked.stop()).code, 0);
    }
  });
});
