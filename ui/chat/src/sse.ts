// A reader of the server-sent events the chat API streams for a turn (text/event-stream over
// a fetch() body: EventSource cannot POST nor send the Authorization header). Pure and
// incremental: feed() takes decoded text in pieces of any size and returns the complete events.

export interface SseEvent {
  event: string;
  data: string;
}

export class SseReader {
  private buf = '';
  private name = '';
  private data: string[] = [];

  feed(text: string): SseEvent[] {
    this.buf += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buf);
      if (!m) break;
      // a lone CR at the very end may be the first half of CRLF: wait for more
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length) out.push({ event: this.name || 'message', data: this.data.join('\n') });
        this.name = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.name = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}
