import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

interface ServeFlags {
  port: number;
  host: string;
  data?: string;
  store?: string;
}

/** `tenon serve`: the platform's HTTP API on the embedded store, until SIGINT or SIGTERM. */
export function serveCommand(io: Io, exit: (status: number) => void, env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('serve')
    .description('Serve the platform API (extension points, partners, plug-ins, versions, installations, runs, events)')
    .option('--port <port>', 'TCP port; 0 picks a free one (the address is printed)', port, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'directory of the embedded SQLite store (default ./tenon-data)')
    .option(
      '--store <url>',
      'a store URL instead of --data: sqlite:/path/tenon.db, or postgres://user@host/db[?schema=NAME] for several processes on one database',
    )
    .addHelpText(
      'after',
      '\nThe operator key is TENON_OPERATOR_KEY; without it, one is generated on the first start, printed once and stored hashed.',
    )
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (flags: ServeFlags) => {
      exit(await serve(flags, io, env));
    });
}

async function serve(flags: ServeFlags, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  if (flags.data !== undefined && flags.store !== undefined) {
    io.stderr.write('tenon: give --data or --store, not both\n');
    return EXIT.usage;
  }
  let store = flags.store;
  if (store === undefined) {
    const dir = resolve(flags.data ?? 'tenon-data');
    await mkdir(dir, { recursive: true });
    store = `sqlite:${resolve(dir, 'tenon.db')}`;
  }
  // Loaded here, not at the top: `tenon call` and `tenon test` need neither SQLite nor Fastify.
  const [{ createPlatform }, { createServer }] = await Promise.all([import('@tenon/platform'), import('@tenon/server')]);
  const platform = await createPlatform({ store });
  try {
    const generated = await platform.ensureOperatorKey(env.TENON_OPERATOR_KEY === '' ? undefined : env.TENON_OPERATOR_KEY);
    if (generated !== undefined) {
      io.stdout.write(`tenon: operator key (shown once, stored hashed; keep it): ${generated}\n`);
    }
    const app = await createServer({ platform });
    const address = await app.listen({ port: flags.port, host: flags.host });
    io.stdout.write(`tenon: listening on ${address}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await app.close();
  } finally {
    await platform.close();
  }
  return EXIT.ok;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return n;
}
