// The host side of this example: the exchange_rate host function, as a host application would
// grant it (`createPlugin(wasm, { functions })`). `tenon test` loads it through cases.json.

/** Rates the host holds; a real host reads them from its own database. */
const RATES = new Map([
  ['EUR:USD', 1.0825],
  ['USD:EUR', 0.9238],
  ['EUR:GBP', 0.8571],
]);

/** @type {import('@tenon/runtime').HostFunction[]} */
export const functions = [
  {
    name: 'exchange_rate',
    params: ['ptr'],
    results: ['ptr'],
    call(context, pair) {
      const rate = RATES.get(context.text(pair) ?? '');
      return rate === undefined ? 0 : context.write(String(rate));
    },
  },
];
