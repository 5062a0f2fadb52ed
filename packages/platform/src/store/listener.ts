// PostgreSQL's LISTEN on one dedicated connection: told of every event appended to this store's
// schema by any process (migration 0002's trigger), reconnecting with a growing pause when the
// connection is lost. The follower reads the events themselves by cursor.
import pg from 'pg';

export interface ListenerOptions {
  config: pg.ClientConfig;
  schema: string;
  /** An event's sequence number was announced. */
  onNotify: (seq: number) => void;
  /** LISTEN is in place (again): read everything missed since the cursor. */
  onConnected: () => void;
  /** The connection failed or was lost (reported once per loss). */
  onLost: (error: unknown) => void;
}

export class EventListener {
  readonly #options: ListenerOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = 100;
  #timer: NodeJS.Timeout | undefined;
  /** True while LISTEN is in place. */
  connected = false;

  constructor(options: ListenerOptions) {
    this.#options = options;
  }

  /** Resolves once the first LISTEN is in place, or rejects when it cannot connect. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#options.config);
    this.#client = client;
    const prefix = `${this.#options.schema}:`;
    let lost = false;
    const onLost = (error: unknown) => {
      if (lost || this.#closed) return;
      lost = true;
      this.connected = false;
      this.#options.onLost(error);
      void client.end().catch(() => {});
      this.#retry();
    };
    // Without an error listener pg would crash the process when the server goes away.
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== 'tenon_events' || !message.payload?.startsWith(prefix)) return;
      this.#options.onNotify(Number(message.payload.slice(prefix.length)));
    });
    try {
      await client.connect();
      await client.query('listen tenon_events');
    } catch (error) {
      onLost(error);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.connected = true;
    this.#retryMs = 100;
    this.#options.onConnected();
  }

  #retry(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().catch(() => {});
    }, this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, 2000);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.connected = false;
    await this.#client?.end().catch(() => {});
  }
}
