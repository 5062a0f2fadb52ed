// The CLI's side of the HTTP API: where the server is, the key, one JSON request, and every way it
// can fail said on stderr (the caller returns EXIT.usage on undefined).
import type { Io } from './main.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface ApiFlags {
  server?: string;
  key?: string;
}

/** The server's JSON answer to a request with the key, or undefined after saying on stderr why there is none. */
export async function apiCall<T>(
  io: Io,
  env: NodeJS.ProcessEnv,
  flags: ApiFlags,
  what: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T | undefined> {
  const server = flags.server ?? env.TENON_SERVER ?? DEFAULT_SERVER;
  const key = flags.key ?? env.TENON_KEY;
  if (key === undefined || key === '') {
    io.stderr.write('tenon: no API key: pass --key or set TENON_KEY\n');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(path, server.endsWith('/') ? server : `${server}/`);
  } catch {
    io.stderr.write(`tenon: --server "${server}" is not a URL\n`);
    return undefined;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    io.stderr.write(
      `tenon: cannot reach ${url.origin}: ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}\n`,
    );
    return undefined;
  }
  const answer = (await response.json().catch(() => undefined)) as
    | (T & { error?: undefined })
    | { error?: { code: string; message: string } }
    | undefined;
  if (!response.ok || answer === undefined) {
    const error = answer?.error;
    io.stderr.write(
      `tenon: ${what} refused (${response.status}${error === undefined ? '' : ` ${error.code}`}): ${error?.message ?? response.statusText}\n`,
    );
    return undefined;
  }
  return answer as T;
}
