// The HTTP worker: performs the requests plug-ins make, while their thread blocks in Atomics.wait.
// A reply goes on the port first, then the flag is raised, so the waiting thread always finds it.
import { type MessagePort, workerData } from 'node:worker_threads';
import { hostMatcher } from './allowed-hosts.js';
import type { HttpExchangeReply, HttpExchangeRequest, HttpExchangeResult } from './exchange.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
const inFlight = new Map<number, AbortController>();
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

port.on('message', (message: HttpExchangeRequest | { abort: number }) => {
  if ('abort' in message) inFlight.get(message.abort)?.abort();
  else void serve(message);
});

async function serve(request: HttpExchangeRequest): Promise<void> {
  const controller = new AbortController();
  inFlight.set(request.id, controller);
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  let result: HttpExchangeResult;
  try {
    result = await exchange(request, controller.signal);
  } catch (error) {
    result = controller.signal.aborted ? { kind: 'timeout' } : { kind: 'failed', message: describe(error) };
  } finally {
    clearTimeout(timer);
    inFlight.delete(request.id);
  }
  const reply: HttpExchangeReply = { id: request.id, result };
  port.postMessage(reply, result.kind === 'response' ? [result.body.buffer as ArrayBuffer] : []);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function exchange(request: HttpExchangeRequest, signal: AbortSignal): Promise<HttpExchangeResult> {
  const allowed = hostMatcher(request.allowedHosts);
  let url = new URL(request.url);
  let method = request.method;
  let body = request.body;
  for (let hop = 0; ; hop++) {
    const response = await fetch(url, {
      method,
      headers: request.headers,
      ...(body && method !== 'GET' && method !== 'HEAD' && { body: body as Uint8Array<ArrayBuffer> }),
      // Redirects are followed here, each hop checked against allowedHosts: fetch's own
      // following would let an allowed host send the plug-in anywhere.
      redirect: 'manual',
      signal,
    });
    const location = response.headers.get('location');
    if (REDIRECTS.has(response.status) && location !== null && hop < MAX_REDIRECTS) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return { kind: 'failed', message: `redirect to a ${next.protocol} URL` };
      if (!allowed(next.hostname)) return { kind: 'denied', host: next.hostname, url: next.href };
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
      continue;
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > request.maxResponseBytes) {
      await response.body?.cancel();
      return { kind: 'too_large', bytes: declared };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      size += chunk.value.length;
      if (size > request.maxResponseBytes) {
        await reader?.cancel().catch(() => {});
        return { kind: 'too_large', bytes: size };
      }
      chunks.push(chunk.value);
    }
    // A fresh array, not Buffer.concat's: a small Buffer may sit in a shared pool, and its whole
    // ArrayBuffer is about to be transferred.
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { kind: 'response', status: response.status, headers, body: bytes, url: url.href };
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
