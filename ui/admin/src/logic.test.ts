// Unit tests of the console's pure logic (vitest): URL building, API-key shape, the line of a
// parser error, chart scale.
import { describe, expect, test } from 'vitest';
import { buildUrl, ApiError } from './api';
import { looksLikeApiKey } from './auth';
import { errorLine } from './pages/Import';
import { niceMax } from './components/chart';

describe('buildUrl', () => {
  test('drops empty parameters and encodes values', () => {
    expect(buildUrl('/tools', { status: 'active', after: null, bundle: '', limit: 10 })).toBe('/admin/api/tools?status=active&limit=10');
    expect(buildUrl('/tools', { q: 'a b&c' })).toBe('/admin/api/tools?q=a+b%26c');
    expect(buildUrl('/health')).toBe('/admin/api/health');
  });
});

describe('ApiError', () => {
  test('notAvailable only for a missing endpoint, not a missing resource', () => {
    expect(new ApiError(404, 'not_found', 'no such admin endpoint').notAvailable).toBe(true);
    expect(new ApiError(404, 'not_found', 'tool x not found').notAvailable).toBe(false);
    expect(new ApiError(403, 'forbidden', 'no such admin endpoint').notAvailable).toBe(false);
  });
});

describe('looksLikeApiKey', () => {
  test('accepts the gateway key format only', () => {
    expect(looksLikeApiKey('mcpgw_0123456789abcdefABCD')).toBe(true);
    expect(looksLikeApiKey('  mcpgw_0123456789abcdefABCD \n')).toBe(true);
    expect(looksLikeApiKey('mcpgw_short')).toBe(false);
    expect(looksLikeApiKey('eyJhbGciOiJSUzI1NiJ9.x.y')).toBe(false);
    expect(looksLikeApiKey('mcpgw_0123456789abcdef<script>')).toBe(false);
  });
});

describe('errorLine', () => {
  test('finds the line in parser messages', () => {
    expect(errorLine('YAML syntax error at line 12, column 5: did not find expected node')).toBe(12);
    expect(errorLine('invalid JSON at 7:3')).toBe(7);
    expect(errorLine('not a spec: no openapi or swagger field')).toBe(null);
  });
});

describe('niceMax', () => {
  test('rounds up to 1, 2, 2.5, 5 steps', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(180)).toBe(200);
    expect(niceMax(2400)).toBe(2500);
  });
});
