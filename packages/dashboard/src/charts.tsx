// Charts are Chart.js, in a chunk of its own: most of the dashboard's script, and only the overview
// draws charts, so other pages do not wait for it to be fetched and parsed.
import type { ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

let loading: Promise<typeof import('./chart-js.js')> | undefined;

/** Starts fetching Chart.js (once): a page that will draw calls it first, so the fetch runs beside its data's. */
export function loadCharts(): Promise<typeof import('./chart-js.js')> {
  loading ??= import('./chart-js.js');
  return loading;
}

const OK = '#2e7d32';
const CONTAINED = ['#c62828', '#ef6c00', '#ad1457', '#8e24aa', '#d84315', '#f9a825'];
const REJECTED = ['#4527a0', '#283593', '#5d4037'];

/** A stable colour per outcome key: green for ok, reds for the sandbox's codes, blues for the host's refusals. */
export function outcomeColour(key: string, index: number): string {
  if (key === 'ok') return OK;
  const palette = key.startsWith('rejected') ? REJECTED : CONTAINED;
  return palette[index % palette.length] ?? '#555';
}

/** One chart on a canvas, rebuilt when its configuration changes; `label` is the canvas's accessible name. */
export function ChartCanvas({ config, label, height = 220 }: { config: ChartConfiguration; label: string; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | undefined;
    let live = true;
    loadCharts().then(({ Chart }) => {
      if (live && canvas.current !== null) chart = new Chart(canvas.current, config);
    }, console.error);
    return () => {
      live = false;
      chart?.destroy();
    };
  }, [config]);
  return (
    <div class="chart" style={{ height: `${height}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
