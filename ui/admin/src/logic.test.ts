// Unit tests of the console's pure logic (vitest): URL building, API-key shape, the line of a
// parser error, chart scale, relative times.
import { describe, expect, test } from 'vitest';
import { buildUrl, ApiError } from './api';
import { looksLikeApiKey } from './auth';
import { diffByTool, errorLine } from './pages/Import';
import { niceMax } from './components/chart';
import { relTime } from './components/ui';
import { buildRule, PRINCIPAL_SELECTORS, Rule, selectors, selectorText, TOOL_SELECTORS } from './governance';
import { testBody } from './pages/Policies';
import { rateText, refusals } from './pages/Limits';

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

describe('governance rules', () => {
  test('a rule from the add-rule form: selectors split, id normalised, dry run', () => {
    expect(buildRule({ id: ' Advisors See Booking! ', effect: 'allow', who: 'roles', whoValues: 'a, b,,', what: 'bundles', whatValues: 'service-booking', dryRun: true }))
      .toEqual({ id: 'advisors-see-booking', effect: 'allow', roles: ['a', 'b'], bundles: ['service-booking'], mode: 'dry_run' });
    expect(buildRule({ id: 'all', effect: 'deny', who: '', whoValues: 'ignored', what: '', whatValues: '', dryRun: false }))
      .toEqual({ id: 'all', effect: 'deny' });
  });
  test('selectors describe a rule; none means everyone / all tools', () => {
    const r: Rule = { id: 'x', effect: 'allow', roles: ['dealer'], subjects: [], tools: ['a', 'b'] };
    expect(selectors(r, PRINCIPAL_SELECTORS)).toEqual([{ sel: 'roles', values: ['dealer'] }]);
    expect(selectors(r, TOOL_SELECTORS).map(({ sel, values }) => selectorText(sel, values))).toEqual(['tools a, b']);
    expect(selectors({ id: 'y', effect: 'deny' }, TOOL_SELECTORS)).toEqual([]);
  });
  test('the policy tester body; bad JSON is a message, not a request', () => {
    const base = { subject: '', roles: 'dealer', clientId: ' app ', tenant: '', claims: '{"dealer_ids":["D1"]}', tool: ' get_dealer ', args: '' };
    expect(testBody(base)).toEqual({ principal: { subject: 'tester', roles: ['dealer'], client_id: 'app', tenant: '', claims: { dealer_ids: ['D1'] } }, tool: 'get_dealer', arguments: {} });
    expect(() => testBody({ ...base, claims: '[1]' })).toThrow('The claims are not a JSON object.');
    expect(() => testBody({ ...base, args: '{x' })).toThrow('The arguments are not a JSON object.');
  });
});

describe('rate limits', () => {
  test('a rate in words', () => {
    expect(rateText(60, 60)).toBe('60 per 1 min');
    expect(rateText(10, 3600)).toBe('10 per 1 h');
    expect(rateText(5, 30)).toBe('5 per 30 s');
    expect(rateText(1000, 172800)).toBe('1,000 per 2 day');
  });
  test('refusals by a rate limit, grouped by caller, tool and rule; other denials ignored', () => {
    const rl = (id: string, time: string, subject: string, rule: string) => ({ id, time, subject, tool: 'get_dealer', reasons: [], event: { decisions: [{ handler: 'authorize', verdict: 'allow' }, { handler: 'ratelimit', verdict: 'deny', rule_id: rule }] } });
    const policy = { id: '9', time: '2026-12-06T10:00:09Z', subject: 'a', tool: 'get_dealer', reasons: [], event: { decisions: [{ handler: 'authorize', verdict: 'deny', rule_id: 'p' }] } };
    expect(refusals([rl('1', '2026-12-06T10:00:01Z', 'a', 'r1'), rl('2', '2026-12-06T10:00:05Z', 'a', 'r1'), rl('3', '2026-12-06T10:00:03Z', 'b', 'r1'), policy])).toEqual([
      { subject: 'a', tool: 'get_dealer', rule: 'r1', count: 2, last: '2026-12-06T10:00:05Z' },
      { subject: 'b', tool: 'get_dealer', rule: 'r1', count: 1, last: '2026-12-06T10:00:03Z' },
    ]);
  });
});

describe('relTime', () => {
  test('past and future times', () => {
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    expect(relTime(at(-10))).toBe('just now');
    expect(relTime(at(10))).toBe('just now');
    expect(relTime(at(-600))).toBe('10 min ago');
    expect(relTime(at(900))).toBe('in 15 min');
    expect(relTime(at(7200))).toBe('in 2 h');
    expect(relTime(at(-3 * 86400))).toBe('3 d ago');
    expect(relTime(at(2 * 86400))).toBe('in 2 d');
    expect(relTime(null)).toBe('—');
  });
});

describe('diffByTool', () => {
  test('the registry view of previewed tools, by the names the preview computed', () => {
    const m = diffByTool({ added: ['create_customer', 'customer_service_create_booking'], changed: ['get_pin'], removed: [], renamed: [], unchanged: 1, dryRun: true,
      conflicts: [{ name: 'customer_service_create_booking', wanted: 'create_booking', takenBy: 'create_booking' }],
      nameKept: [{ name: 'old_lookup', computed: 'lookup_customer' }] });
    expect(m.get('create_customer')).toEqual({ kind: 'new' });
    expect(m.get('create_booking')).toEqual({ kind: 'new', storedAs: 'customer_service_create_booking', takenBy: 'create_booking' });
    expect(m.get('get_pin')).toEqual({ kind: 'changed' });
    expect(m.get('lookup_customer')).toEqual({ kind: 'same', storedAs: 'old_lookup' });
    expect(m.get('anything_else')).toBeUndefined();
    expect(diffByTool(null).size).toBe(0);
  });
});
