#!/usr/bin/env bash
# wiremock-jar.sh: make the WireMock standalone jar available and print its path (last line of stdout).
#
# No Maven repository is reachable from the project's machines, but the npm registry is, and the npm
# package wiremock@3.13.2 ships build/wiremock-standalone-3.13.2.jar. The jar is installed once into
# the user cache and reused; it feeds both the locally built Docker image (wiremock-image.sh) and the
# no-Docker mode of the test harness and mocks-up.sh (UO_WIREMOCK_MODE=jar).
#
# Environment:
#   UO_CACHE_DIR      cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/usersorchestrator);
#                     internal/testkit/wiremock computes the same default
#   UO_WIREMOCK_JAR   use this jar instead (it must exist); printed back unchanged
set -euo pipefail

WIREMOCK_VERSION=3.13.2
log() { printf 'wiremock-jar: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -n ${UO_WIREMOCK_JAR:-} ]]; then
	[[ -f $UO_WIREMOCK_JAR ]] || die "UO_WIREMOCK_JAR=$UO_WIREMOCK_JAR does not exist"
	printf '%s\n' "$UO_WIREMOCK_JAR"
	exit 0
fi

CACHE_DIR="${UO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/usersorchestrator}"
JAR="$CACHE_DIR/wiremock-standalone-$WIREMOCK_VERSION.jar"

if [[ -s $JAR ]]; then
	printf '%s\n' "$JAR"
	exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch wiremock@$WIREMOCK_VERSION (install nodejs/npm)"
mkdir -p "$CACHE_DIR"
# Serialise concurrent first installs (parallel test shells) on the same cache.
exec 9>"$CACHE_DIR/.wiremock-jar.lock"
flock -w 300 9 || die "timed out waiting for $CACHE_DIR/.wiremock-jar.lock"
if [[ -s $JAR ]]; then
	printf '%s\n' "$JAR"
	exit 0
fi

work=$(mktemp -d "$CACHE_DIR/.npm-wiremock.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "installing npm package wiremock@$WIREMOCK_VERSION"
# --ignore-scripts: only the jar is wanted, not the package's java-runner wrapper.
npm install --prefix "$work" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
	"wiremock@$WIREMOCK_VERSION" >&2 || die "npm install wiremock@$WIREMOCK_VERSION failed"
src="$work/node_modules/wiremock/build/wiremock-standalone-$WIREMOCK_VERSION.jar"
[[ -s $src ]] || die "npm package wiremock@$WIREMOCK_VERSION has no $src"

# A jar that does not start would only fail later inside a test; check it now when java is present.
if command -v java >/dev/null 2>&1; then
	got=$(java -jar "$src" --version 2>/dev/null | tail -n 1 || true)
	[[ $got == "$WIREMOCK_VERSION" ]] || die "the jar reports version '$got', expected $WIREMOCK_VERSION"
fi

# Rename within one directory so a reader never sees a half-written jar.
cp "$src" "$JAR.tmp.$$"
mv -f "$JAR.tmp.$$" "$JAR"
log "installed $JAR"
printf '%s\n' "$JAR"
