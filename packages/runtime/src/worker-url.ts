import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker script `name` that sits next to `base` (an `import.meta.url`). Compiled, that
 * is the `.js` file. When the runtime runs from its TypeScript sources (the tests, under tsx), it
 * is the `.ts` file, and the worker registers tsx before loading it: Node 20 workers do not take
 * the parent's `--import` loaders.
 */
export function startWorker(base: string, name: string, options: WorkerOptions): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), options);
  const url = new URL(`./${name}.ts`, base).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
