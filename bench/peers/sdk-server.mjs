// bench/peers/sdk-server.mjs — the "minimal server on the official TypeScript SDK" peer.
//
// What a team would write in an afternoon with @modelcontextprotocol/sdk: read an OpenAPI spec,
// expose each operation as a tool (named by its operationId, as the gateway names them; input
// schema from the parameters),
// and answer `tools/call` by calling the REST API with fetch (undici, keep-alive). It runs the
// SDK's documented stateless Streamable HTTP pattern (a fresh Server + transport per request,
// JSON responses), which needs no session, so wrk can load it like the gateway.
// It does no validation, auth or audit beyond what the SDK does: it is a lower bound for a Node
// OpenAPI-to-MCP server, not a product.
//
// Usage: node sdk-server.mjs SPEC PORT   (listens on 127.0.0.1 only; prints "listening PORT")
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { parse } from 'yaml';

const [specPath, portArg] = process.argv.slice(2);
const spec = parse(readFileSync(specPath, 'utf8'));
const base = spec.servers[0].url.replace(/\/$/, '');

/* name -> {tool, method, path, params} from every operation of the spec. */
const ops = new Map();
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!op.operationId) continue;
    const properties = {};
    const required = [];
    for (const p of op.parameters || []) {
      properties[p.name] = { ...(p.schema || {}), description: p.description };
      if (p.required) required.push(p.name);
    }
    const name = op.operationId; // as the gateway names tools
    ops.set(name, { method: method.toUpperCase(), path, params: op.parameters || [],
      tool: { name, description: op.description || op.summary || name,
        inputSchema: { type: 'object', properties, required } } });
  }
}
const toolList = [...ops.values()].map((o) => o.tool);

async function callTool(name, args = {}) {
  const op = ops.get(name);
  if (!op) return { content: [{ type: 'text', text: `unknown tool ${name}` }], isError: true };
  let path = op.path;
  const query = new URLSearchParams();
  for (const p of op.params) {
    const v = args[p.name];
    if (v === undefined) continue;
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
    else if (p.in === 'query') query.set(p.name, String(v));
  }
  const qs = query.toString();
  const res = await fetch(`${base}${path}${qs ? `?${qs}` : ''}`, { method: op.method });
  const text = await res.text();
  return { content: [{ type: 'text', text }], isError: !res.ok };
}

function newServer() {
  const server = new Server({ name: 'sdk-minimal', version: '1.0.0' },
    { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList }));
  server.setRequestHandler(CallToolRequestSchema, async (req) =>
    callTool(req.params.name, req.params.arguments));
  return server;
}

const httpServer = http.createServer(async (req, res) => {
  if (req.url !== '/mcp' || req.method !== 'POST') {
    res.writeHead(req.url === '/health' ? 200 : 405).end();
    return;
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    res.writeHead(400).end();
    return;
  }
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined,
    enableJsonResponse: true });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});
httpServer.keepAliveTimeout = 75000;
httpServer.listen(Number(portArg), '127.0.0.1', () => {
  console.log(`listening ${httpServer.address().port}`);
});
