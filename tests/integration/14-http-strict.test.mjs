// tests/integration/14-http-strict.test.mjs
// The HTTP/1.1 layer of a real `mcpgw serve` (src/net: llhttp in strict mode) over raw sockets:
//  - every request-smuggling primitive of issue 12 is refused with its status, a JSON-RPC error
//    body (never HTML), Connection: close, the socket closed, and nothing after it answered
//    (conflicting Content-Length, "Transfer-Encoding : chunked", Content-Length: +40, obs-fold,
//    bare LF, HTTP/1.1 without Host, Transfer-Encoding with Content-Length or not exactly
//    chunked, repeated Host);
//  - framing errors are JSON: body over GW_MAX_BODY_BYTES (413), unknown method, a line that
//    is no request line, Content-Length: abc, a header block over GW_MAX_HEADER_BYTES (431), a
//    target over GW_MAX_URL_BYTES (414) (formerly the libevent HTML pages of 90-known-bugs);
//  - a client that half-closes after its request gets the whole ~300 KB answer;
//  - pipelined requests are answered in order; Expect: 100-continue; a chunked request body;
//    HTTP/1.0;
//  - the admin listener refuses a cross-site POST (Origin: http://evil.example) and a foreign
//    Host with 403 before any handler runs, and lets same-origin requests through.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { GW_BIN, assertNoSanitizerReport, post, request, startGateway, withTimeout } from './lib/gw.mjs';

/**
 * Sends raw bytes (optionally half-closing afterwards) and resolves with everything read and
 * whether the server closed the connection within timeoutMs.
 */
function raw(port, bytes, { timeoutMs = 3000, halfClose = false, host = '127.0.0.1' } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const chunks = [];
    let closedByServer = false;
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => {
      closedByServer = true;
    });
    const done = () => resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    s.on('close', done);
    s.on('error', () => {});
    s.setTimeout(timeoutMs, () => s.destroy());
    s.write(bytes);
    if (halfClose) s.end();
  });
}

function statusOf(text) {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}

function split(text) {
  const at = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, at), body: text.slice(at + 4) };
}

/** A refusal: status, JSON-RPC error body, Connection: close, closed, a single response. */
function assertRefused(res, status, what) {
  const { text, closedByServer } = res;
  assert.equal(statusOf(text), status, `${what}: status\n${text.slice(0, 400)}`);
  const { head, body } = split(text);
  assert.match(head, /\r\ncontent-type: application\/json/i, `${what}: not JSON`);
  assert.match(head, /\r\nconnection: close/i, `${what}: no Connection: close`);
  const j = JSON.parse(body);
  assert.equal(j.jsonrpc, '2.0', what);
  assert.equal(j.id, null, what);
  assert.equal(j.error.code, -32600, what);
  assert.equal(typeof j.error.message, 'string', what);
  assert.equal((text.match(/HTTP\/1\.[01] \d{3}/g) ?? []).length, 1, `${what}: more than one response (smuggled request answered)`);
  assert.ok(closedByServer, `${what}: connection left open`);
}

const H = 'Host: 127.0.0.1\r\n';
const JSON_CT = 'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n';
const SMUGGLED = `GET /health HTTP/1.1\r\n${H}\r\n`;

