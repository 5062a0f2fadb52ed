import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** The HTTP test server (http-test-server.mjs) on a loopback port, in a worker thread: a plug-in's request blocks the test's own thread. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** How many requests the server has received (this question included): proof of what did, and did not, leave. */
  served(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const worker = new Worker(new URL('./http-test-server.mjs', import.meta.url));
  const [port] = await once(worker, 'message');
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    served: async () => Number(await (await fetch(`${base}/served`)).text()),
    stop: async () => {
      worker.postMessage('stop');
      await once(worker, 'exit');
    },
  };
}
