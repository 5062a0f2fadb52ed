// Installations (operator): each one's version, its candidate and share, and the rollout's live
// comparison of the two versions; start a candidate, promote it or roll it back.
import { useEffect, useState } from 'preact/hooks';
import { api, type Candidate, type Installation, type Rollout, type Version } from '../api.js';
import { Loading, number, Paged, Problem, useApi } from '../ui.js';

/** How often an open rollout's figures are read again, in milliseconds. */
const LIVE_MS = 3000;

function candidateText(c: Candidate): string {
  return c.mode === 'shadow' ? `${c.version} in shadow (${c.percent}% of runs)` : `${c.version} canary, ${c.percent}% of runs`;
}

export function InstallationTable({
  items,
  onToggle,
  onOpen,
}: {
  items: Installation[];
  onToggle?: (i: Installation) => void;
  onOpen?: (i: Installation) => void;
}) {
  if (items.length === 0) return <p>None.</p>;
  return (
    <Paged items={items}>
      {(page) => (
        <table data-testid="installations">
          <thead>
            <tr>
              <th scope="col">tenant</th>
              <th scope="col">extension point</th>
              <th scope="col">plug-in</th>
              <th scope="col">version</th>
              <th scope="col">candidate</th>
              <th scope="col">position</th>
              <th scope="col">enabled</th>
            </tr>
          </thead>
          <tbody>
            {page.map((i) => (
              <tr key={i.id}>
                <td>
                  {onOpen ? (
                    <button type="button" class="link" onClick={() => onOpen(i)} aria-label={`rollout of ${i.tenant}'s ${i.pluginId}`}>
                      {i.tenant}
                    </button>
                  ) : (
                    i.tenant
                  )}
                </td>
                <td>{i.extensionPoint}</td>
                <td>
                  <a href={`#/plugins/${i.pluginId}`}>{i.pluginId}</a>
                </td>
                <td>
                  <code>{i.versionId}</code>
                </td>
                <td>{i.candidate ? <code>{candidateText(i.candidate)}</code> : '—'}</td>
                <td>{i.position}</td>
                <td>
                  {i.enabled ? 'yes' : 'no'}{' '}
                  {onToggle && (
                    <button type="button" onClick={() => onToggle(i)}>
                      {i.enabled ? 'Disable' : 'Enable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Paged>
  );
}

export function Installations() {
  const list = useApi(() => api<Installation[]>('GET', 'v1/installations'), []);
  const [openId, setOpenId] = useState<string>();
  if (list.error) return <Problem error={list.error} />;
  if (!list.data) return <Loading />;
  const toggle = (i: Installation) => {
    api('PATCH', `v1/installations/${i.id}`, { enabled: !i.enabled }).then(list.reload, (e: Error) => alert(e.message));
  };
  const open = list.data.find((i) => i.id === openId);
  return (
    <section aria-labelledby="installations-title">
      <h1 id="installations-title">Installations</h1>
      <p>Choose a tenant to see its installation's rollout: start a candidate, compare it live, promote it or roll it back.</p>
      {open && <RolloutPanel key={open.id} installation={open} onChange={list.reload} onClose={() => setOpenId(undefined)} />}
      <InstallationTable items={list.data} onToggle={toggle} onOpen={(i) => setOpenId(i.id)} />
    </section>
  );
}

function RolloutPanel({ installation, onChange, onClose }: { installation: Installation; onChange: () => void; onClose: () => void }) {
  const [error, setError] = useState<Error>();
  const act = (action: 'promote' | 'rollback') =>
    api<Installation>('POST', `v1/installations/${installation.id}/${action}`).then(() => {
      setError(undefined);
      onChange();
    }, setError);
  return (
    <aside class="card detail" aria-label="rollout" data-testid="rollout">
      <h2>
        {installation.tenant}: <code>{installation.pluginId}</code>
      </h2>{' '}
      <button type="button" onClick={onClose}>
        Close
      </button>
      <p>
        current version <code>{installation.versionId}</code>
        {installation.candidate ? (
          <>
            , candidate <code>{candidateText(installation.candidate)}</code>
            {installation.candidate.promoteAfter !== null &&
              `, promoted by itself after ${number.format(installation.candidate.promoteAfter)} clean runs`}
          </>
        ) : (
          ', no candidate'
        )}
      </p>
      {installation.candidate ? (
        <>
          <Comparison id={installation.id} />
          <p>
            <button type="button" onClick={() => act('promote')}>
              Promote
            </button>{' '}
            <button type="button" onClick={() => act('rollback')}>
              Roll back
            </button>
          </p>
        </>
      ) : (
        <StartCandidate installation={installation} onStarted={onChange} />
      )}
      {error && <Problem error={error} />}
    </aside>
  );
}

/** Both versions' figures in the rollout, read again every few seconds while shown. */
function Comparison({ id }: { id: string }) {
  const rollout = useApi(() => api<Rollout>('GET', `v1/installations/${id}/rollout`), [id]);
  useEffect(() => {
    const timer = setInterval(rollout.reload, LIVE_MS);
    return () => clearInterval(timer);
  }, [id]);
  if (rollout.error) return <Problem error={rollout.error} />;
  if (!rollout.data) return <Loading />;
  const { current, candidate, shadow } = rollout.data;
  const rows = [
    ['runs', current.runs, candidate.runs],
    ['failed', current.failed, candidate.failed],
    ['runs in the window', current.windowRuns, candidate.windowRuns],
  ] as const;
  return (
    <>
      <table data-testid="comparison">
        <thead>
          <tr>
            <th scope="col">this process, live</th>
            <th scope="col">current</th>
            <th scope="col">candidate</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, a, b]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{number.format(a)}</td>
              <td>{number.format(b)}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">failure rate</th>
            <td>{(current.failureRate * 100).toFixed(1)}%</td>
            <td>{(candidate.failureRate * 100).toFixed(1)}%</td>
          </tr>
          <tr>
            <th scope="row">fuel p99</th>
            <td>{number.format(current.fuelP99)}</td>
            <td>{number.format(candidate.fuelP99)}</td>
          </tr>
        </tbody>
      </table>
      {shadow.compared > 0 && (
        <p>
          shadow: {number.format(shadow.compared)} runs compared, {number.format(shadow.differing)} answered differently
        </p>
      )}
    </>
  );
}

function StartCandidate({ installation, onStarted }: { installation: Installation; onStarted: () => void }) {
  const versions = useApi(
    () => api<Version[]>('GET', `v1/plugins/${encodeURIComponent(installation.pluginId)}/versions`),
    [installation.id],
  );
  const [form, setForm] = useState({ version: '', mode: 'canary', percent: '10', override: false });
  const [error, setError] = useState<Error>();
  if (versions.error) return <Problem error={versions.error} />;
  if (!versions.data) return <Loading />;
  const choices = versions.data.filter((v) => v.status === 'validated' && v.id !== installation.versionId);
  if (choices.length === 0) return <p>No other validated version of this plug-in to try.</p>;
  const version = form.version || (choices.at(-1)?.id ?? '');
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        api('POST', `v1/installations/${installation.id}/candidate`, {
          version,
          mode: form.mode,
          percent: Number(form.percent),
          ...(form.override ? { override: true } : {}),
        }).then(onStarted, setError);
      }}
    >
      <label>
        candidate version{' '}
        <select value={version} onChange={(e) => setForm({ ...form, version: (e.target as HTMLSelectElement).value })}>
          {choices.map((v) => (
            <option key={v.id} value={v.id}>
              {v.id}
            </option>
          ))}
        </select>
      </label>
      <label>
        mode{' '}
        <select value={form.mode} onChange={(e) => setForm({ ...form, mode: (e.target as HTMLSelectElement).value })}>
          <option value="canary">canary</option>
          <option value="shadow">shadow</option>
        </select>
      </label>
      <label>
        share of runs (%){' '}
        <input
          type="number"
          min="0"
          max="100"
          value={form.percent}
          onInput={(e) => setForm({ ...form, percent: (e.target as HTMLInputElement).value })}
        />
      </label>
      <label>
        <input
          type="checkbox"
          checked={form.override}
          onChange={(e) => setForm({ ...form, override: (e.target as HTMLInputElement).checked })}
        />{' '}
        start even if its replay failed the gate
      </label>
      <button type="submit">Start candidate</button>
      {error && <Problem error={error} />}
    </form>
  );
}
