import { describe, expect, test } from 'vitest';
import { SseReader } from './sse';
import { applyEvent, fromStored, waitingCall, decisionLabel, explainTool, argumentLines, type Item, type TurnEvent } from './model';

describe('SseReader', () => {
  test('events split anywhere, CRLF, comments, multi-line data', () => {
    const text = ': hi\r\nevent: text\r\ndata: {"delta":"a"}\r\n\r\nevent: done\ndata: 1\ndata: 2\n\n';
    for (const step of [1, 2, 5, 100]) {
      const r = new SseReader();
      const got = [];
      for (let i = 0; i < text.length; i += step) got.push(...r.feed(text.slice(i, i + step)));
      expect(got).toEqual([{ event: 'text', data: '{"delta":"a"}' }, { event: 'done', data: '1\n2' }]);
    }
  });
});

const ev = (event: string, data: unknown) => ({ event, data }) as TurnEvent;

describe('model', () => {
  test('a streamed turn with a confirmation', () => {
    let items: Item[] = [{ kind: 'user', text: 'book' }];
    for (const e of [
      ev('step', { step: 1 }), ev('text', { delta: 'Let me ' }), ev('text', { delta: 'look.' }),
      ev('tool_call', { id: 'a', name: 'resolve_vehicle', arguments: { registration_number: 'MH12AB1234' } }),
      ev('tool_result', { id: 'a', name: 'resolve_vehicle', decision: 'allowed', is_error: false, content: '{"model":"Swift"}' }),
      ev('step', { step: 2 }),
      ev('tool_call', { id: 'b', name: 'create_booking', arguments: { date: '2026-12-07' } }),
      ev('confirm', { id: 'b', name: 'create_booking', arguments: { date: '2026-12-07' }, message: 'Book?' }),
      ev('done', { state: 'awaiting_confirmation', steps: 2 }),
    ]) items = applyEvent(items, e);
    expect(items.length).toBe(3);
    expect(items[1]).toMatchObject({ kind: 'assistant', text: 'Let me look.', streaming: false });
    const w = waitingCall(items);
    expect(w?.id).toBe('b');
    expect(decisionLabel(w!)).toBe('Waiting for your confirmation');
    items = applyEvent(items, ev('confirm_answer', { id: 'b', accept: false }));
    items = applyEvent(items, ev('tool_result', { id: 'b', name: 'create_booking', decision: 'declined', is_error: true, content: 'declined' }));
    expect(waitingCall(items)).toBeNull();
    const t = (items[2] as Extract<Item, { kind: 'assistant' }>).tools[0];
    expect(decisionLabel(t)).toMatch(/declined/);
    expect(explainTool(t)).toMatch(/not carried out/);
  });

  test('errors replace the status line and empty answers disappear', () => {
    let items: Item[] = [];
    items = applyEvent(items, ev('step', { step: 1 }));
    items = applyEvent(items, ev('status', { message: 'busy' }));
    items = applyEvent(items, ev('error', { kind: 'rate_limited', message: 'wait', retry_after: 5 }));
    items = applyEvent(items, ev('done', { state: 'failed', steps: 1 }));
    expect(items).toEqual([{ kind: 'error', errorKind: 'rate_limited', message: 'wait', retryAfter: 5 }]);
  });

  test('stored conversations: results joined to calls, refusals explained, pending kept', () => {
    const items = fromStored([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'x', tool_calls: [{ id: 'a', name: 'create_booking', arguments: {} }, { id: 'b', name: 'get_dealer', arguments: {} }, { id: 'c', name: 'z', arguments: {} }] },
      { role: 'tool', tool_call_id: 'b', decision: 'denied', is_error: true, content: 'refused', error: { code: -32004, message: 'Policy refused', reason: 'not your dealer', hint: 'use yours' } },
      { role: 'event', kind: 'timeout', message: 'slow' },
    ], { calls: [{ id: 'a', name: 'create_booking', arguments: {}, state: 'waiting', prompt: 'Book?' }] });
    const a = items[1] as Extract<Item, { kind: 'assistant' }>;
    expect(a.tools[0]).toMatchObject({ status: 'waiting', prompt: 'Book?' });
    expect(explainTool(a.tools[1])).toBe('The gateway refused this call: not your dealer (hint: use yours)');
    expect(a.tools[2]).toMatchObject({ status: 'done', decision: 'error' });
    expect(items[2]).toMatchObject({ kind: 'error', errorKind: 'timeout' });
    expect(argumentLines({ dealer_id: 'X', n: 2 })).toEqual([['dealer id', 'X'], ['n', '2']]);
  });
});
