/**
 * What the PDK's strict JSON input costs: fuel (and median time) of decoding the invoicing demo's
 * `invoice.discounts` input with `inputJson` (strict: read, walk the declared types, then json-as)
 * against `inputJsonUnchecked` (json-as alone), for invoices of 1 to 500 lines, side by side.
 *
 *   npm run build && node scripts/build-fixtures.js && node --import tsx bench/strict-json.ts
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createPlugin } from '../packages/runtime/src/index.js';

const wasm = readFileSync(new URL('../packages/pdk/test/fixtures/build/strict.wasm', import.meta.url));

function invoice(lines: number): string {
  const line = { sku: 'SKU-D', description: 'Standing desk', quantity: 12, unit_price_cents: 42_900, amount_cents: 514_800 };
  return JSON.stringify({
    id: 'INV-0000001',
    issued_on: '2026-06-01',
    currency: 'EUR',
    customer: { id: 'C-1', tier: 'gold', country: 'DE', customer_since: '2016-03-01' },
    lines: Array.from({ length: lines }, () => line),
    total_cents: 514_800 * lines,
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

await using plugin = await createPlugin(wasm, { fuel: 1e10 });
console.log('lines  bytes    fuel unchecked  fuel strict  ratio   µs unchecked  µs strict');
for (const lines of [1, 10, 100, 500]) {
  const input = invoice(lines);
  const measure = (fn: string) => {
    const times: number[] = [];
    let fuel = 0;
    for (let i = 0; i < 31; i++) {
      const start = performance.now();
      plugin.call(fn, input);
      times.push((performance.now() - start) * 1000);
      fuel = plugin.stats.fuel ?? Number.NaN;
    }
    return { fuel, micros: median(times) };
  };
  const unchecked = measure('invoice_unchecked');
  const strict = measure('invoice_strict');
  console.log(
    `${String(lines).padStart(5)}  ${String(input.length).padStart(6)}  ${String(unchecked.fuel).padStart(14)}  ${String(strict.fuel).padStart(11)}  ${(strict.fuel / unchecked.fuel).toFixed(2).padStart(5)}  ${unchecked.micros.toFixed(0).padStart(13)}  ${strict.micros.toFixed(0).padStart(9)}`,
  );
}
