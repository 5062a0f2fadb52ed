import type { Readable } from 'node:stream';
import { ServerError } from './errors.js';

/**
 * Read a module upload, refusing it with MODULE_TOO_LARGE as soon as it passes `maxBytes`: a body that
 * announces a larger size is refused before a byte is read, and one sent in chunks as soon as the chunk
 * that crosses the cap arrives. Nothing past the cap is kept: a 100 MB upload costs one chunk of memory.
 */
export function readModule(body: Readable, declaredLength: string | undefined, maxBytes: number): Promise<Uint8Array> {
  const declared = declaredLength === undefined ? Number.NaN : Number(declaredLength);
  if (declared > maxBytes) return Promise.reject(tooLarge(`is ${declared} bytes`, maxBytes));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let total = 0;
    const stop = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buffer.length;
      if (total <= maxBytes) {
        chunks.push(buffer);
        return;
      }
      stop();
      chunks = [];
      // Paused, not destroyed: destroying a request destroys its socket and the client would never read
      // the 413. Node discards the rest once the answer is sent, and the answer closes the connection.
      body.pause();
      reject(tooLarge(`passes ${maxBytes} bytes`, maxBytes));
    };
    const onEnd = (): void => {
      stop();
      if (total === 0) reject(new ServerError('BODY_INVALID', 'body is empty: send the module bytes as application/wasm'));
      else resolve(new Uint8Array(Buffer.concat(chunks, total)));
    };
    const onError = (error: Error): void => {
      stop();
      reject(new ServerError('BODY_INVALID', `the upload broke off after ${total} bytes: ${error.message}`, { cause: error }));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

function tooLarge(what: string, maxBytes: number): ServerError {
  return new ServerError(
    'MODULE_TOO_LARGE',
    `module ${what}, past the extension point's maxModuleBytes (${maxBytes}): make it smaller (strip custom sections, optimize for size)`,
  );
}
