#!/usr/bin/env bash
# Builds better-sqlite3 12, the SQLite driver for Node 20 (which has no node:sqlite;
# better-sqlite3 13 ships N-API 10 binaries that crash there), for the system Node
# (the one `npm run test:node20` uses: the first `node` on PATH outside
# node_modules, 20 or newer, as `scripts/run-with-system-node.mjs --which` finds
# it), in a cache folder outside the project, and prints the module's folder. The
# Node 20 smoke test runs a database-strategy server on it when
# SESSIONPULSE_NODE20_BETTER_SQLITE3 names it:
#
#   export SESSIONPULSE_NODE20_BETTER_SQLITE3="$(scripts/node20-better-sqlite3.sh)"
#
# The project's own devDependency is better-sqlite3 13 (prebuilt for the test Node);
# version 12 has no prebuilt binary it can fetch here, so it compiles (about 2 min,
# once per machine and Node version).
set -euo pipefail

VERSION=12.11.1
# Any `node` can run the finder (it looks past node_modules itself); it says why when it finds none.
node_bin=$(node "$(dirname "$0")/run-with-system-node.mjs" --which)
node_dir=$(dirname "$node_bin")
node_version=$("$node_bin" -p process.version)

cache="${XDG_CACHE_HOME:-$HOME/.cache}/sessionpulse/better-sqlite3-$VERSION-node-$node_version"
module="$cache/node_modules/better-sqlite3"
# Opens an in-memory database with the module; prints nothing when it works, the error when not.
load_error() { "$node_bin" -e 'new (require(process.argv[1]))(":memory:").close()' "$module" 2>&1 >/dev/null; }

if ! load_error >/dev/null; then
  echo "building better-sqlite3 $VERSION for node $node_version in $cache" >&2
  rm -rf "$cache"
  mkdir -p "$cache"
  echo '{ "private": true }' >"$cache/package.json"
  # The system node and its npm, so node-gyp compiles against this Node's headers.
  (
    cd "$cache"
    PATH="$node_dir:$PATH" npm install --no-audit --no-fund --ignore-scripts "better-sqlite3@$VERSION" >&2
    PATH="$node_dir:$PATH" npm rebuild better-sqlite3 >&2
  )
  if ! error=$(load_error); then
    echo "better-sqlite3 $VERSION built but does not load on node $node_version:" >&2
    echo "$error" >&2
    exit 1
  fi
fi
echo "$module"
