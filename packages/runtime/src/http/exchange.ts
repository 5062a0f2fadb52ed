// What crosses between a plug-in's thread and the HTTP worker: one request, and how it ended.

export interface HttpExchangeRequest {
  id: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  /** Redirects are followed only to hosts these globs allow. */
  allowedHosts: readonly string[];
  maxResponseBytes: number;
  /** The worker gives up on its own after this long, whatever the caller does. */
  timeoutMs: number;
}

export type HttpExchangeResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: Uint8Array; url: string }
  /** A redirect led to a host outside allowedHosts. */
  | { kind: 'denied'; host: string; url: string }
  | { kind: 'too_large'; bytes: number }
  | { kind: 'timeout' }
  | { kind: 'failed'; message: string };

export interface HttpExchangeReply {
  id: number;
  result: HttpExchangeResult;
}
