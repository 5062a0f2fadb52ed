#!/bin/sh
# Runs @extism/extism's own test suite (src/mod.test.ts of extism/js-sdk) against the drop-in
# @tenon/runtime/extism, or against the installed @extism/extism for a baseline. Nothing here is
# downloaded and none of the suite is kept in this repository: bring your own checkout.
#
#   git clone https://github.com/extism/js-sdk /tmp/js-sdk && git -C /tmp/js-sdk checkout v2.0.0-rc13
#   npm run build
#   scripts/extism-suite.sh /tmp/js-sdk            # against packages/runtime/dist/extism.js
#   scripts/extism-suite.sh /tmp/js-sdk rc13       # against node_modules/@extism/extism (2.0.0-rc13)
#
# The suite loads its wasm fixtures from http://localhost:8124/wasm/ and reads tests/data relative
# to the working directory, so this script serves the checkout on port 8124 (it must be free) and
# runs the copied test file from a scratch directory that links the checkout's wasm/ and tests/.
# Three tests reach jsonplaceholder.typicode.com and github.com and fail without the internet.
set -eu

checkout=${1:?usage: scripts/extism-suite.sh <js-sdk checkout at v2.0.0-rc13> [tenon|rc13]}
target=${2:-tenon}
repo=$(cd "$(dirname "$0")/.." && pwd)
checkout=$(cd "$checkout" && pwd)
[ -f "$checkout/src/mod.test.ts" ] || { echo "extism-suite: $checkout/src/mod.test.ts not found" >&2; exit 2; }

case $target in
  tenon) module="$repo/packages/runtime/dist/extism.js" ;;
  rc13) module="$repo/node_modules/@extism/extism/dist/esm/mod.js" ;;
  *) echo "extism-suite: target must be tenon or rc13, not $target" >&2; exit 2 ;;
esac
[ -f "$module" ] || { echo "extism-suite: $module not found (run npm run build / npm install)" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/extism-suite.XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

mkdir "$scratch/src"
cp "$checkout/src/mod.test.ts" "$scratch/src/mod.test.ts"
ln -s "$checkout/wasm" "$scratch/wasm"
ln -s "$checkout/tests" "$scratch/tests"
printf "export * from '%s';\nexport { default } from '%s';\n" "$module" "$module" > "$scratch/src/mod.ts"

# A static file server for the checkout, in its own process so a plug-in blocking its thread
# cannot starve it
node -e '
  const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
  const root = process.argv[1];
  http.createServer((req, res) => {
    const file = path.join(root, path.normalize(new URL(req.url, "http://x").pathname));
    if (!file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end(); return; }
      // @extism/extism compiles a fetched Response with WebAssembly.compileStreaming, which needs the type
      res.writeHead(200, file.endsWith(".wasm") ? { "content-type": "application/wasm" } : {}).end(body);
    });
  }).listen(8124, "localhost", () => process.stdout.write("serving " + root + " on localhost:8124\n"));
' "$checkout" &
server_pid=$!
sleep 1

cd "$scratch"
node --import "$repo/node_modules/tsx/dist/loader.mjs" --test --test-reporter=spec src/mod.test.ts
