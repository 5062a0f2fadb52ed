// HTTP as one plug-in instance sees it: the allow-list, the response cap, the call's deadline, the
// last response's status and headers, and the audit trail of every request it tried.
import { elapsedMs } from '../clock.js';
import { CapabilityError, HttpError, LimitError, PluginError } from '../errors.js';
import { hostMatcher } from './allowed-hosts.js';
import { httpThread } from './client.js';
import type { HttpExchangeResult } from './exchange.js';

/** One request a plug-in made, as an {@link HttpExchanger} sees it (after the allow-list passed it). */
export interface HttpExchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
}

/**
 * Stands between a call's HTTP requests and the network (CallOptions.httpExchange): returns the
 * exchange's result, from `perform()` (the real request) or from elsewhere (a recording being
 * replayed). The allow-list, response handling and audit trail apply to either.
 */
export type HttpExchanger = (exchange: HttpExchange, perform: () => HttpExchangeResult) => HttpExchangeResult;

/** One request a plug-in made (or tried to make): the host's record of what could leave. */
export interface HttpRequestRecord {
  method: string;
  url: string;
  host: string;
  /** The response status, when one came back. */
  status: number | undefined;
  /** Request body bytes sent. */
  bytesOut: number;
  /** Response body bytes received. */
  bytesIn: number;
  /** Time from the request to its end, in milliseconds to the microsecond. */
  durationMs: number;
  /** `denied`: not in allowedHosts (a redirect included); the others say how the exchange ended. */
  outcome: 'ok' | 'denied' | 'too_large' | 'timeout' | 'failed';
}

/** Longest a request may take when the call has no deadline of its own, in milliseconds. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How much longer than the worker's own timeout the caller waits before giving up on it. */
const WORKER_GRACE_MS = 1_000;

interface PluginRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
}

export class PluginHttp {
  /** The last response's status (0 before any): what `http_status_code` returns. */
  status = 0;
  /** The last response's headers, lower-case names. */
  headers: Record<string, string> | undefined;
  readonly #allowedHosts: readonly string[];
  readonly #allowed: (host: string) => boolean;
  readonly #maxResponseBytes: number;
  readonly #onRequest: ((record: HttpRequestRecord) => void) | undefined;
  #records: HttpRequestRecord[] = [];
  #holding = false;
  /** The current call's exchanger, if it gave one. */
  exchanger: HttpExchanger | undefined;

  constructor(allowedHosts: readonly string[], maxResponseBytes: number, onRequest: ((record: HttpRequestRecord) => void) | undefined) {
    this.#allowedHosts = allowedHosts;
    this.#allowed = hostMatcher(allowedHosts);
    this.#maxResponseBytes = maxResponseBytes;
    this.#onRequest = onRequest;
  }

  /** The requests of the current (or last) call. */
  get records(): readonly HttpRequestRecord[] {
    return this.#records;
  }

