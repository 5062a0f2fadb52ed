// Builds the dashboard into dist/: one bundled, minified script and its stylesheet, no CDN. Prints
// what a browser downloads, gzipped, and fails past the 300 KB budget.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const BUDGET = 300 * 1024;
// Chunks are named by their hash: a fresh folder, so old ones are not served (nor counted).
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/main.tsx') },
  outdir: out,
  // Chart.js is imported dynamically, into a chunk of its own that only the overview loads.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'src/app.css'), join(out, 'app.css'));
let total = 0;
for (const file of readdirSync(out).sort()) {
  const bytes = readFileSync(join(out, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  if (file.endsWith('.js')) total += gz;
  console.log(`dashboard: ${file} ${(bytes.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
console.log(`dashboard: JavaScript, every chunk, ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error('dashboard: over the JavaScript budget');
  process.exit(1);
}
