#!/usr/bin/env bash
# Runs a real Temporal server (not the dev server) on PostgreSQL in the foreground, until
# Ctrl-C or SIGTERM, so that the benchmarks can measure against the persistence production
# uses:  npm run temporal:postgres [-- --port 7243]   then   TEMPORAL_ADDRESS=127.0.0.1:7243 ...
#
# Builds the server and its SQL schema tool from the Go module proxy the first time (a few
# minutes) into the same per-user cache as scripts/install-temporal.sh, so every clone on the
# machine (CI included) finds them. The rest (PostgreSQL, schemas, config, namespace, search
# attributes, shutdown) is bench/temporal-postgres/main.ts.
#
#   SAAS_FULFILLMENT_CACHE    cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/saas-fulfillment)
#   TEMPORAL_SERVER_VERSION   server tag (default: v1.29.1, the version the design measured)
#   TEMPORAL_DB_URL           postgres://user:password@host:port to use instead of an embedded PostgreSQL
set -euo pipefail

cache="${SAAS_FULFILLMENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/saas-fulfillment}"
bin="$cache/bin"
mkdir -p "$bin"
log() { echo "[temporal-postgres] $*" >&2; }

version=${TEMPORAL_SERVER_VERSION:-v1.29.1}
module=go.temporal.io/server
# Records which version the two binaries in the cache were built from.
stamp="$bin/.temporal-server-version"

install_server() {
  if [ -x "$bin/temporal-server" ] && [ -x "$bin/temporal-sql-tool" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "go is not installed; cannot build the Temporal server"; return 1; }
  log "building the Temporal server $version and its SQL tool with go install (takes a few minutes the first time)"
  # `go install` names the binaries after their folders (server, sql): too generic for a shared
  # bin folder, so they are built aside and renamed.
  local staging="$cache/.temporal-server-build"
  rm -rf "$staging"
  GOBIN="$staging" GOFLAGS=-mod=mod go install "$module/cmd/server@$version" "$module/cmd/tools/sql@$version"
  mv -f "$staging/server" "$bin/temporal-server"
  mv -f "$staging/sql" "$bin/temporal-sql-tool"
  rm -rf "$staging"
  echo "$version" >"$stamp"
  log "installed $bin/temporal-server and $bin/temporal-sql-tool ($version)"
}

install_server
# The schema files and sample configs ship in the server's module source, not in the
# binaries; `go mod download` fetches it if the module cache lost it and prints its folder.
# (Run outside any Go module, where the version given is the one downloaded.)
TEMPORAL_SERVER_SOURCE=$(cd / && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -d "$TEMPORAL_SERVER_SOURCE/schema/postgresql/v12" ] || { log "no PostgreSQL schema in the $module@$version module source"; exit 1; }
export TEMPORAL_SERVER_SOURCE

# exec: the signals that stop us reach the TypeScript side, which stops the server and PostgreSQL in order.
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/bench/temporal-postgres/main.ts" "$@"
