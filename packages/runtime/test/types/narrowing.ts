// Type-checked by error-narrowing.test.ts with tsc: each branch reads a subclass's own field right
// after `isTenonError(e) && e.code === ...`, with no cast. If narrowing by code breaks, tsc fails.
import { isTenonError } from '@tenon/runtime';

/** What a host would print for an error, reading each code's own fields. */
export function describeFailure(e: unknown): string {
  if (!isTenonError(e)) return 'not ours';
  if (e.code === 'PLUGIN_FAILED') return `plug-in said ${e.pluginMessage ?? '(nothing)'} (return code ${e.returnCode})`;
  if (e.code === 'FUEL_EXHAUSTED') return `used ${e.fuelUsed} of ${e.fuelLimit} fuel`;
  if (e.code === 'TIMEOUT') return `past ${e.timeoutMs} ms`;
  if (e.code === 'TRAP') return `trap ${e.kind}`;
  if (e.code === 'LINK_FAILED') return `${e.unresolved.length} unresolved imports`;
  if (e.code === 'MANIFEST_INVALID') return `manifest field ${e.field}`;
  if (e.code === 'CAPABILITY_DENIED') return `refused ${e.resource ?? '?'}`;
  if (e.code === 'HOST_FUNCTION_FAILED' || e.code === 'FUNCTION_NOT_FOUND') return `function ${e.functionName}`;
  return e.code;
}
