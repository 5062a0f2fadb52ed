import type { ChartConfiguration } from 'chart.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Stats } from '../api.js';
import { ChartCanvas, loadCharts, outcomeColour } from '../charts.js';
import { Loading, micros, number, Paged, Problem, time, useApi } from '../ui.js';

const WINDOWS = [
  { label: 'last 15 minutes', ms: 15 * 60_000 },
  { label: 'last hour', ms: 60 * 60_000 },
  { label: 'last day', ms: 24 * 60 * 60_000 },
];

const DEFAULT_WINDOW_MS = 60 * 60_000;
const statsPath = (windowMs: number) => `v1/runs/stats?windowMs=${windowMs}&buckets=60`;
let early: Promise<Stats> | undefined;

/**
 * Asks the default window's statistics as the script starts, beside the session, when the overview
 * is the first page: its figures then wait for one round trip, not two. Used once; a refusal (not
 * signed in yet) is dropped and the page asks again.
 */
export function prefetchOverview(): void {
  early = api<Stats>('GET', statsPath(DEFAULT_WINDOW_MS));
  early.catch(() => undefined);
}

function loadStats(windowMs: number): Promise<Stats> {
  const taken = windowMs === DEFAULT_WINDOW_MS ? early : undefined;
  early = undefined;
  return taken === undefined ? api<Stats>('GET', statsPath(windowMs)) : taken.catch(() => api<Stats>('GET', statsPath(windowMs)));
}

export function Overview() {
  const [windowMs, setWindowMs] = useState(DEFAULT_WINDOW_MS);
  useEffect(() => {
    loadCharts().catch(console.error);
  }, []);
  const stats = useApi(() => loadStats(windowMs), [windowMs]);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <label>
        Window{' '}
        <select value={windowMs} onChange={(e) => setWindowMs(Number((e.target as HTMLSelectElement).value))}>
          {WINDOWS.map((w) => (
            <option key={w.ms} value={w.ms}>
              {w.label}
            </option>
          ))}
        </select>
      </label>
      {stats.error && <Problem error={stats.error} />}
      {stats.data ? <StatsView stats={stats.data} /> : !stats.error && <Loading />}
      <LiveEvents />
    </section>
  );
}

function StatsView({ stats }: { stats: Stats }) {
  const outcomes = useMemo(() => Object.keys(stats.outcomes).sort(), [stats]);
  const series: ChartConfiguration = useMemo(
    () => ({
      type: 'bar',
      data: {
        labels: stats.series.map((b) => time(b.at).slice(11, 16)),
        datasets: outcomes.map((key, i) => ({
          label: key,
          data: stats.series.map((b) => b.outcomes[key] ?? 0),
          backgroundColor: outcomeColour(key, i),
        })),
      },
      options: {
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'runs' } } },
      },
    }),
    [stats, outcomes],
  );
  const fuel: ChartConfiguration = useMemo(
    () => ({
      type: 'bar',
      data: {
        labels: stats.byExtensionPoint.map((p) => p.extensionPoint),
        datasets: [
          { label: 'mean fuel', data: stats.byExtensionPoint.map((p) => p.fuelMean), backgroundColor: '#1565c0' },
          { label: 'max fuel', data: stats.byExtensionPoint.map((p) => p.fuelMax), backgroundColor: '#ef6c00' },
          { label: 'mean budget', data: stats.byExtensionPoint.map((p) => p.budgetMean), backgroundColor: '#9e9e9e' },
        ],
      },
      options: { maintainAspectRatio: false, indexAxis: 'y', scales: { x: { title: { display: true, text: 'fuel units' } } } },
    }),
    [stats],
  );
  return (
    <>
      <dl class="figures">
        <div>
          <dt>runs per second</dt>
          <dd data-testid="rps">{stats.runsPerSecond.toFixed(2)}</dd>
        </div>
        <div>
          <dt>runs recorded</dt>
          <dd data-testid="runs">{number.format(stats.runs)}</dd>
        </div>
        <div>
          <dt>p50 duration</dt>
          <dd>{micros(stats.p50Us)}</dd>
        </div>
        <div>
          <dt>p99 duration</dt>
          <dd>{micros(stats.p99Us)}</dd>
        </div>
        <div>
          <dt>fuel, max share of budget</dt>
          <dd>{(stats.budgetShareMax * 100).toFixed(1)}%</dd>
        </div>
      </dl>
      {stats.truncated && <p>The window holds more records than one scan reads: the newest are counted.</p>}
      <div class="grid">
        <figure>
          <figcaption>Outcomes over time, stacked by code</figcaption>
          <ChartCanvas config={series} label="Runs per time bucket, stacked by outcome and code" />
        </figure>
        <figure>
          <figcaption>Fuel against budget, by extension point</figcaption>
          <ChartCanvas config={fuel} label="Mean and max fuel against the mean budget, per extension point" />
        </figure>
      </div>
      <h2>By plug-in</h2>
      <Paged items={stats.byPlugin}>
        {(page) => (
          <table>
            <thead>
              <tr>
                <th scope="col">plug-in</th>
                <th scope="col">extension point</th>
                <th scope="col">runs</th>
                <th scope="col">outcomes</th>
                <th scope="col">p50</th>
                <th scope="col">p99</th>
                <th scope="col">fuel (mean / max)</th>
                <th scope="col">budget (mean)</th>
              </tr>
            </thead>
            <tbody>
              {page.map((p) => (
                <tr key={p.plugin}>
                  <td>
                    <a href={`#/plugins/${p.plugin}`}>{p.plugin}</a>
                  </td>
                  <td>{p.extensionPoint}</td>
                  <td>{number.format(p.runs)}</td>
                  <td>
                    {Object.entries(p.outcomes)
                      .map(([k, n]) => `${k} ${n}`)
                      .join(', ')}
                  </td>
                  <td>{micros(p.p50Us)}</td>
                  <td>{micros(p.p99Us)}</td>
                  <td>
                    {number.format(Math.round(p.fuelMean))} / {number.format(p.fuelMax)}
                  </td>
                  <td>{number.format(Math.round(p.budgetMean))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Paged>
    </>
  );
}

const EVENT_TYPES = [
  'partner.created',
  'partner.key-rotated',
  'extension-point.defined',
  'plugin.created',
  'version.validated',
  'version.rejected',
  'installation.created',
  'installation.changed',
  'quota.set',
  'quota.exceeded',
];

interface LiveEvent {
  id: string;
  type: string;
  at: number;
  subject: string;
}

function LiveEvents() {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    const source = new EventSource('v1/events/stream');
    const onEvent = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as LiveEvent;
      setEvents((list) => [event, ...list].slice(0, 20));
    };
    source.onopen = () => setState('live');
    source.onerror = () => setState('reconnecting');
    source.onmessage = onEvent;
    // Named events (version.validated, ...) do not reach onmessage: listen to each type the stream sends.
    for (const type of EVENT_TYPES) source.addEventListener(type, onEvent as EventListener);
    return () => source.close();
  }, []);
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">
        Latest events <small data-testid="stream-state">({state})</small>
      </h2>
      {events.length === 0 ? (
        <p>No events yet.</p>
      ) : (
        <ol class="events" data-testid="events">
          {events.map((e) => (
            <li key={e.id}>
              <time>{time(e.at)}</time> <strong>{e.type}</strong> {e.subject}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
