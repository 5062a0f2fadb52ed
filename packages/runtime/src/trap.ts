import type { TrapKind } from './errors.js';

// V8's messages for WebAssembly traps (src/common/message-template.h, kWasmTrap*), checked on Node 20.
const TRAP_MESSAGES: readonly [RegExp, TrapKind, string][] = [
  [/^unreachable/, 'unreachable', 'reached an unreachable instruction (a panic or abort in the plug-in)'],
  [/memory access out of bounds/, 'memory_out_of_bounds', 'accessed memory out of bounds'],
  [/divide by zero|remainder by zero/, 'divide_by_zero', 'divided an integer by zero'],
  [/divide result unrepresentable|integer overflow/, 'integer_overflow', 'overflowed an integer division'],
  [/float unrepresentable|invalid conversion/, 'invalid_conversion', 'converted a float that does not fit an integer'],
  [/table index is out of bounds|element segment out of bounds/, 'table_out_of_bounds', 'indexed a table out of bounds'],
  [
    /null function or function signature mismatch|signature mismatch/,
    'indirect_call_mismatch',
    'made an indirect call to a null or mismatched function',
  ],
  [/dereferencing a null pointer|null/, 'null_reference', 'dereferenced a null reference'],
  [/unaligned/, 'unaligned_access', 'made an unaligned atomic access'],
];

/** The kind of trap and a plain description, or undefined when `error` is not a WebAssembly trap. */
export function classifyTrap(error: unknown): { kind: TrapKind; description: string } | undefined {
  if (error instanceof RangeError && /call stack size/i.test(error.message)) {
    return { kind: 'stack_overflow', description: 'overflowed the call stack (runaway recursion?)' };
  }
  if (!(error instanceof WebAssembly.RuntimeError)) return undefined;
  for (const [pattern, kind, description] of TRAP_MESSAGES) {
    if (pattern.test(error.message)) return { kind, description };
  }
  return { kind: 'other', description: `trapped (${error.message})` };
}
