import type { TenonErrorCode } from '@tenon/runtime';

/** Exit statuses of `tenon`, one table for every command. */
export const EXIT = {
  ok: 0,
  pluginError: 1,
  usage: 2,
  trap: 3,
  limit: 4,
  capability: 5,
  internal: 70,
} as const;

const BY_CODE: Record<TenonErrorCode, number> = {
  PLUGIN_FAILED: EXIT.pluginError,
  PLUGIN_EXIT: EXIT.pluginError,
  CAPABILITY_DENIED: EXIT.capability,
  MANIFEST_INVALID: EXIT.usage,
  LOAD_FAILED: EXIT.usage,
  HASH_MISMATCH: EXIT.usage,
  LINK_FAILED: EXIT.usage,
  FUNCTION_NOT_FOUND: EXIT.usage,
  UNSUPPORTED: EXIT.usage,
  CLOSED: EXIT.usage,
  REENTRANT_CALL: EXIT.trap,
  TRAP: EXIT.trap,
  HOST_FUNCTION_FAILED: EXIT.trap,
  HTTP_FAILED: EXIT.trap,
  WORKER_CRASHED: EXIT.internal,
  // no command takes a signal; a host's own abort is not the plug-in's failure
  ABORTED: EXIT.internal,
  INTERNAL: EXIT.internal,
  MEMORY_LIMIT: EXIT.limit,
  VAR_LIMIT: EXIT.limit,
  INPUT_LIMIT: EXIT.limit,
  OUTPUT_LIMIT: EXIT.limit,
  LOG_LIMIT: EXIT.limit,
  INSTANCE_LIMIT: EXIT.limit,
  TIMEOUT: EXIT.limit,
  FUEL_EXHAUSTED: EXIT.limit,
  HTTP_RESPONSE_LIMIT: EXIT.limit,
};

/** The exit status for a Tenon error code. */
export function exitCodeFor(code: TenonErrorCode): number {
  return BY_CODE[code];
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the plug-in reported an error (error_set, non-zero return, WASI exit); output it set still goes to stdout
  2  usage, manifest or load error (bad flag, missing file, invalid manifest, unresolved import, unknown function)
  3  the plug-in trapped (unreachable, out-of-bounds access, stack overflow, a host function or an HTTP request failed)
  4  a resource limit was hit (memory, vars, input, output, log or HTTP response size, time, fuel)
  5  the plug-in asked for a capability it was not granted (CAPABILITY_DENIED: an HTTP host, a path)
  70 a fault in the host, not the plug-in (INTERNAL: Tenon's own code threw; WORKER_CRASHED: a pool worker died)`;
