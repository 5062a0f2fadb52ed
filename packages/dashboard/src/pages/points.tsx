import { api, type Installation, type Point, type Who } from '../api.js';
import { Json, Loading, number, Paged, Problem, useApi } from '../ui.js';

export function Points({ who }: { who: Who }) {
  const points = useApi(() => api<Point[]>('GET', 'v1/extension-points'), []);
  if (points.error) return <Problem error={points.error} />;
  if (!points.data) return <Loading />;
  return (
    <section aria-labelledby="points-title">
      <h1 id="points-title">Extension points</h1>
      <Paged items={points.data} size={10}>
        {(page) => page.map((p) => <PointView key={p.name} point={p} who={who} />)}
      </Paged>
    </section>
  );
}

function PointView({ point, who }: { point: Point; who: Who }) {
  const l = point.limits;
  const fuel = l.fuel ?? 0;
  return (
    <details class="card" open>
      <summary>
        <h2>{point.name}</h2> <code>{point.function}</code>
      </summary>
      <div class="grid">
        <div>
          <h3>Limits</h3>
          <table>
            <tbody>
              {Object.entries(l).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{number.format(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Budget</h3>
          <p data-testid="budget">
            fuel = {number.format(fuel)} + {number.format(l.fuelPerInputKiB ?? 0)} × input KiB, at most{' '}
            {number.format(Math.floor((l.maxFuelScale ?? 1) * fuel))}
          </p>
          <h3>Capabilities partners may be granted</h3>
          <ul>
            <li>HTTP hosts: {point.allowedHosts?.length ? point.allowedHosts.join(', ') : 'none'}</li>
            <li>host functions: {point.hostFunctions?.length ? point.hostFunctions.join(', ') : 'none'}</li>
            <li>WASI: {point.wasi ? 'yes' : 'no'}</li>
            <li>isolation: {point.isolation ?? 'fresh'}</li>
            <li>recorded: {((point.record?.sample ?? 0) * 100).toFixed(1)}% of runs</li>
          </ul>
        </div>
        <div>
          <h3>Input schema</h3>
          <Json value={point.input} label={`${point.name} input schema`} />
          <h3>Output schema</h3>
          <Json value={point.output} label={`${point.name} output schema`} />
        </div>
      </div>
      <h3>Simulations</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">name</th>
            <th scope="col">input</th>
            <th scope="col">expects</th>
          </tr>
        </thead>
        <tbody>
          {point.simulations.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td>
              <td>
                <code>{JSON.stringify(s.input).slice(0, 120)}</code>
              </td>
              <td>
                <code>{s.expect.error !== undefined ? `error ${s.expect.error}` : JSON.stringify(s.expect.output).slice(0, 120)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {who.kind === 'operator' && <PointInstallations point={point.name} />}
    </details>
  );
}

function PointInstallations({ point }: { point: string }) {
  const list = useApi(() => api<Installation[]>('GET', `v1/installations?extensionPoint=${encodeURIComponent(point)}`), [point]);
  if (list.error) return <Problem error={list.error} />;
  if (!list.data) return <Loading />;
  return (
    <>
      <h3>Installations</h3>
      <InstallationTable items={list.data} />
    </>
  );
}

export function InstallationTable({ items, onToggle }: { items: Installation[]; onToggle?: (i: Installation) => void }) {
  if (items.length === 0) return <p>None.</p>;
  return (
    <Paged items={items}>
      {(page) => (
        <table>
          <thead>
            <tr>
              <th scope="col">tenant</th>
              <th scope="col">extension point</th>
              <th scope="col">plug-in</th>
              <th scope="col">version</th>
              <th scope="col">position</th>
              <th scope="col">enabled</th>
            </tr>
          </thead>
          <tbody>
            {page.map((i) => (
              <tr key={i.id}>
                <td>{i.tenant}</td>
                <td>{i.extensionPoint}</td>
                <td>
                  <a href={`#/plugins/${i.pluginId}`}>{i.pluginId}</a>
                </td>
                <td>
                  <code>{i.versionId}</code>
                </td>
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
  if (list.error) return <Problem error={list.error} />;
  if (!list.data) return <Loading />;
  const toggle = (i: Installation) => {
    api('PATCH', `v1/installations/${i.id}`, { enabled: !i.enabled }).then(list.reload, (e: Error) => alert(e.message));
  };
  return (
    <section aria-labelledby="installations-title">
      <h1 id="installations-title">Installations</h1>
      <p>Candidates, canary shares, promote and roll back are not in the API yet.</p>
      <InstallationTable items={list.data} onToggle={toggle} />
    </section>
  );
}
