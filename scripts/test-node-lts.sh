#!/usr/bin/env bash
# Run the test suite on another Node major (default: the current LTS, 24) without touching this tree.
#   scripts/test-node-lts.sh [major]        (after npm ci / npm run build on the machine's own Node)
# The Node binary and its headers come from the npm registry (the node-linux-<arch> package). The tree is
# copied to a temporary folder; its node_modules holds links to this tree's packages, except better-sqlite3,
# which is copied and rebuilt there against the other Node's headers (a native module is built for one ABI),
# so this tree's own install keeps working on the machine's Node.
set -euo pipefail
major="${1:-24}"
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/dsguard-node${major}.XXXXXX")"
trap 'rm -rf "$work"' EXIT

arch="$(node -p process.arch)"
echo "== node ${major}: fetching node-linux-${arch}@${major} from the npm registry"
(cd "$work" && npm pack "node-linux-${arch}@${major}" --silent >/dev/null && tar xzf node-linux-*.tgz && mv package node)
node_bin="$work/node/bin/node"
echo "== $("$node_bin" --version) ($(du -sh "$work/node" | cut -f1) unpacked)"

# The tree, without its dependencies, version control or bench data; ../shared next to it when present (the
# corpus test reads ../shared/corpus).
tree="$work/tree/dsguard"
mkdir -p "$tree"
tar -C "$src" --exclude=./node_modules --exclude=./.git --exclude=./bench/.data --exclude='*.db' -cf - . | tar -C "$tree" -xf -
if [ -d "$src/../shared" ]; then ln -s "$(cd "$src/../shared" && pwd)" "$work/tree/shared"; fi
modules="$(cd "$src/node_modules" && pwd -P)"
mkdir "$tree/node_modules"
for entry in "$modules"/* "$modules"/.bin; do
  name="$(basename "$entry")"
  [ "$name" = better-sqlite3 ] && continue
  ln -s "$entry" "$tree/node_modules/$name"
done
cp -a "$modules/better-sqlite3" "$tree/node_modules/better-sqlite3"
rm -rf "$tree/node_modules/better-sqlite3/build"

echo "== rebuilding better-sqlite3 against node ${major}'s headers"
(cd "$tree" && npm_config_nodedir="$work/node" npm rebuild better-sqlite3 --build-from-source --foreground-scripts \
  >"$work/rebuild.log" 2>&1) || { tail -n 40 "$work/rebuild.log"; exit 1; }
"$node_bin" -e "new (require('$tree/node_modules/better-sqlite3'))(':memory:').close()"

echo "== build and test suite on $("$node_bin" --version)"
cd "$tree"
# npm and its scripts run on the other Node too (PATH), so dist/ is built there from the copied sources.
PATH="$work/node/bin:$PATH" npm run build --silent >/dev/null
# vitest's worker processes use the Node that runs vitest (process.execPath): all tests run on this Node.
PATH="$work/node/bin:$PATH" "$node_bin" node_modules/vitest/vitest.mjs run
