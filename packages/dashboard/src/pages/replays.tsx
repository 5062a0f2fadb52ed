// Replays: the list (newest first, by the API's cursor), one replay's summary and its records paged by
// offset, and a side-by-side diff of a changed record's answer, path by path.
import { useState } from 'preact/hooks';
import { api, type JsonChange, type Page, query, type Replay, type ReplayedRecord, type ReplaySummary } from '../api.js';
import { CursorPager, Loading, micros, number, Problem, time, useApi, useCursor } from '../ui.js';

const PAGE = 25;
const RESULTS = 50;

export function Replays({ version }: { version?: string | undefined }) {
  const cursor = useCursor();
  const { after } = cursor;
  const list = useApi(() => api<Page<ReplaySummary>>('GET', `v1/replays${query({ version, after, limit: PAGE })}`), [version, after]);
  return (
    <section aria-labelledby="replays-title">
      <h1 id="replays-title">Replays</h1>
      {version === undefined ? (
        <p>Start one from a version's page: the version runs on recorded runs, answered from their tapes.</p>
      ) : (
        <p>
          Of version <code>{version}</code> (<a href="#/replays">all replays</a>)
        </p>
      )}
      {list.error && <Problem error={list.error} />}
      {!list.data && !list.error && <Loading />}
      {list.data && list.data.items.length === 0 && cursor.page === 1 && <p>No replays yet.</p>}
      {list.data && list.data.items.length > 0 && (
        <table data-testid="replays">
          <thead>
            <tr>
              <th scope="col">replayed</th>
              <th scope="col">plug-in</th>
              <th scope="col">version</th>
              <th scope="col">records</th>
              <th scope="col">changed</th>
              <th scope="col">newly failing</th>
              <th scope="col">fixed</th>
              <th scope="col">not replayable</th>
              <th scope="col">fuel p99 ratio</th>
              <th scope="col">verdict</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={`#/replays/${r.id}`}>{time(r.createdAt)}</a>
                </td>
                <td>
                  <a href={`#/plugins/${r.plugin}`}>{r.plugin}</a>
                </td>
                <td>
                  <code>{r.version}</code>
                </td>
                <td>{number.format(r.totals.records)}</td>
                <td>{number.format(r.totals.changed)}</td>
                <td>{number.format(r.totals.newlyFailing)}</td>
                <td>{number.format(r.totals.fixed)}</td>
                <td>{number.format(r.totals.notReplayable)}</td>
                <td>{r.fuel.ratio.toFixed(2)}×</td>
                <td class={r.verdict.passed ? 'ok' : 'fail'}>{r.verdict.passed ? 'passed' : 'failed'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && <CursorPager cursor={cursor} next={list.data.next} label="replay pages" />}
    </section>
  );
}

export function ReplayPage({ id }: { id: string }) {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<ReplayedRecord>();
  const replay = useApi(() => api<Replay>('GET', `v1/replays/${encodeURIComponent(id)}${query({ offset, limit: RESULTS })}`), [id, offset]);
  if (replay.error) return <Problem error={replay.error} />;
  if (!replay.data) return <Loading />;
  const r = replay.data;
  return (
    <section aria-labelledby="replay-title">
      <h1 id="replay-title">
        Replay of <code>{r.version}</code>
      </h1>
      <p>
        <a href={`#/plugins/${r.plugin}`}>{r.plugin}</a> on {r.extensionPoint}, {time(r.createdAt)}, against{' '}
        {r.baseline === 'plugin' ? "the plug-in's other versions' records" : "the point's records (the plug-in had none)"}
      </p>
      <p data-testid="verdict" class={r.verdict.passed ? 'ok' : 'fail'}>
        {r.verdict.passed ? 'Passed the gate' : `Failed the gate: ${r.verdict.reasons.join('; ')}`}
      </p>
      <dl class="figures" data-testid="totals">
        {(
          [
            ['records', r.totals.records],
            ['same', r.totals.same],
            ['changed', r.totals.changed],
            ['newly failing', r.totals.newlyFailing],
            ['fixed', r.totals.fixed],
            ['not replayable', r.totals.notReplayable],
          ] as const
        ).map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{number.format(value)}</dd>
          </div>
        ))}
        <div>
          <dt>fuel p50 before → after</dt>
          <dd>
            {number.format(r.fuel.before.p50)} → {number.format(r.fuel.after.p50)}
          </dd>
        </div>
        <div>
          <dt>fuel p99 ratio, headroom</dt>
          <dd>
            {r.fuel.ratio.toFixed(2)}×, {(r.fuel.headroom * 100).toFixed(1)}%
          </dd>
        </div>
      </dl>
      {open && <Diff record={open} version={r.version} onClose={() => setOpen(undefined)} />}
      <h2>Records</h2>
      <table data-testid="replay-results">
        <thead>
          <tr>
            <th scope="col">record</th>
            <th scope="col">class</th>
            <th scope="col">before</th>
            <th scope="col">after</th>
            <th scope="col">fuel before → after</th>
            <th scope="col">duration</th>
          </tr>
        </thead>
        <tbody>
          {r.results.map((x) => (
            <tr key={x.record}>
              <td>
                <code>{x.record}</code>
                {x.tenant !== undefined && ` · ${x.tenant}`}
                {x.key ? ` · ${x.key}` : ''}
              </td>
              <td class={x.class === 'same' || x.class === 'fixed' ? 'ok' : 'fail'}>
                {x.class === 'same' ? (
                  'same'
                ) : (
                  <button type="button" class="link" onClick={() => setOpen(x)}>
                    {x.class}
                  </button>
                )}
              </td>
              <td>{outcome(x.before)}</td>
              <td>{x.after ? outcome(x.after) : '—'}</td>
              <td>
                {number.format(x.before.fuel)} → {x.after ? number.format(x.after.fuel) : '—'}
              </td>
              <td>{micros(x.durationUs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager" aria-label="record pages">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - RESULTS))}>
          Previous
        </button>
        <span>
          records {number.format(offset + 1)} to {number.format(offset + r.results.length)} of {number.format(r.totals.records)}
        </span>
        <button type="button" disabled={r.next === undefined} onClick={() => setOffset(r.next ?? offset)}>
          Next
        </button>
      </nav>
    </section>
  );
}

function outcome(side: { outcome: string; code: string | null }): string {
  return side.code ? `${side.outcome} ${side.code}` : side.outcome;
}

/**
 * Before and after side by side, one row per JSON Pointer path that differs (the report keeps the
 * differences, not whole answers). A partner's report has paths only: the values are tenants' data.
 */
function Diff({ record, version, onClose }: { record: ReplayedRecord; version: string; onClose: () => void }) {
  const changes: JsonChange[] = record.changes ?? [];
  const withValues = changes.some((c) => 'before' in c || 'after' in c);
  return (
    <aside class="card detail" aria-label="record diff" data-testid="diff">
      <h2>
        Record <code>{record.record}</code>: {record.class}
      </h2>{' '}
      <button type="button" onClick={onClose}>
        Close
      </button>
      {record.reason && <p>{record.reason}</p>}
      <table class="diff">
        <thead>
          <tr>
            <th scope="col">path</th>
            <th scope="col">
              before (<code>{record.before.version}</code>)
            </th>
            <th scope="col">
              after (<code>{version}</code>)
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">outcome</th>
            <td>{outcome(record.before)}</td>
            <td>{record.after ? outcome(record.after) : 'not replayed'}</td>
          </tr>
          {changes.map((c) => (
            <tr key={c.path}>
              <th scope="row">
                <code>{c.path === '' ? '(whole answer)' : c.path}</code>
              </th>
              <td class="removed">{withValues ? <Value present={'before' in c} value={c.before} /> : 'hidden'}</td>
              <td class="added">{withValues ? <Value present={'after' in c} value={c.after} /> : 'hidden'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!withValues && changes.length > 0 && <p>The values are tenants' data: partners see which paths changed, not what they held.</p>}
    </aside>
  );
}

function Value({ present, value }: { present: boolean; value: unknown }) {
  if (!present) return <em>absent</em>;
  return <pre>{JSON.stringify(value, null, 2)}</pre>;
}
