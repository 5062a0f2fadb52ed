import { useState } from 'preact/hooks';
import { api, type Import, type Page, query, type RunRecord, type Who } from '../api.js';
import { CursorPager, Json, Loading, micros, number, Problem, time, useApi, useCursor } from '../ui.js';

const FIELDS = ['extensionPoint', 'tenant', 'plugin', 'version'] as const;

export function Runs({ who }: { who: Who }) {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<Record<string, string>>({});
  const cursor = useCursor();
  const { after } = cursor;
  const runs = useApi(() => api<Page<RunRecord>>('GET', `v1/runs${query({ ...filter, after, limit: 50 })}`), [filter, after]);
  const [open, setOpen] = useState<RunRecord>();
  const fields = who.kind === 'operator' ? FIELDS : FIELDS.filter((f) => f !== 'tenant');
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
          cursor.reset();
        }}
      >
        {fields.map((f) => (
          <label key={f}>
            {f} <input value={draft[f] ?? ''} onInput={(e) => setDraft({ ...draft, [f]: (e.target as HTMLInputElement).value })} />
          </label>
        ))}
        <label>
          outcome{' '}
          <select value={draft.outcome ?? ''} onChange={(e) => setDraft({ ...draft, outcome: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="contained">contained</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {open && <RunDetail run={open} onClose={() => setOpen(undefined)} />}
      {runs.error && <Problem error={runs.error} />}
      {!runs.data && !runs.error && <Loading />}
      {runs.data && (
        <>
          <table data-testid="runs">
            <thead>
              <tr>
                <th scope="col">at</th>
                <th scope="col">extension point</th>
                {who.kind === 'operator' && <th scope="col">tenant</th>}
                <th scope="col">plug-in</th>
                <th scope="col">version</th>
                <th scope="col">outcome</th>
                <th scope="col">fuel / budget</th>
                <th scope="col">duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <button type="button" class="link" onClick={() => setOpen(r)}>
                      {time(r.at)}
                    </button>
                  </td>
                  <td>{r.extensionPoint}</td>
                  {who.kind === 'operator' && <td>{r.tenant}</td>}
                  <td>
                    <a href={`#/plugins/${r.plugin}`}>{r.plugin}</a>
                  </td>
                  <td>
                    <code>{r.version}</code>
                  </td>
                  <td class={r.outcome === 'ok' ? 'ok' : 'fail'}>{r.code ? `${r.outcome} ${r.code}` : r.outcome}</td>
                  <td>
                    {number.format(r.fuel)} / {number.format(r.budget)}
                  </td>
                  <td>{micros(r.durationUs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <CursorPager cursor={cursor} next={runs.data.next} label="run pages" />
        </>
      )}
    </section>
  );
}

function RunDetail({ run, onClose }: { run: RunRecord; onClose: () => void }) {
  return (
    <aside class="card detail" aria-label="run detail" data-testid="run-detail">
      <h2>
        Run <code>{run.id}</code>
      </h2>
      <button type="button" onClick={onClose}>
        Close
      </button>
      <ul>
        <li>installation {run.installation}</li>
        <li>
          outcome {run.outcome}
          {run.code ? ` ${run.code}` : ''}
          {run.message ? `: ${run.message}` : ''}
        </li>
        <li>
          fuel {number.format(run.fuel)} of {number.format(run.budget)}, {micros(run.durationUs)}
        </li>
        {run.tenant !== undefined && <li>tenant {run.tenant}</li>}
        {run.key !== undefined && run.key !== null && <li>key {run.key}</li>}
      </ul>
      {'input' in run ? (
        <div class="grid">
          <div>
            <h3>Input</h3>
            <Json value={run.input} label="run input" />
          </div>
          <div>
            <h3>Output</h3>
            <Json value={run.output} label="run output" />
          </div>
          <div>
            <h3>Config</h3>
            <Json value={run.config} label="run config" />
          </div>
          <div>
            <h3>Host calls</h3>
            <Imports imports={run.imports ?? []} />
          </div>
          <div>
            <h3>Logs</h3>
            <Logs logs={run.logs ?? { lines: [], dropped: 0 }} />
          </div>
        </div>
      ) : (
        <p>Tenants' data (input, output, config, host calls, logs) is the host's: partners see outcomes and costs only.</p>
      )}
    </aside>
  );
}

/** The plug-in's log lines in the run, as the record kept them (the first 50 lines or 8 KiB). */
function Logs({ logs }: { logs: NonNullable<RunRecord['logs']> }) {
  if (logs.lines.length === 0 && logs.dropped === 0) return <p>None: the plug-in logged nothing at the point's level.</p>;
  return (
    <>
      <pre data-label="run logs" data-testid="run-logs">
        {logs.lines.map((l) => `${l.level.padEnd(5)} ${l.message}`).join('\n')}
      </pre>
      {logs.dropped > 0 && <p>{number.format(logs.dropped)} more lines dropped</p>}
    </>
  );
}

/** A tape's bytes (base64) as text when they are text, else their size: enough to read what was asked and answered. */
function decode(base64: string): string {
  if (base64 === '') return '';
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return base64;
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return `${bytes.length} bytes`;
  }
}

/** A host function's argument as the tape holds it: `block:<base64>` for a pointer's bytes, else `<type>:<value>`. */
function argument(ask: string): string {
  return ask.startsWith('block:') ? decode(ask.slice(6)) : ask.slice(ask.indexOf(':') + 1);
}

/** The run's tape: every host call and HTTP exchange in order, as replay answers from it. */
function Imports({ imports }: { imports: Import[] }) {
  if (imports.length === 0) return <p>None: the run asked nothing outside the plug-in.</p>;
  return (
    <table data-testid="host-calls">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">call</th>
          <th scope="col">asked</th>
          <th scope="col">answered</th>
        </tr>
      </thead>
      <tbody>
        {imports.map((x, i) =>
          x.kind === 'host' ? (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>
                host function <code>{x.name}</code>
              </td>
              <td>
                <code>{x.ask.map(argument).join(', ')}</code>
              </td>
              <td>
                <code>{x.writes.map(decode).join(', ') || JSON.stringify(x.result)}</code>
              </td>
            </tr>
          ) : (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>
                <code>
                  {x.method} {x.url}
                </code>
              </td>
              <td>
                <code>{decode(x.body)}</code>
              </td>
              <td>
                <code>{x.result.kind === 'response' ? `${x.result.status} ${decode(String(x.result.body ?? ''))}` : x.result.kind}</code>
              </td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}