  /** A call begins: its audit trail starts empty. */
  begin(): void {
    if (this.#records.length > 0) this.#records = [];
    this.status = 0;
    this.headers = undefined;
    this.exchanger = undefined;
  }

  close(): void {
    if (this.#holding) httpThread.release();
    this.#holding = false;
  }

  /**
   * Performs the plug-in's request (the ABI's JSON text) with `body` (the caller's to hand over),
   * by `deadline` (performance.now() milliseconds), hands the response body to `place` (which
   * writes it into Extism memory, or throws MEMORY_LIMIT when it does not fit) and returns what
   * `place` returned. Throws the TenonError that fails the call: CAPABILITY_DENIED,
   * HTTP_RESPONSE_LIMIT, HTTP_FAILED (a request cut at the deadline fails with HTTP_FAILED here;
   * the plug-in, finding the call overdue, reports TIMEOUT) or the error of `place`; the record
   * says `ok` only for a response the plug-in received.
   */
  request(json: string | null, body: Uint8Array | undefined, deadline: number, place: (body: Uint8Array) => number): number {
    const request = parseRequest(json);
    const started = performance.now();
    const record: HttpRequestRecord = {
      method: request.method,
      url: request.url.href,
      host: request.url.hostname,
      status: undefined,
      bytesOut: body?.length ?? 0,
      bytesIn: 0,
      durationMs: 0,
      outcome: 'denied',
    };
    const finish = (outcome: HttpRequestRecord['outcome']) => {
      record.outcome = outcome;
      record.durationMs = elapsedMs(started);
      this.#records.push(record);
      this.#onRequest?.(record);
    };
    if (!this.#allowed(record.host)) {
      finish('denied');
      throw this.#denied(record.host, '', record.url);
    }
    const timeoutMs = Math.min(deadline - started, DEFAULT_REQUEST_TIMEOUT_MS);
    const perform = (): HttpExchangeResult => {
      if (!this.#holding) {
        httpThread.acquire();
        this.#holding = true;
      }
      return httpThread.exchange(
        {
          method: request.method,
          url: request.url.href,
          headers: request.headers,
          body,
          allowedHosts: this.#allowedHosts,
          maxResponseBytes: this.#maxResponseBytes,
          timeoutMs: Math.max(0, timeoutMs),
        },
        Math.max(0, timeoutMs) + WORKER_GRACE_MS,
      );
    };
    const exchanger = this.exchanger;
    const result =
      exchanger === undefined
        ? perform()
        : exchanger({ method: request.method, url: request.url.href, headers: request.headers, body }, perform);
    switch (result.kind) {
      case 'response': {
        record.status = result.status;
        record.bytesIn = result.body.length;
        let offset: number;
        try {
          offset = place(result.body);
        } catch (error) {
          finish('failed');
          throw error;
        }
        this.status = result.status;
        this.headers = result.headers;
        finish('ok');
        return offset;
      }
      case 'denied':
        record.url = result.url;
        record.host = result.host;
        finish('denied');
        throw this.#denied(result.host, ' (a redirect led there)', result.url);
      case 'too_large':
        finish('too_large');
        throw new LimitError(
          'HTTP_RESPONSE_LIMIT',
          `HTTP response from "${record.host}" is over memory.maxHttpResponseBytes (${this.#maxResponseBytes} bytes; got ${result.bytes} or more)`,
        );
      case 'timeout':
        finish('timeout');
        throw new HttpError(`HTTP request to "${record.host}" took longer than ${Math.round(timeoutMs)} ms`);
      case 'failed':
        finish('failed');
        throw new HttpError(`HTTP request to "${record.url}" failed: ${result.message}`);
    }
  }

  #denied(host: string, how: string, url: string): CapabilityError {
    const allowed = this.#allowedHosts.length === 0 ? 'none are allowed' : `allowed: ${this.#allowedHosts.join(', ')}`;
    return new CapabilityError(`Plug-in may not make HTTP requests to "${host}"${how}: it is not in allowedHosts (${allowed})`, {
      resource: url,
    });
  }
}

/** The ABI's request object: {"url", "method"?, "headers"?}. A malformed one is the plug-in's error. */
function parseRequest(json: string | null): PluginRequest {
  let value: { url?: unknown; method?: unknown; headers?: unknown };
  try {
    value = JSON.parse(json ?? '');
  } catch {
    throw new PluginError(`Plug-in passed an HTTP request that is not JSON: ${JSON.stringify((json ?? '').slice(0, 80))}`, -1);
  }
  let url: URL;
  try {
    url = new URL(String(value?.url));
  } catch {
    throw new PluginError(`Plug-in passed an HTTP request without a valid url: ${JSON.stringify(value?.url)}`, -1);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PluginError(`Plug-in asked for a ${url.protocol} URL; only http and https are allowed`, -1);
  const method = typeof value.method === 'string' && value.method !== '' ? value.method.toUpperCase() : 'GET';
  const headers: Record<string, string> = {};
  if (value.headers && typeof value.headers === 'object') {
    for (const [name, v] of Object.entries(value.headers)) if (typeof v === 'string') headers[name] = v;
  }
  return { method, url, headers };
}
