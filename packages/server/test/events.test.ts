import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPERATOR_KEY, refusal, type World, world } from './world.js';

interface StreamedEvent {
  id: string;
  event: string;
  data: { type: string; partnerId: string | null; subject: string };
}

/** Read server-sent events from a real socket until `until` says stop, then disconnect. */
async function readStream(
  base: string,
  key: string,
  until: (events: StreamedEvent[]) => boolean,
  query = '',
  onOpen?: () => Promise<void>,
  headers: Record<string, string> = {},
) {
  const controller = new AbortController();
  const response = await fetch(`${base}/v1/events/stream${query}`, {
    headers: { authorization: `Bearer ${key}`, ...headers },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: StreamedEvent[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = response.body!.getReader();
  let opened = false;
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end = buffered.indexOf('\n\n');
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
        );
        if (fields.data !== undefined) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
        end = buffered.indexOf('\n\n');
      }
      if (!opened && onOpen !== undefined) {
        opened = true;
        await onOpen();
      }
    }
  } finally {
    controller.abort();
  }
  return events;
}

describe('events', () => {
  let w: World;
  let base: string;
  before(async () => {
    w = await world();
    base = await w.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => w.close());

  it('GET /v1/events pages by cursor, oldest first', async () => {
    const first = await w.call({ method: 'GET', url: '/v1/events?limit=2' });
    assert.equal(first.statusCode, 200);
    const page = first.json() as { items: { cursor: string; type: string }[]; next?: string };
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0]!.type, 'extension-point.defined');
    assert.ok(page.next !== undefined);
    const second = (await w.call({ method: 'GET', url: `/v1/events?after=${page.next}&limit=2` })).json() as typeof page;
    assert.ok(Number(second.items[0]!.cursor) > Number(page.items[1]!.cursor));
  });

  it('a partner reads only events about its own things', async () => {
    const all = (await w.call({ method: 'GET', url: '/v1/events?limit=1000' }, w.bob.key)).json() as {
      items: { partnerId: string | null }[];
    };
    assert.ok(all.items.length > 0);
    for (const event of all.items) assert.equal(event.partnerId, w.bob.id);
  });

  it('a bad cursor is 400 INVALID that names the parameter', async () => {
    const response = await w.call({ method: 'GET', url: '/v1/events?after=abc' });
    assert.equal(response.statusCode, 400);
    assert.match(refusal(response).message, /after/);
  });

  it('the stream sends the backlog after the cursor, then each new event as it is committed', async () => {
    const backlog = (await w.call({ method: 'GET', url: '/v1/events?limit=1000' })).json() as { items: { cursor: string }[] };
    const last = backlog.items.at(-1)!.cursor;
    const events = await readStream(
      base,
      OPERATOR_KEY,
      (got) => got.some((e) => e.event === 'partner.created' && e.data.subject !== w.alice.id && e.data.subject !== w.bob.id),
      `?after=${backlog.items.at(-2)!.cursor}`,
      async () => {
        const created = await w.call({ method: 'POST', url: '/v1/partners', payload: { name: 'dora' } });
        assert.equal(created.statusCode, 201);
      },
    );
    assert.equal(events[0]!.id, last, 'the backlog starts right after the cursor');
    assert.equal(events.at(-1)!.event, 'partner.created');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'no event twice');
  });

  it("a partner's stream carries only its own events", async () => {
    const events = await readStream(
      base,
      w.bob.key,
      (got) => got.filter((e) => e.event === 'plugin.created').length >= 2,
      '',
      async () => {
        // Alice's new plug-in first: had it leaked, it would arrive before Bob's.
        await w.call({ method: 'POST', url: '/v1/plugins', payload: { name: 'alice-two', extensionPoint: 'text.vowels' } }, w.alice.key);
        await w.call({ method: 'POST', url: '/v1/plugins', payload: { name: 'bob-two', extensionPoint: 'text.vowels' } }, w.bob.key);
      },
    );
    for (const event of events) assert.equal(event.data.partnerId, w.bob.id);
  });

  it('a reconnecting client resumes after its Last-Event-ID', async () => {
    const backlog = (await w.call({ method: 'GET', url: '/v1/events?limit=1000' })).json() as { items: { cursor: string }[] };
    const events = await readStream(base, OPERATOR_KEY, (got) => got.length >= 2, '', undefined, {
      'last-event-id': backlog.items.at(-3)!.cursor,
    });
    assert.deepEqual(
      events.map((e) => e.id),
      backlog.items.slice(-2).map((e) => e.cursor),
    );
  });

  it('the stream refuses a bad cursor with 400 before it starts', async () => {
    const response = await fetch(`${base}/v1/events/stream?after=nope`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /after/);
  });

  it('the stream refuses a request without a key with 401', async () => {
    const response = await fetch(`${base}/v1/events/stream`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  });
});
