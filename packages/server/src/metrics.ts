import type { RunObservation } from '@tenon/platform';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The API's Prometheus metrics, in a registry of its own (two APIs in one process, as in tests, do not
 * collide; a host merges it into its own with `Registry.merge` if it wants one scrape).
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly #runs = new Counter({
    name: 'tenon_runs_total',
    help: 'Runs of one installation, by extension point, plug-in, version and outcome',
    labelNames: ['extension_point', 'plugin', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'tenon_run_duration_seconds',
    help: 'Wall-clock time of one installation run, in seconds',
    labelNames: ['extension_point'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly #fuel = new Histogram({
    name: 'tenon_run_fuel',
    help: 'Fuel (about one unit per WebAssembly instruction) one installation run used',
    labelNames: ['extension_point'] as const,
    buckets: [1e3, 1e4, 1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8],
    registers: [this.registry],
  });
  readonly #rejections = new Counter({
    name: 'tenon_rejections_total',
    help: 'Refusals, by code: API requests answered with a coded error, and versions rejected on upload',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  /** Count one installation's run (what `platform.onRun` reports). */
  run(run: Pick<RunObservation, 'extensionPoint' | 'plugin' | 'version' | 'outcome' | 'fuel' | 'durationUs'>): void {
    const point = { extension_point: run.extensionPoint };
    this.#runs.inc({ ...point, plugin: run.plugin, version: run.version, outcome: run.outcome });
    this.#duration.observe(point, run.durationUs / 1e6);
    this.#fuel.observe(point, run.fuel);
  }

  /** Count one refusal by its code. */
  rejection(code: string): void {
    this.#rejections.inc({ code });
  }
}