const SMUGGLING = [
  ['conflicting Content-Length (CL.CL)', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}${SMUGGLED}`, 400],
  ['repeated equal Content-Length', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}`, 400],
  ['"Transfer-Encoding : chunked" (space before the colon) with Content-Length', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['Content-Length: +40', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Content-Length: +40\r\n\r\n{}`, 400],
  ['obs-fold', `GET /health HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n`, 400],
  ['obs-fold hiding Transfer-Encoding', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding:\r\n chunked\r\nContent-Length: 2\r\n\r\n{}`, 400],
  ['bare LF line endings', `GET /health HTTP/1.1\n${H.replace('\r\n', '\n')}\n`, 400],
  ['bare LF hiding a header', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}X: y\nContent-Length: 40\r\nContent-Length: 2\r\n\r\n{}`, 400],
  ['HTTP/1.1 without Host', 'GET /health HTTP/1.1\r\n\r\n', 400],
  ['two Host headers', `GET /health HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`, 400],
  ['Transfer-Encoding with Content-Length (CL.TE)', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['Transfer-Encoding: gzip, chunked', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400],
  ['Transfer-Encoding twice', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400],
  ['chunk size overflow', `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n{}\r\n0\r\n\r\n`, 400],
  ['HTTP/2.0 request line', `GET /health HTTP/2.0\r\n${H}\r\n`, 505],
];

describe('14-http-strict', () => {
  let gw;

  before(async () => {
    gw = await startGateway({ sets: { GW_MAX_BODY_BYTES: '4096', GW_MAX_HEADER_BYTES: '4096', GW_MAX_URL_BYTES: '1024' } });
  });

  after(async () => {
    if (gw) await gw.stop();
  });

  for (const [what, bytes, status] of SMUGGLING) {
    test(`refused: ${what} -> ${status}`, async () => {
      assertRefused(await raw(gw.port, bytes), status, what);
    });
  }

  test('a body over GW_MAX_BODY_BYTES gets 413 with a JSON-RPC body, not HTML', async () => {
    const res = await post(gw, JSON.stringify({ pad: 'x'.repeat(8000) }));
    assert.equal(res.status, 413);
    assert.doesNotMatch(res.body, /<html/i);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(res.json?.jsonrpc, '2.0');
    assert.equal(res.json?.error?.code, -32600);
  });

  test('an unknown HTTP method gets a JSON 501, not an HTML page', async () => {
    assertRefused(await raw(gw.port, `FOO /mcp HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`), 501, 'FOO');
  });

  test('a method llhttp knows but the gateway does not serve gets a JSON 405 with Allow', async () => {
    const res = await request(gw.port, { method: 'PROPFIND', path: '/mcp' });
    assert.equal(res.status, 405);
    assert.match(res.headers.allow ?? '', /POST/);
    assert.equal(typeof res.json?.error?.message, 'string');
  });

  test('a malformed request line gets a JSON 400', async () => {
    assertRefused(await raw(gw.port, 'HELLO\r\n\r\n'), 400, 'HELLO');
  });

  test('an invalid Content-Length gets a JSON 400', async () => {
    assertRefused(await raw(gw.port, `POST /mcp HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`), 400, 'Content-Length: abc');
  });

  test('headers over GW_MAX_HEADER_BYTES get a JSON 431', async () => {
    assertRefused(await raw(gw.port, `GET /health HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20000)}\r\n\r\n`), 431, 'a 20 kB header');
  });

  test('a request target over GW_MAX_URL_BYTES gets a JSON 414', async () => {
    assertRefused(await raw(gw.port, `GET /${'a'.repeat(2000)} HTTP/1.1\r\n${H}\r\n`), 414, 'a 2 kB target');
  });

  test('a client that half-closes after its request gets the whole answer (~300 KB)', async () => {
    const id = 'x'.repeat(300000);
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } } });
    const big = await startGateway({ sets: { GW_MAX_BODY_BYTES: '1048576' } });
    try {
      const res = await raw(big.port, `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, { halfClose: true, timeoutMs: 10000 });
      assert.equal(statusOf(res.text), 200, res.text.slice(0, 300));
      const { head, body: got } = split(res.text);
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
      assert.equal(Buffer.byteLength(got, 'latin1'), len, 'answer cut');
      assert.ok(len > 300000);
      assert.equal(JSON.parse(got).id, id);
      assert.ok(res.closedByServer);
    } finally {
      await big.stop();
    }
  });

  test('pipelined requests are answered in order', async () => {
    const res = await raw(gw.port, `GET /health HTTP/1.1\r\n${H}\r\nGET /nope HTTP/1.1\r\n${H}\r\nGET /ready HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    const statuses = [...res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 404, 200]);
    assert.ok(res.closedByServer);
  });

  test('Expect: 100-continue, a chunked request body, HTTP/1.0', async () => {
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
    const cont = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: gw.port });
      let out = '';
      let sent = false;
      s.setEncoding('latin1');
      s.on('data', (d) => {
        out += d;
        if (!sent && out.includes('100 Continue\r\n\r\n')) {
          sent = true;
          s.write(ping);
        }
      });
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
      s.setTimeout(3000, () => s.destroy());
      s.write(`POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Expect: 100-continue\r\nConnection: close\r\nContent-Length: ${ping.length}\r\n\r\n`);
    });
    assert.match(cont, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    const chunked = await raw(gw.port, `POST /mcp HTTP/1.1\r\n${H}${JSON_CT}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${ping.length.toString(16)}\r\n${ping}\r\n0\r\n\r\n`);
    assert.equal(statusOf(chunked.text), 200, chunked.text.slice(0, 300));
    assert.equal(JSON.parse(split(chunked.text).body).id, 7);
    const old = await raw(gw.port, 'GET /health HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(old.text), 200);
    assert.match(old.text, /\r\nconnection: close/i);
    assert.ok(old.closedByServer);
  });

  test('after all that the server still answers', async () => {
    const res = await request(gw.port, { path: '/health' });
    assert.equal(res.status, 200);
  });
});

describe('14-http-strict: the admin listener refuses cross-site requests', () => {
  let proc;
  let err = '';
  let dir;
  let admin;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgw-origin-'));
    const args = ['serve', '--listen', '127.0.0.1:0', '--port-file', join(dir, 'port'), '--admin-port-file', join(dir, 'aport')];
    const sets = { GW_DATA_DIR: join(dir, 'data'), GW_ADMIN_LISTEN: '127.0.0.1:0', GW_AUTH_MODE: 'off', GW_ADMIN_DEV_MODE: 'true', GW_WORKERS: '1', GW_SHUTDOWN_GRACE_SECONDS: '2' };
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GW_') && k !== 'DATABASE_URL') env[k] = v;
    proc = spawn(GW_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      err += d;
    });
    const t0 = Date.now();
    while (!admin) {
      const f = join(dir, 'aport');
      if (existsSync(f)) {
        const p = parseInt(readFileSync(f, 'utf8'), 10);
        if (p > 0) admin = p;
      }
      if (Date.now() - t0 > 15000) throw new Error(`no admin port:\n${err}`);
      if (!admin) await new Promise((r) => setTimeout(r, 20));
    }
  });

  after(async () => {
    if (proc) {
      const exited = new Promise((r) => proc.on('close', r));
      proc.kill('SIGTERM');
      await withTimeout(exited, 10000);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    assertNoSanitizerReport(err);
  });

  const disable = (headers) => request(admin, { method: 'POST', path: '/admin/api/tools/no_such_tool/disable', headers });

  test('a cross-site POST (Origin: http://evil.example) is refused with 403 before any handler', async () => {
    const res = await disable({ Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(res.json?.error?.code, 'forbidden');
    assert.match(res.json?.error?.message, /Origin/);
  });

  test('a foreign Host (DNS rebinding) is refused with 403', async () => {
    const res = await disable({ Host: `evil.example:${admin}` });
    assert.equal(res.status, 403);
    assert.match(res.json?.error?.message, /Host/);
  });

  test('same-origin and Origin-less requests reach the handler', async () => {
    for (const headers of [{}, { Origin: `http://127.0.0.1:${admin}` }, { Origin: `http://localhost:${admin}`, Host: `localhost:${admin}` }]) {
      const res = await disable(headers);
      assert.notEqual(res.status, 403, JSON.stringify(headers));
      assert.equal(res.status, 404, `${JSON.stringify(headers)}: ${res.body}`); // the handler: no such tool
    }
  });
});
