// tests/integration/30-shutdown.test.mjs
// Graceful shutdown on SIGTERM: an in-flight request (a tool waiting for the client's sampling
// answer, so it is in flight for as long as the test wants) completes and its result reaches
// the client; open GET streams (Streamable HTTP and the old /sse) are ended cleanly (final
// chunk, not a cut connection); new connections are refused once draining started while
// existing keep-alive connections are still served (and /ready says 503 draining); the process
// exits 0 within the grace period. Also: a ~100 ms progress tool caught by SIGTERM completes;
// a request that never completes is abandoned when the grace period ends (exit 0, bounded).
//
// KNOWN BUGS (reported; these tests fail until src/net/net_server.c is fixed):
//  1. begin_drain() runs the drain hooks (which end the open streams, calling
//     gw_worker_inflight_add(-1) -> check_stop()) BEFORE it sets w->drain_deadline, so
//     check_stop() sees a zero deadline, logs "grace period over with N requests in flight"
//     and stops the worker at once: in-flight requests on that worker are cut.
//  2. check_stop() calls event_base_loopexit(base, NULL) as soon as nothing is in flight, so
//     the last bytes of the final responses (the terminating chunk of SSE streams, the last
//     result) are still in libevent's output buffers when the loop and the process end: the
//     client sees a cut connection (curl error 18) instead of a clean end.
//  3. gw_mcp_server_close_listeners() (src/mcp/mcp_server.c) collects at most 256 listener ids
//     per loop (`unsigned long ids[256]`): with more open GET streams on one worker the rest
//     stay open, the worker waits the whole grace period ("grace period over with 44 requests
//     in flight" for 300 streams) and then cuts them. Test: 300 streams, 1 worker.
// Verified: with 1 and 2 fixed (deadline set before the hooks; loopexit after a short linger or
// once the output buffers are empty) every test here passes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  connectionRefused,
  exitStatus,
  initSession,
  keepAliveConnection,
  openStream,
  postStreaming,
  rpc,
  startGateway,
  withTimeout,
} from './lib/gw.mjs';

