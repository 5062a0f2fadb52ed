// A process that opens a platform on a store with a spool (recovering whatever dead processes left
// there) and closes it: the spool test starts two at once.
import { createPlatform } from '../../src/index.js';

const [store, spool] = process.argv.slice(2) as [string, string];
const platform = await createPlatform({ store: store.includes('://') ? store : `sqlite:${store}`, records: { spool } });
await platform.close();
