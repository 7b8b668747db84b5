#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the Java time-skipping test server
# from the Go module proxy and Maven Central, for machines that cannot reach Temporal's
# own download site. Idempotent; results are cached per user so that every clone on the
# machine (CI included) finds them.
#
#   SAAS_FULFILLMENT_CACHE   cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/saas-fulfillment)
#   TEMPORAL_CLI_VERSIONS    CLI tags to try in order (default: v1.5.1 v1.4.1 v1.3.0)
#   TEMPORAL_TEST_SERVER_VERSIONS  test-server releases to try in order
#
# Prints nothing but progress on stderr; exits non-zero only when every pin failed.
set -euo pipefail

cache="${SAAS_FULFILLMENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/saas-fulfillment}"
bin="$cache/bin"
mkdir -p "$bin"
log() { echo "[install-temporal] $*" >&2; }

# Later CLI tags carry a `replace` directive that `go install pkg@version` refuses, so the
# newest installable tag comes first and older ones are fallbacks.
cli_versions=${TEMPORAL_CLI_VERSIONS:-"v1.5.1 v1.4.1 v1.3.0"}
test_server_versions=${TEMPORAL_TEST_SERVER_VERSIONS:-"1.38.0 1.37.0 1.32.1"}

install_cli() {
  if [ -x "$bin/temporal" ] && "$bin/temporal" --version >/dev/null 2>&1; then
    log "temporal CLI present: $("$bin/temporal" --version)"
    return 0
  fi
  command -v go >/dev/null || { log "go is not installed; cannot build the Temporal CLI"; return 1; }
  for v in $cli_versions; do
    log "building temporal CLI $v with go install (takes a few minutes the first time)"
    if GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$v"; then
      log "installed $("$bin/temporal" --version)"
      return 0
    fi
    log "go install of CLI $v failed; trying an older pin"
  done
  return 1
}

install_test_server() {
  local home="$cache/temporal-test-server"
  if [ -x "$bin/temporal-test-server" ] && [ -f "$home/.complete" ]; then
    log "time-skipping test server present ($(cat "$home/.complete"))"
    return 0
  fi
  command -v mvn >/dev/null || { log "mvn is not installed; cannot fetch the test server"; return 1; }
  command -v java >/dev/null || { log "java is not installed; cannot run the test server"; return 1; }
  for v in $test_server_versions; do
    log "fetching io.temporal:temporal-test-server:$v and its dependencies"
    rm -rf "$home" && mkdir -p "$home"
    cat >"$home/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.saas-fulfillment</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$v</version>
    </dependency>
  </dependencies>
</project>
POM
    if mvn -B -q -f "$home/pom.xml" dependency:copy-dependencies -DoutputDirectory="$home/lib" -DincludeScope=runtime; then
      # The SDK starts an existing test-server executable as `<path> <port>` and nothing
      # else, so the launcher adds --enable-time-skipping itself.
      cat >"$bin/temporal-test-server" <<LAUNCHER
#!/usr/bin/env sh
exec java \${TEMPORAL_TEST_SERVER_JAVA_OPTS:--Xms64m -Xmx512m -XX:TieredStopAtLevel=1} -cp "$home/lib/*" io.temporal.testserver.TestServer "\$1" --enable-time-skipping
LAUNCHER
      chmod +x "$bin/temporal-test-server"
      echo "$v" >"$home/.complete"
      log "installed time-skipping test server $v"
      return 0
    fi
    log "fetching test server $v failed; trying an older release"
  done
  return 1
}

status=0
install_cli || { log "could not install the Temporal CLI"; status=1; }
install_test_server || { log "could not install the time-skipping test server"; status=1; }
echo "$bin"
exit $status
