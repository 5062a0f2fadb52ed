// The invoicing service's own database: the data partners' plug-ins decide on, and never see
// beyond the one invoice they are handed.
import Database from 'better-sqlite3';

export type InvoicingDatabase = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  email          TEXT NOT NULL,
  tier           TEXT NOT NULL CHECK (tier IN ('none', 'silver', 'gold')),
  country        TEXT NOT NULL,
  customer_since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
  id              TEXT PRIMARY KEY,
  customer_id     TEXT NOT NULL REFERENCES customers (id),
  issued_on       TEXT NOT NULL,
  currency        TEXT NOT NULL,
  total_cents     INTEGER NOT NULL CHECK (total_cents >= 0),
  -- Set in the same transaction as the invoice's discounts: a run applies each invoice once.
  discount_cents  INTEGER NOT NULL DEFAULT 0 CHECK (discount_cents BETWEEN 0 AND total_cents),
  discount_run_id INTEGER REFERENCES runs (id)
);
CREATE INDEX IF NOT EXISTS invoices_pending ON invoices (id) WHERE discount_run_id IS NULL;
CREATE TABLE IF NOT EXISTS invoice_lines (
  invoice_id       TEXT NOT NULL REFERENCES invoices (id),
  line             INTEGER NOT NULL,
  sku              TEXT NOT NULL,
  description      TEXT NOT NULL,
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
  amount_cents     INTEGER NOT NULL,
  PRIMARY KEY (invoice_id, line)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  extension_point TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS discounts (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES runs (id),
  invoice_id   TEXT NOT NULL REFERENCES invoices (id),
  partner      TEXT NOT NULL,
  code         TEXT NOT NULL,
  line         INTEGER,
  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
  reason       TEXT
);
CREATE INDEX IF NOT EXISTS discounts_by_invoice ON discounts (invoice_id);
-- Every partner's outcome on every invoice (from point.run), for the report: the host's own audit, applied with the invoice.
CREATE TABLE IF NOT EXISTS partner_calls (
  run_id     INTEGER NOT NULL REFERENCES runs (id),
  invoice_id TEXT NOT NULL,
  tenant     TEXT NOT NULL,
  partner    TEXT NOT NULL,
  call_us    REAL NOT NULL,
  fuel       INTEGER,
  -- 'ok', or the Tenon code (contained) or rule (rejected) that stopped the answer
  outcome    TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('ok', 'contained', 'rejected')),
  detail     TEXT,
  PRIMARY KEY (run_id, invoice_id, partner)
) WITHOUT ROWID;
-- Every HTTP request a partner's plug-in made or tried, from the runtime's audit trail: what left.
CREATE TABLE IF NOT EXISTS partner_requests (
  run_id     INTEGER NOT NULL REFERENCES runs (id),
  invoice_id TEXT NOT NULL,
  partner    TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  method     TEXT NOT NULL,
  host       TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  bytes_out  INTEGER NOT NULL,
  bytes_in   INTEGER NOT NULL,
  PRIMARY KEY (run_id, invoice_id, partner, seq)
) WITHOUT ROWID;
`;

/** Opens (creating if need be) the database at `path`, or an in-memory one for ':memory:'. */
export function openDatabase(path: string): InvoicingDatabase {
  const db = new Database(path);
  // WAL with synchronous=NORMAL keeps every committed transaction across a process crash (only a
  // power cut can lose the last few), at a fraction of FULL's cost per commit.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  return db;
}
