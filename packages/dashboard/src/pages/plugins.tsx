import { useState } from 'preact/hooks';
import { api, type Plugin, type Replay, type Report, type Version } from '../api.js';
import { Loading, number, Paged, Problem, time, useApi } from '../ui.js';

export function Plugins() {
  const plugins = useApi(() => api<Plugin[]>('GET', 'v1/plugins'), []);
  if (plugins.error) return <Problem error={plugins.error} />;
  if (!plugins.data) return <Loading />;
  return (
    <section aria-labelledby="plugins-title">
      <h1 id="plugins-title">Plug-ins</h1>
      {plugins.data.length === 0 && <p>No plug-ins yet.</p>}
      <Paged items={plugins.data}>
        {(page) => (
          <table data-testid="plugins">
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">extension point</th>
                <th scope="col">partner</th>
                <th scope="col">created</th>
              </tr>
            </thead>
            <tbody>
              {page.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={`#/plugins/${p.id}`}>{p.name}</a>
                  </td>
                  <td>{p.extensionPoint}</td>
                  <td>{p.partnerId}</td>
                  <td>{time(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Paged>
    </section>
  );
}

export function PluginPage({ id }: { id: string }) {
  const plugin = useApi(() => api<Plugin>('GET', `v1/plugins/${encodeURIComponent(id)}`), [id]);
  const versions = useApi(() => api<Version[]>('GET', `v1/plugins/${encodeURIComponent(id)}/versions`), [id]);
  if (plugin.error) return <Problem error={plugin.error} />;
  if (!plugin.data) return <Loading />;
  return (
    <section aria-labelledby="plugin-title">
      <h1 id="plugin-title">Plug-in {plugin.data.name}</h1>
      <p>
        <code>{plugin.data.id}</code> on <a href="#/points">{plugin.data.extensionPoint}</a>, partner <code>{plugin.data.partnerId}</code>
      </p>
      <Upload plugin={id} onDone={versions.reload} />
      <h2>Versions</h2>
      {versions.error && <Problem error={versions.error} />}
      {versions.data && (
        <Paged items={[...versions.data].reverse()} size={10}>
          {(page) => page.map((v) => <VersionView key={v.id} version={v} />)}
        </Paged>
      )}
    </section>
  );
}

function Upload({ plugin, onDone }: { plugin: string; onDone: () => void }) {
  const [state, setState] = useState<{ busy?: boolean; version?: Version; error?: Error }>({});
  const [over, setOver] = useState(false);
  const send = (file: File | undefined) => {
    if (file === undefined) return;
    setState({ busy: true });
    api<Version>('POST', `v1/plugins/${encodeURIComponent(plugin)}/versions`, file, 'application/wasm').then(
      (version) => {
        setState({ version });
        onDone();
      },
      (error: Error) => setState({ error }),
    );
  };
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: dropping is the pointer's shortcut; the file input inside is the keyboard's way
    <div
      class={over ? 'drop over' : 'drop'}
      data-testid="drop"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        send(e.dataTransfer?.files[0]);
      }}
    >
      <label>
        Upload a version: drop a <code>.wasm</code> here or choose one{' '}
        <input type="file" accept=".wasm,application/wasm" onChange={(e) => send((e.target as HTMLInputElement).files?.[0])} />
      </label>
      {state.busy && <p aria-busy="true">Validating…</p>}
      {state.error && <Problem error={state.error} />}
      {state.version && (
        <div data-testid="upload-report" role="status">
          <VersionView version={state.version} />
        </div>
      )}
    </div>
  );
}

function VersionView({ version }: { version: Version }) {
  return (
    <article class="card">
      <h3>
        <code>{version.id}</code> <span class={`status ${version.status}`}>{version.status}</span>
      </h3>
      <p>
        sha256 <code>{version.sha256.slice(0, 16)}…</code>, {number.format(version.size)} bytes, uploaded {time(version.createdAt)}, checked
        in {version.report.durationMs.toFixed(1)} ms
      </p>
      <ReportView report={version.report} />
      {version.status === 'validated' && <StartReplay version={version.id} />}
    </article>
  );
}

/** Replays the version on recorded runs, then opens the replay. */
function StartReplay({ version }: { version: string }) {
  const [state, setState] = useState<{ busy?: boolean; error?: Error }>({});
  return (
    <p>
      <button
        type="button"
        disabled={state.busy}
        onClick={() => {
          setState({ busy: true });
          api<Replay>('POST', 'v1/replays', { version }).then(
            (replay) => {
              location.hash = `#/replays/${replay.id}`;
            },
            (error: Error) => setState({ error }),
          );
        }}
      >
        Replay on recorded runs
      </button>{' '}
      <a href={`#/replays?version=${encodeURIComponent(version)}`}>this version's replays</a>
      {state.busy && <span aria-busy="true"> Replaying…</span>}
      {state.error && <Problem error={state.error} />}
    </p>
  );
}

function ReportView({ report }: { report: Report }) {
  return (
    <table class="report">
      <thead>
        <tr>
          <th scope="col">check or simulation</th>
          <th scope="col">result</th>
          <th scope="col">detail</th>
        </tr>
      </thead>
      <tbody>
        {report.checks.map((c) => (
          <tr key={`c-${c.name}`}>
            <td>{c.name}</td>
            <td class={c.ok ? 'ok' : 'fail'}>{c.ok ? 'ok' : 'failed'}</td>
            <td>{c.message}</td>
          </tr>
        ))}
        {report.simulations.map((s) => (
          <tr key={`s-${s.name}`}>
            <td>simulation {s.name}</td>
            <td class={s.ok ? 'ok' : 'fail'}>{s.ok ? 'ok' : 'failed'}</td>
            <td>
              fuel {number.format(s.fuel)} of {number.format(s.budget)} ({((s.fuel / Math.max(1, s.budget)) * 100).toFixed(1)}%)
              {s.code ? ` · ${s.code}` : ''}
              {s.message ? ` · ${s.message}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
