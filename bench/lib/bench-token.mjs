// bench/lib/bench-token.mjs — the benchmark's identity provider, reduced to what the gateway
// checks: an RS256 key set and one access token signed with it (issuer https://idp.bench,
// audience https://gw.bench/mcp, role "bench", valid for a day). bench/run.sh and
// bench/callgrind.sh serve the key set from the upstream nginx and send the token with every
// request: the gateway verifies its signature once, then hits its verified-token cache, which is
// what a real client's repeated calls cost.
// Usage: node bench-token.mjs JWKS_OUT TOKEN_OUT
import { generateKeyPairSync, createSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [jwksOut, tokenOut] = process.argv.slice(2);
if (!jwksOut || !tokenOut) {
  console.error('usage: node bench-token.mjs JWKS_OUT TOKEN_OUT');
  process.exit(2);
}
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };
writeFileSync(jwksOut, JSON.stringify({ keys: [jwk] }));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const input = `${b64({ alg: 'RS256', kid: 'bench', typ: 'at+jwt' })}.${b64({
  iss: 'https://idp.bench', aud: 'https://gw.bench/mcp', sub: 'bench-user', azp: 'bench-client',
  roles: ['bench'], scope: 'mcp:tools', iat: now, exp: now + 86400 })}`;
writeFileSync(tokenOut, `${input}.${createSign('sha256').update(input).sign(privateKey).toString('base64url')}`);
