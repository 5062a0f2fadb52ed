// A realistic, reproducible data set: the same seed gives the same customers, invoices and lines.
import type { InvoicingDatabase } from './database.js';

export interface SeedOptions {
  /** Invoices to create. */
  invoices: number;
  /** PRNG seed; the same seed gives the same data. Default 1. */
  seed?: number;
  /** Called after each committed batch with the invoices written so far. */
  onProgress?: (written: number) => void;
}

/** Rows inserted, as the database reported them. */
export interface SeedSummary {
  customers: number;
  invoices: number;
  lines: number;
}

const FIRST_NAMES = [
  'Ada',
  'Bruno',
  'Chiara',
  'Dmitri',
  'Elif',
  'Farah',
  'Goran',
  'Hanna',
  'Ines',
  'Jonas',
  'Katja',
  'Luca',
  'Mina',
  'Nils',
  'Olga',
  'Pau',
];
const LAST_NAMES = ['Keller', 'Rossi', 'Novak', 'Berg', 'Dubois', 'Silva', 'Horvat', 'Jansen', 'Kowalski', 'Moreau', 'Nieminen', 'Ortega'];
const COMPANY_KINDS = ['Bakery', 'Print Shop', 'Studio', 'Garage', 'Clinic', 'Bistro', 'Workshop', 'Florist', 'Bookshop', 'Agency'];
const COUNTRIES = ['DE', 'FR', 'IT', 'ES', 'NL', 'AT', 'BE', 'FI', 'PT', 'IE'];
const PRODUCTS = [
  ['Printer paper, A4, 500 sheets', 649],
  ['Toner cartridge, black', 7990],
  ['Office chair', 18900],
  ['Standing desk', 42900],
  ['Monitor, 27"', 27900],
  ['USB-C dock', 15900],
  ['Coffee beans, 1 kg', 2190],
  ['Cleaning service, hour', 3500],
  ['Delivery', 1490],
  ['Software licence, seat', 1200],
  ['Notebooks, pack of 10', 1890],
  ['Label printer', 9900],
] as const;

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const isoDate = (year: number, dayOfYear: number) => new Date(Date.UTC(year, 0, 1 + dayOfYear)).toISOString().slice(0, 10);

export function invoiceId(n: number): string {
  return `INV-${pad(n, 7)}`;
}

/** Fills an empty database with customers (one per five invoices) and invoices with 1-6 lines each. */
export function seedDatabase(db: InvoicingDatabase, options: SeedOptions): SeedSummary {
  if (!Number.isSafeInteger(options.invoices) || options.invoices < 1 || options.invoices > 9_999_999) {
    throw new RangeError(`invoices must be an integer from 1 to 9,999,999, got ${options.invoices}`);
  }
  const existing = db.prepare('SELECT count(*) AS n FROM invoices').get() as { n: number };
  if (existing.n > 0) throw new Error(`the database already holds ${existing.n} invoices: seed a new one`);

  const random = generator(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

  const insertCustomer = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)');
  const insertInvoice = db.prepare('INSERT INTO invoices (id, customer_id, issued_on, currency, total_cents) VALUES (?, ?, ?, ?, ?)');
  const insertLine = db.prepare('INSERT INTO invoice_lines VALUES (?, ?, ?, ?, ?, ?, ?)');

  const customers = Math.max(1, Math.ceil(options.invoices / 5));
  // the summary counts the rows the database took, not the rows asked for
  let customerRows = 0;
  let invoiceRows = 0;
  let lineRows = 0;
  db.transaction(() => {
    for (let c = 1; c <= customers; c++) {
      const first = pick(FIRST_NAMES);
      const last = pick(LAST_NAMES);
      const roll = random();
      const tier = roll < 0.1 ? 'gold' : roll < 0.35 ? 'silver' : 'none';
      const since = isoDate(between(2008, 2025), between(0, 364));
      const name = `${first} ${last} ${pick(COMPANY_KINDS)}`;
      const email = `${first}.${last}.${c}@example.com`.toLowerCase();
      customerRows += insertCustomer.run(`C-${pad(c, 6)}`, name, email, tier, pick(COUNTRIES), since).changes;
    }
  })();

  const batch = 5000;
  for (let start = 1; start <= options.invoices; start += batch) {
    const end = Math.min(options.invoices, start + batch - 1);
    db.transaction(() => {
      for (let n = start; n <= end; n++) {
        const id = invoiceId(n);
        const lineCount = between(1, 6);
        let total = 0;
        const rows: [number, string, string, number, number, number][] = [];
        for (let line = 0; line < lineCount; line++) {
          const product = between(0, PRODUCTS.length - 1);
          const [description, price] = PRODUCTS[product] as (typeof PRODUCTS)[number];
          const roll = random();
          const quantity = roll < 0.75 ? between(1, 9) : roll < 0.95 ? between(10, 49) : between(50, 200);
          total += quantity * price;
          rows.push([line, `SKU-${pad(product + 1, 4)}`, description, quantity, price, quantity * price]);
        }
        invoiceRows += insertInvoice.run(id, `C-${pad(between(1, customers), 6)}`, isoDate(2026, between(0, 333)), 'EUR', total).changes;
        for (const row of rows) lineRows += insertLine.run(id, ...row).changes;
      }
    })();
    options.onProgress?.(end);
  }
  return { customers: customerRows, invoices: invoiceRows, lines: lineRows };
}
