// Synchronous HTTP for plug-ins: the calling thread posts the request to the HTTP worker and blocks
// in Atomics.wait until the reply is on its port (or the call's deadline passes). Plug-ins in one
// thread run one at a time, so one worker per thread serves them all.
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { startWorker } from '../worker-url.js';
import type { HttpExchangeReply, HttpExchangeRequest, HttpExchangeResult } from './exchange.js';

class HttpThread {
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  #worker: Worker | undefined;
  #port: MessagePort | undefined;
  #users = 0;
  #nextId = 0;

  /** A plug-in that may make requests holds the thread's worker (started on its first request). */
  acquire(): void {
    this.#users++;
  }

  /** The worker stops when the last plug-in that could use it is closed. */
  release(): void {
    if (--this.#users > 0) return;
    void this.#worker?.terminate();
    this.#port?.close();
    this.#worker = undefined;
    this.#port = undefined;
  }

  /** Performs `request` and blocks until it ends, or until `waitMs` passes ({ kind: 'timeout' }). */
  exchange(request: Omit<HttpExchangeRequest, 'id'>, waitMs: number): HttpExchangeResult {
    const port = this.#start();
    const id = ++this.#nextId;
    const body = request.body;
    port.postMessage({ ...request, id } satisfies HttpExchangeRequest, body ? [body.buffer as ArrayBuffer] : []);
    const giveUp = performance.now() + waitMs;
    for (;;) {
      const reply = this.#take(port, id);
      if (reply) return reply;
      Atomics.store(this.#flag, 0, 0);
      // a reply may have landed between the last look and the reset
      const late = this.#take(port, id);
      if (late) return late;
      const remaining = giveUp - performance.now();
      if (remaining <= 0) {
        port.postMessage({ abort: id });
        return { kind: 'timeout' };
      }
      Atomics.wait(this.#flag, 0, 0, remaining === Number.POSITIVE_INFINITY ? undefined : remaining);
    }
  }

  /** The reply to `id` if it has arrived; replies to abandoned requests are dropped. */
  #take(port: MessagePort, id: number): HttpExchangeResult | undefined {
    for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) {
      const reply = received.message as HttpExchangeReply;
      if (reply.id === id) return reply.result;
    }
    return undefined;
  }

  #start(): MessagePort {
    if (this.#port) return this.#port;
    const { port1, port2 } = new MessageChannel();
    this.#worker = startWorker(import.meta.url, 'worker', {
      workerData: { port: port2, flag: this.#flag },
      transferList: [port2],
    });
    // An idle worker must not keep the host process alive.
    this.#worker.unref();
    // A worker that died is started again on the next request (a request it held ends at its deadline).
    const worker = this.#worker;
    worker.on('exit', () => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#port?.close();
      this.#port = undefined;
    });
    this.#port = port1;
    return port1;
  }
}

/** This thread's HTTP worker. */
export const httpThread = new HttpThread();
