// The drop-in's error messages: each TenonError keeps its class, code and fields, and takes the
// message @extism/extism gives for the same failure (code written against it matches messages).
import { isTenonError, LinkError, type TenonError } from './errors.js';

/** Where an error arose: loading, instantiating, calling, or in a host function (thrown through the call as it was). */
export type Phase = 'load' | 'instantiate' | 'call' | 'host';

/**
 * The TenonError with the message @extism/extism gives for the same failure (code, class and
 * fields stay; Tenon's own message moves to `tenonMessage`). Other errors pass unchanged.
 */
export function extismError(error: unknown, phase: Phase, useWasi = true): unknown {
  if (!isTenonError(error) || Object.hasOwn(error, 'tenonMessage')) return error;
  const message = extismMessage(error, phase, useWasi);
  return message === undefined ? error : withMessage(error, message);
}

function extismMessage(error: TenonError, phase: Phase, useWasi: boolean): string | undefined {
  const fields = error as TenonError & Record<string, unknown>;
  switch (error.code) {
    case 'TIMEOUT':
      return phase === 'call' ? 'EXTISM: call canceled due to timeout' : 'EXTISM: timed out while waiting for plugin to instantiate';
    case 'PLUGIN_FAILED':
      return typeof fields.pluginMessage === 'string' ? `Plugin-originated error: ${fields.pluginMessage}` : undefined;
    case 'FUNCTION_NOT_FOUND':
      return error.message.includes('has no exported function')
        ? `Plugin error: function "${String(fields.functionName)}" does not exist`
        : `Plugin error: ${error.message}`;
    case 'HASH_MISMATCH': {
      const hashes = /expected "([0-9a-f]+)", got "([0-9a-f]+)"/.exec(error.message);
      return hashes
        ? `Plugin error: hash mismatch. Expected: ${hashes[1]}. Actual: ${hashes[2]}`
        : `Plugin error: hash mismatch: ${error.message}`;
    }
    case 'MANIFEST_INVALID':
      // a hash that is not a sha256 cannot match: @extism/extism reports it as a mismatch
      return /^wasm\[\d+\]\.hash$/.test(String(fields.field)) ? `Plugin error: hash mismatch: ${error.message}` : undefined;
    case 'VAR_LIMIT': {
      const sizes = /vars would take (\d+) bytes, above memory\.maxVarBytes (\d+)/.exec(error.message);
      if (!sizes) return undefined;
      // a plug-in's var_set fails as an error it set; a host function's setVariable throws
      const prefix = phase === 'host' ? '' : 'Plugin-originated error: ';
      return `${prefix}var memory limit exceeded: ${sizes[1]} bytes requested, ${sizes[2]} allowed`;
    }
    case 'CAPABILITY_DENIED': {
      const host = /HTTP requests to "([^"]*)"/.exec(error.message)?.[1];
      const url = (fields.resource as string | undefined) ?? host;
      return host === undefined ? undefined : `Call error: HTTP request to "${url}" is not allowed (no allowedHosts match "${host}")`;
    }
    case 'HOST_FUNCTION_FAILED':
      // @extism/extism without JSPI fails here too, less clearly: say what works instead
      return error.message.includes('returned a Promise')
        ? `${error.message} (pass runInWorker: true for async host functions)`
        : undefined;
    case 'LINK_FAILED':
      return error instanceof LinkError ? linkMessage(error, useWasi) : undefined;
    default:
      return undefined;
  }
}

/** @extism/extism names the first import it cannot resolve, with the chain of modules that led to it. */
function linkMessage(error: LinkError, useWasi: boolean): string | undefined {
  const first = error.unresolved[0];
  if (!first) return undefined;
  if (first.module === 'wasi_snapshot_preview1' && !useWasi) return 'WASI is not enabled; see the "useWasi" plugin option';
  const chain = (first.path ?? []).join('"/"');
  return `from module "${chain}": cannot resolve import "${first.module}" "${first.name}": not provided by host imports nor linked manifest items`;
}

export function withMessage<E extends TenonError>(error: E, message: string): E {
  if (error.message === message) return error;
  Object.assign(error, { tenonMessage: error.message });
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
  return error;
}
