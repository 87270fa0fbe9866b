// bench/import/gen-large-spec.mjs — writes a large, Graph-like OpenAPI 3.0 spec for the import
// scale points (issue 15: 1k, 10k and 20k operations): resources nested two levels deep
// (/groups/{group-id}/members/{member-id}), each with list / get / create / update / delete and
// actions, OData-style query parameters ($select, $filter, $top, $skip, $orderby, $expand,
// $count), request bodies and 2xx responses referencing a pool of component schemas that
// reference each other (allOf inheritance, nested objects, arrays, enums, nullable fields), tags
// and multi-sentence descriptions. About 1.6 KB of spec per operation plus the schema pool,
// comparable to Microsoft Graph's v1.0 spec per operation. Deterministic (seeded PRNG).
// Usage: node gen-large-spec.mjs OUT.json [OPERATIONS=20000] [SCHEMAS=OPERATIONS/8]
import { writeFileSync } from 'node:fs';

const [out, nArg, sArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node gen-large-spec.mjs OUT.json [OPERATIONS] [SCHEMAS]');
  process.exit(2);
}
const N = Number(nArg ?? 20000);
const S = Number(sArg ?? Math.max(20, Math.floor(N / 8)));
let seed = 20261206;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (a) => a[Math.floor(rnd() * a.length)];

const words = ['account', 'agreement', 'alert', 'application', 'appointment', 'assignment',
  'attachment', 'audit', 'booking', 'calendar', 'campaign', 'catalog', 'certificate', 'channel',
  'chat', 'claim', 'contact', 'contract', 'conversation', 'dealer', 'delivery', 'device',
  'directory', 'document', 'domain', 'drive', 'event', 'folder', 'group', 'identity', 'incident',
  'invoice', 'item', 'job', 'license', 'list', 'location', 'mailbox', 'meeting', 'member',
  'message', 'notebook', 'order', 'organization', 'page', 'part', 'payment', 'permission',
  'photo', 'place', 'plan', 'policy', 'presence', 'printer', 'profile', 'project', 'quote',
  'report', 'request', 'reservation', 'resource', 'review', 'role', 'room', 'schedule',
  'section', 'service', 'session', 'setting', 'shift', 'site', 'subscription', 'task', 'team',
  'template', 'ticket', 'token', 'user', 'vehicle', 'vendor', 'warranty', 'workbook'];
const adjectives = ['active', 'archived', 'default', 'external', 'managed', 'pending', 'primary',
  'scheduled', 'shared', 'synced'];
const cap = (s) => s[0].toUpperCase() + s.slice(1);
const sentence = (noun) => `${cap(pick(adjectives))} ${noun} records are returned in pages of ` +
  `at most ${10 + Math.floor(rnd() * 990)} items. Use $filter to narrow the result and ` +
  `$select to choose properties. Requires the ${noun}.Read permission.`;

// the schema pool: microsoft.graph.<name>, each inheriting from a base entity, a few
// referencing other pool schemas
const schemas = {
  'microsoft.graph.entity': { type: 'object', properties: {
    id: { type: 'string', description: 'The unique identifier for an entity. Read-only.' } } },
  'microsoft.graph.ODataError': { type: 'object', required: ['error'], properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' },
      target: { type: 'string', nullable: true } } } } },
};
const names = [];
for (let i = 0; i < S; i++) {
  const noun = words[i % words.length];
  const name = `microsoft.graph.${noun}${i >= words.length ? Math.floor(i / words.length) : ''}`;
  names.push(name);
}
names.forEach((name, i) => {
  const props = {};
  const np = 6 + Math.floor(rnd() * 14);
  for (let k = 0; k < np; k++) {
    const pn = `${pick(adjectives)}${cap(pick(words))}${k}`;
    const r = rnd();
    if (r < 0.35) props[pn] = { type: 'string', nullable: rnd() < 0.5, description: `The ${pn}.` };
    else if (r < 0.5) props[pn] = { type: 'integer', format: 'int32', minimum: 0 };
    else if (r < 0.6) props[pn] = { type: 'string', format: 'date-time', nullable: true };
    else if (r < 0.7) props[pn] = { type: 'boolean' };
    else if (r < 0.78) props[pn] = { type: 'string', enum: adjectives.slice(0, 3 + (k % 7)) };
    else if (r < 0.9 && i > 0) props[pn] = { $ref: `#/components/schemas/${names[Math.floor(rnd() * i)]}` };
    else if (i > 0) props[pn] = { type: 'array', items: { $ref: `#/components/schemas/${names[Math.floor(rnd() * i)]}` } };
    else props[pn] = { type: 'number', format: 'double' };
  }
  schemas[name] = { allOf: [{ $ref: '#/components/schemas/microsoft.graph.entity' },
    { title: name.slice(16), type: 'object', properties: props,
      description: `Represents a ${name.slice(16)} in the directory.` }] };
  schemas[`${name}Collection`] = { title: `Collection of ${name.slice(16)}`, type: 'object',
    properties: { value: { type: 'array', items: { $ref: `#/components/schemas/${name}` } },
      '@odata.nextLink': { type: 'string', nullable: true } } };
});