describe('30-shutdown: SIGTERM drains gracefully', () => {
  test('in-flight request completes, streams end cleanly, new connections refused, exit 0', async () => {
    // one worker: a worker with nothing in flight stops at once and drops its idle keep-alive
    // connections, so the connection carrying the sampling answer must be on the busy worker
    const gw = await startGateway({ sets: { GW_SHUTDOWN_GRACE_SECONDS: '5', GW_WORKERS: '1' } });
    try {
      const { session, version } = await initSession(gw, '2025-11-25', { sampling: {} });
      const h = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version };
      // an open GET stream and an old-transport /sse stream
      const get = await openStream(gw.port, { headers: { Accept: 'text/event-stream', ...h } });
      assert.equal(get.res.statusCode, 200);
      const sse = await openStream(gw.port, { path: '/sse', headers: { Accept: 'text/event-stream' } });
      await sse.wait((e) => e.event === 'endpoint');
      // a keep-alive connection opened before the shutdown, warmed up with a ping
      const ka = await keepAliveConnection(gw.port);
      const warm = await ka.send({
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...h },
        body: rpc('ping'),
      });
      assert.equal(warm.status, 200);
      // the slow request: waits for our sampling answer
      const call = await postStreaming(gw.port, rpc('tools/call', { name: 'test_sampling', arguments: { prompt: 'p' } }), h);
      const ask = await call.wait((e) => e.json?.method === 'sampling/createMessage');
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      // the GET stream and the /sse stream are closed by the server, cleanly
      assert.equal(await withTimeout(get.ended, 3000), true, 'GET stream not ended cleanly');
      assert.equal(await withTimeout(sse.ended, 3000), true, '/sse stream not ended cleanly');
      // accepting stopped: new connections are refused while the request is still in flight
      assert.equal(await connectionRefused(gw.port), true, 'a new connection was accepted while draining');
      // the existing connection still works; readiness says draining
      const ready = await ka.send({ path: '/ready' });
      assert.equal(ready.status, 503);
      assert.equal(ready.json.draining, true);
      // answer the sampling request over it: the in-flight tool call completes
      const ans = await ka.send({
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...h },
        body: { jsonrpc: '2.0', id: ask.json.id, result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'late answer' } } },
      });
      assert.equal(ans.status, 202);
      const fin = await withTimeout(call.done, 5000);
      assert.ok(fin?.complete, 'the in-flight POST stream was cut');
      const result = call.events.map((e) => e.json).find((m) => m?.result);
      assert.equal(result?.result?.content?.[0]?.text, 'LLM response: late answer');
      ka.close();
      const exit = exitStatus(await withTimeout(gw.exited, 6000), gw.stderr());
      assert.ok(exit, 'did not exit within the grace period');
      assert.equal(exit.code, 0);
      assert.ok(Date.now() - t0 < 5500, `exit took ${Date.now() - t0} ms`);
    } finally {
      const res = await gw.stop();
      assert.equal(res.code, 0);
    }
  });

  test('a ~100 ms progress tool caught by SIGTERM still completes; exit is prompt', async () => {
    const gw = await startGateway();
    try {
      const { session, version } = await initSession(gw);
      const h = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version };
      const call = await postStreaming(gw.port, rpc('tools/call', {
        name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' },
      }), h);
      await call.wait((e) => e.json?.method === 'notifications/progress');
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      const fin = await withTimeout(call.done, 5000);
      assert.ok(fin?.complete, 'the in-flight request was cut');
      const msgs = call.events.map((e) => e.json);
      assert.equal(msgs.filter((m) => m?.method === 'notifications/progress').length, 3);
      assert.equal(msgs.at(-1).result.content[0].text, 'Tool with progress executed successfully');
      const exit = exitStatus(await withTimeout(gw.exited, 3000), gw.stderr());
      assert.equal(exit?.code, 0);
      assert.ok(Date.now() - t0 < 2000, `exit took ${Date.now() - t0} ms`);
    } finally {
      await gw.stop();
    }
  });

  test('idle streams only: exit within 2 s, streams ended cleanly', async () => {
    const gw = await startGateway();
    try {
      const streams = [];
      for (let i = 0; i < 5; i++) {
        const { session } = await initSession(gw);
        streams.push(await openStream(gw.port, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session } }));
      }
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      for (const s of streams) assert.equal(await withTimeout(s.ended, 3000), true);
      const exit = exitStatus(await withTimeout(gw.exited, 3000), gw.stderr());
      assert.equal(exit?.code, 0);
      assert.ok(Date.now() - t0 < 2000, `exit took ${Date.now() - t0} ms`);
    } finally {
      await gw.stop();
    }
  });

  test('300 open GET streams on one worker all end cleanly and promptly', async () => {
    const gw = await startGateway({ sets: { GW_WORKERS: '1', GW_SHUTDOWN_GRACE_SECONDS: '5' } });
    try {
      const streams = [];
      for (let i = 0; i < 300; i++) {
        const { session } = await initSession(gw);
        streams.push(await openStream(gw.port, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session } }));
      }
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      const ends = await Promise.all(streams.map((s) => withTimeout(s.ended, 8000)));
      const clean = ends.filter((e) => e === true).length;
      assert.equal(clean, 300, `${300 - clean} of 300 streams were not ended cleanly`);
      const exit = exitStatus(await withTimeout(gw.exited, 8000), gw.stderr());
      assert.equal(exit?.code, 0);
      assert.ok(Date.now() - t0 < 2500, `exit took ${Date.now() - t0} ms`);
    } finally {
      await gw.stop();
    }
  });

  test('a request that never completes is abandoned when the grace period ends', async () => {
    const gw = await startGateway({ sets: { GW_SHUTDOWN_GRACE_SECONDS: '1' } });
    try {
      const { session, version } = await initSession(gw, '2025-11-25', { sampling: {} });
      const h = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': version };
      const call = await postStreaming(gw.port, rpc('tools/call', { name: 'test_sampling', arguments: { prompt: 'p' } }), h);
      await call.wait((e) => e.json?.method === 'sampling/createMessage');
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      const exit = exitStatus(await withTimeout(gw.exited, 5000), gw.stderr());
      const took = Date.now() - t0;
      assert.ok(exit, 'did not exit after the grace period');
      assert.equal(exit.code, 0);
      assert.ok(took >= 900 && took < 3000, `exit after ${took} ms with a 1 s grace period`);
    } finally {
      await gw.stop();
    }
  });
});
