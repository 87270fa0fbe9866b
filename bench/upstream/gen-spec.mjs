// bench/upstream/gen-spec.mjs — writes the spec of the tools/list point: N operations (default 1,000)
// on the benchmark upstream, each a GET with a path parameter, two query parameters and a
// described JSON response, so every tool has a realistic input schema (~0.6 KB of MCP JSON).
// Usage: node gen-spec.mjs OUT.json BASE_URL [N]. Output is JSON (a YAML superset), deterministic.
import { writeFileSync } from 'node:fs';

const [out, base, nArg] = process.argv.slice(2);
if (!out || !base) {
  console.error('usage: node gen-spec.mjs OUT.json BASE_URL [N]');
  process.exit(2);
}
const n = Number(nArg ?? 1000);
const nouns = ['account', 'order', 'invoice', 'vehicle', 'dealer', 'booking', 'part', 'customer',
  'ticket', 'report'];
const paths = {};
for (let i = 0; i < n; i++) {
  const noun = nouns[i % nouns.length];
  const id = String(i).padStart(4, '0');
  paths[`/items/${noun}${id}/{id}`] = {
    get: {
      operationId: `get${noun[0].toUpperCase()}${noun.slice(1)}${id}`,
      summary: `Get one ${noun} (variant ${id})`,
      description: `Returns the ${noun} with the given id, optionally with related records. ` +
        'Generated operation of the benchmark spec.',
      tags: [noun],
      parameters: [
        { name: 'id', in: 'path', required: true, description: `The ${noun} identifier`,
          schema: { type: 'string', maxLength: 64 } },
        { name: 'expand', in: 'query', description: 'Related records to include',
          schema: { type: 'string', enum: ['none', 'summary', 'full'] } },
        { name: 'limit', in: 'query', description: 'Maximum related records',
          schema: { type: 'integer', minimum: 1, maximum: 100 } },
      ],
      responses: {
        200: { description: `The ${noun}`,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
        404: { description: 'Not found' },
      },
    },
  };
}
const spec = {
  openapi: '3.0.3',
  info: { title: `Benchmark spec with ${n} operations`, version: '1.0.0' },
  servers: [{ url: base }],
  paths,
  components: { schemas: { Item: { type: 'object', required: ['id', 'name'], properties: {
    id: { type: 'integer' }, name: { type: 'string' }, price: { type: 'number' },
    in_stock: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } } } } },
};
writeFileSync(out, JSON.stringify(spec, null, 1));
