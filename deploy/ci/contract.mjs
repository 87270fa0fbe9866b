// deploy/ci/contract.mjs BASE_URL — API contract test of a deployed gateway with the official
// MCP TypeScript SDK client (tests/node): connects over Streamable HTTP, checks the negotiated
// protocol revision, pages through tools/list, and checks every tool's contract (name pattern,
// object inputSchema, outputSchema when present is an object schema, annotations are
// booleans, no credential arguments). cd.yml stage 5; tests/deploy/local-stack.sh runs it
// against the local stack. Optional CONTRACT_TOKEN: Authorization: Bearer for the requests.
const SDK = '../../tests/node/node_modules/@modelcontextprotocol/sdk/dist/esm';
const { Client } = await import(`${SDK}/client/index.js`);
const { StreamableHTTPClientTransport } = await import(`${SDK}/client/streamableHttp.js`);

const base = (process.argv[2] ?? '').replace(/\/$/, '');
if (!base) { console.error('usage: contract.mjs BASE_URL'); process.exit(2); }
const headers = process.env.CONTRACT_TOKEN ? { Authorization: `Bearer ${process.env.CONTRACT_TOKEN}` } : {};
const client = new Client({ name: 'contract', version: '1' });
const problems = [];
let checks = 0;
const expect = (ok, what) => { checks++; if (!ok) problems.push(what); };
const timer = setTimeout(() => { console.error('contract test timed out (60 s)'); process.exit(1); }, 60000);
await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
const info = client.getServerVersion();
expect(info && typeof info.name === 'string', 'serverInfo.name');
expect(client.getServerCapabilities()?.tools !== undefined, 'tools capability');
const tools = [];
let cursor;
for (let page = 0; page < 1000; page++) {
  const r = await client.listTools(cursor ? { cursor } : {});
  tools.push(...r.tools);
  cursor = r.nextCursor;
  if (!cursor) break;
}
expect(tools.length > 0, 'at least one tool');
const names = new Set();
for (const t of tools) {
  expect(/^[A-Za-z0-9_.-]{1,128}$/.test(t.name), `${t.name}: name pattern`);
  expect(!names.has(t.name), `${t.name}: unique`);
  names.add(t.name);
  expect(t.inputSchema?.type === 'object', `${t.name}: inputSchema is an object schema`);
  if (t.outputSchema) expect(t.outputSchema.type === 'object', `${t.name}: outputSchema is an object schema`);
  for (const [k, v] of Object.entries(t.annotations ?? {}))
    if (k.endsWith('Hint')) expect(typeof v === 'boolean', `${t.name}: annotation ${k} is boolean`);
  for (const p of Object.keys(t.inputSchema?.properties ?? {}))
    expect(!/^(authorization|x-api-key|api[_-]?key|client[_-]?secret)$/i.test(p), `${t.name}: credential argument ${p}`);
}
await client.close();
clearTimeout(timer);
for (const p of problems) console.log(`not ok - ${p}`);
console.log(`# ${info?.name} ${info?.version}: ${tools.length} tools`);
console.log(`${checks - problems.length} passed, ${problems.length} failed`);
process.exit(problems.length ? 1 : 0);
