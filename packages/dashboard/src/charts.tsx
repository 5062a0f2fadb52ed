// Charts are Chart.js, with only the parts we draw registered (so the bundle carries no more).
import { BarController, BarElement, CategoryScale, Chart, type ChartConfiguration, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.animation = false;

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
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [config]);
  return (
    <div class="chart" style={{ height: `${height}px` }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
