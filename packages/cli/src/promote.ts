import type { Installation } from '@tenon/platform';
import { Command } from 'commander';
import { type ApiFlags, apiCall, DEFAULT_SERVER } from './api-client.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './main.js';

interface PromoteFlags extends ApiFlags {
  rollback?: boolean;
}

/** `tenon promote`: make an installation's candidate its version (or, with --rollback, drop it). */
export function promoteCommand(io: Io, exit: (status: number) => void, env: NodeJS.ProcessEnv = process.env): Command {
  return new Command('promote')
    .description("Make an installation's candidate version its current one (operator)")
    .argument('<installation>', 'the installation id')
    .option('--rollback', 'drop the candidate instead')
    .option('--server <url>', `the Tenon server (default: $TENON_SERVER or ${DEFAULT_SERVER})`)
    .option('--key <key>', 'the operator key (default: $TENON_KEY)')
    .addHelpText(
      'after',
      '\nExit codes:\n  0  done\n  2  refused (no candidate, unknown installation, not the operator) or server unreachable',
    )
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(async (id: string, flags: PromoteFlags) => {
      const action = flags.rollback ? 'rollback' : 'promote';
      const path = `v1/installations/${encodeURIComponent(id)}/${action}`;
      const installation = await apiCall<Installation>(io, env, flags, action, 'POST', path);
      if (installation === undefined) return exit(EXIT.usage);
      io.stdout.write(
        flags.rollback
          ? `installation ${installation.id} rolled back: runs ${installation.versionId}\n`
          : `installation ${installation.id} promoted: runs ${installation.versionId}\n`,
      );
      exit(EXIT.ok);
    });
}
