// tests/integration/lib/sdk.mjs
// The official MCP TypeScript SDK (@modelcontextprotocol/sdk 1.32.2) as installed by
// scripts/setup.sh in tests/node/node_modules, imported by path so the tests run from any
// working directory without a package.json of their own.
const SDK = '../../node/node_modules/@modelcontextprotocol/sdk/dist/esm';
export const { Client } = await import(`${SDK}/client/index.js`);
export const { StreamableHTTPClientTransport } = await import(`${SDK}/client/streamableHttp.js`);
export const { StdioClientTransport } = await import(`${SDK}/client/stdio.js`);
export const { SSEClientTransport } = await import(`${SDK}/client/sse.js`);
export const {
  McpError,
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  LATEST_PROTOCOL_VERSION,
} = await import(`${SDK}/types.js`);

/**
 * Wraps a transport so the client's initialize asks for `version` instead of the SDK's latest
 * (the SDK has no option for it). Everything else passes through unchanged.
 */
export function requestVersion(transport, version) {
  const send = transport.send.bind(transport);
  transport.send = (msg, opts) => {
    if (msg && msg.method === 'initialize' && msg.params) msg.params.protocolVersion = version;
    return send(msg, opts);
  };
  return transport;
}
