import { api, type Installation, type Point, type Who } from '../api.js';
import { Json, Loading, number, Paged, Problem, useApi } from '../ui.js';
import { InstallationTable } from './installations.js';

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
                <code>{(JSON.stringify(s.input) ?? '').slice(0, 120)}</code>
              </td>
              <td>
                <code>{expectation(s.expect)}</code>
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

function expectation(expect: Point['simulations'][number]['expect']): string {
  if (expect.error !== undefined) return `error ${expect.error}`;
  if (expect.accepted) return "an answer the point's rules accept";
  return (JSON.stringify(expect.output) ?? '').slice(0, 120);
}
