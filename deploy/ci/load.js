// deploy/ci/load.js — k6 load test of the staging gateway (seed §4 stage 5: 100 RPS for 5
// minutes): a constant arrival rate of MCP requests (tools/list and a read-only tools/call on a
// session per virtual user); fails the stage when p99 > 1 s or more than 1 % of requests fail.
//   k6 run --env BASE_URL=https://mcp.staging.msil.example --env MCP_TOKEN=<API key> deploy/ci/load.js
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL;
const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
  'MCP-Protocol-Version': '2025-11-25', Authorization: `Bearer ${__ENV.MCP_TOKEN}` };

export const options = {
  scenarios: {
    steady: { executor: 'constant-arrival-rate', rate: 100, timeUnit: '1s', duration: '5m',
      preAllocatedVUs: 50, maxVUs: 200 },
  },
  thresholds: { http_req_failed: ['rate<0.01'], http_req_duration: ['p(99)<1000'] },
};

export function setup() {
  const r = http.post(`${BASE}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'k6', version: '1' } } }),
  { headers: HEADERS });
  return { session: r.headers['Mcp-Session-Id'] };
}

export default function (data) {
  const headers = { ...HEADERS, 'Mcp-Session-Id': data.session };
  const body = __ITER % 2 === 0
    ? { jsonrpc: '2.0', id: __ITER, method: 'tools/list', params: {} }
    : { jsonrpc: '2.0', id: __ITER, method: 'tools/call',
      params: { name: 'resolve_vehicle', arguments: { registration_number: 'MH12AB1234' } } };
  const r = http.post(`${BASE}/mcp`, JSON.stringify(body), { headers });
  check(r, { 'status 200': (x) => x.status === 200, 'no JSON-RPC error': (x) => !String(x.body).includes('"error"') });
}
