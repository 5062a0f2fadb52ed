// Starting host processes (host.ts) on one store and talking to them: one command at a time per
// process, answered in order.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const script = new URL('host.ts', import.meta.url).pathname;

export interface Host {
  proc: ChildProcess;
  /** Sends one command and resolves with its answer (rejects with the host's error). */
  send<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startHost(store: string, records?: { batchSize?: number; maxBuffered?: number; flushMs?: number }): Promise<Host> {
  const args = ['--import', 'tsx', script, store, ...(records === undefined ? [] : [JSON.stringify(records)])];
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiting: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: proc.stdout as NonNullable<typeof proc.stdout> }).on('line', (line) => {
    const answer = JSON.parse(line) as { ready?: true; ok?: unknown; error?: { code: string; message: string } };
    if (answer.ready) return ready();
    const next = waiting.shift();
    if (answer.error !== undefined) next?.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
    else next?.resolve(answer.ok);
  });
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error('the host process exited'));
    ready();
  });
  await started;
  if (proc.exitCode !== null) throw new Error(`the host process exited with ${proc.exitCode}`);
  return {
    proc,
    exited,
    send<T>(command: Record<string, unknown>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ resolve: resolve as (value: unknown) => void, reject });
        proc.stdin?.write(`${JSON.stringify(command)}\n`);
      });
    },
  };
}