const odata = [
  { name: '$top', in: 'query', description: 'Show only the first n items', schema: { type: 'integer', minimum: 0 } },
  { name: '$skip', in: 'query', description: 'Skip the first n items', schema: { type: 'integer', minimum: 0 } },
  { name: '$filter', in: 'query', description: 'Filter items by property values', schema: { type: 'string' } },
  { name: '$count', in: 'query', description: 'Include count of items', schema: { type: 'boolean' } },
  { name: '$orderby', in: 'query', description: 'Order items by property values', explode: false,
    schema: { type: 'array', uniqueItems: true, items: { type: 'string' } } },
  { name: '$select', in: 'query', description: 'Select properties to be returned', explode: false,
    schema: { type: 'array', uniqueItems: true, items: { type: 'string' } } },
  { name: '$expand', in: 'query', description: 'Expand related entities', explode: false,
    schema: { type: 'array', uniqueItems: true, items: { type: 'string' } } },
];
const errors = { '4XX': { $ref: '#/components/responses/error' }, '5XX': { $ref: '#/components/responses/error' } };
const ref = (n) => ({ $ref: `#/components/schemas/${n}` });
const body = (n) => ({ description: 'New property values', required: true,
  content: { 'application/json': { schema: ref(n) } } });
const ok = (n, code = '200') => ({ [code]: { description: 'Success',
  content: { 'application/json': { schema: ref(n) } } }, ...errors });

const paths = {};
let ops = 0;
const add = (path, method, op) => {
  if (ops >= N) return;
  paths[path] = paths[path] || {};
  paths[path][method] = op;
  ops++;
};
for (let r = 0; ops < N; r++) {
  const parent = names[r % names.length];
  const child = names[(r * 7 + 3) % names.length];
  const pn = parent.slice(16), cn = child.slice(16);
  const pseg = `${pn}s${r >= names.length ? Math.floor(r / names.length) : ''}`;
  const pid = { name: `${pn}-id`, in: 'path', required: true, description: `The unique identifier of ${pn}`, schema: { type: 'string' } };
  const cid = { name: `${cn}-id`, in: 'path', required: true, description: `The unique identifier of ${cn}`, schema: { type: 'string' } };
  const tag = `${pseg}.${cn}`;
  const base = `/${pseg}`, item = `${base}/{${pn}-id}`, sub = `${item}/${cn}s`, subItem = `${sub}/{${cn}-id}`;
  add(base, 'get', { tags: [pseg], summary: `List ${pn}s`, description: sentence(pn),
    operationId: `${pseg}.List${cap(pn)}`, parameters: odata, responses: ok(`${parent}Collection`) });
  add(base, 'post', { tags: [pseg], summary: `Create ${pn}`, description: `Create a new ${pn} object.`,
    operationId: `${pseg}.Create${cap(pn)}`, requestBody: body(parent), responses: ok(parent, '201') });
  add(item, 'get', { tags: [pseg], summary: `Get ${pn}`, description: sentence(pn),
    operationId: `${pseg}.Get${cap(pn)}`, parameters: [pid, odata[5], odata[6]], responses: ok(parent) });
  add(item, 'patch', { tags: [pseg], summary: `Update ${pn}`, description: `Update the properties of a ${pn} object.`,
    operationId: `${pseg}.Update${cap(pn)}`, parameters: [pid], requestBody: body(parent), responses: { 204: { description: 'Success' }, ...errors } });
  add(item, 'delete', { tags: [pseg], summary: `Delete ${pn}`, description: `Delete a ${pn} object. This cannot be undone.`,
    operationId: `${pseg}.Delete${cap(pn)}`, parameters: [pid, { name: 'If-Match', in: 'header', description: 'ETag', schema: { type: 'string' } }],
    responses: { 204: { description: 'Success' }, ...errors } });
  add(sub, 'get', { tags: [tag], summary: `List ${cn}s of a ${pn}`, description: sentence(cn),
    operationId: `${pseg}.${cap(pn)}.List${cap(cn)}s`, parameters: [pid, ...odata], responses: ok(`${child}Collection`) });
  add(sub, 'post', { tags: [tag], summary: `Add ${cn} to a ${pn}`, description: `Add a ${cn} to the ${pn}.`,
    operationId: `${pseg}.${cap(pn)}.Create${cap(cn)}`, parameters: [pid], requestBody: body(child), responses: ok(child, '201') });
  add(subItem, 'get', { tags: [tag], summary: `Get ${cn} of a ${pn}`, description: sentence(cn),
    operationId: `${pseg}.${cap(pn)}.Get${cap(cn)}`, parameters: [pid, cid, odata[5]], responses: ok(child) });
  add(subItem, 'delete', { tags: [tag], summary: `Remove ${cn} from a ${pn}`, description: `Remove the ${cn} from the ${pn}.`,
    operationId: `${pseg}.${cap(pn)}.Delete${cap(cn)}`, parameters: [pid, cid], responses: { 204: { description: 'Success' }, ...errors } });
  add(`${item}/${cn}s/$count`, 'get', { tags: [tag], summary: `Count ${cn}s`, description: `Get the number of ${cn}s.`,
    operationId: `${pseg}.${cap(pn)}.${cap(cn)}s.GetCount`, parameters: [pid, odata[2]],
    responses: { 200: { description: 'The count', content: { 'text/plain': { schema: { type: 'integer' } } } }, ...errors } });
}
const spec = {
  openapi: '3.0.4',
  info: { title: `Large generated API (${N} operations)`, version: 'v1.0' },
  servers: [{ url: 'https://graph.example.com/v1.0' }],
  paths,
  components: {
    schemas,
    responses: { error: { description: 'error', content: { 'application/json': { schema: ref('microsoft.graph.ODataError') } } } },
    securitySchemes: { azureaadv2: { type: 'oauth2', flows: { authorizationCode: {
      authorizationUrl: 'https://login.example.com/common/oauth2/v2.0/authorize',
      tokenUrl: 'https://login.example.com/common/oauth2/v2.0/token', scopes: {} } } } },
  },
  security: [{ azureaadv2: [] }],
};
writeFileSync(out, JSON.stringify(spec));
console.error(`${out}: ${ops} operations, ${Object.keys(schemas).length} schemas`);
