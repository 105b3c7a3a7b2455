# mocks-lib.sh: shared by mocks-up.sh and mocks-down.sh (sourced, not run).
# shellcheck shell=bash

# Used by the scripts that source this file.
# shellcheck disable=SC2034
WIREMOCK_VERSION=3.13.2
STATE_DIR="${UO_MOCKS_STATE_DIR:-/tmp/usersorchestrator-mocks}"
# shellcheck disable=SC2034
MARKER=.uo-testkit-instance # same file name as internal/testkit/wiremock
ALL_PROVIDERS=(auth0 gigya ssor firefly)

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# mock_port PROVIDER: the fixed loopback port, or its UO_MOCK_PORT_<PROVIDER> override.
mock_port() {
	local var default
	case $1 in
	auth0) default=18081 ;;
	gigya) default=18082 ;;
	ssor) default=18083 ;;
	firefly) default=18084 ;;
	*) die "unknown provider '$1' (known: ${ALL_PROVIDERS[*]})" ;;
	esac
	var="UO_MOCK_PORT_${1^^}"
	printf '%s\n' "${!var:-$default}"
}

# mock_provider_name PROVIDER: the name the service's tenant configuration uses.
mock_provider_name() {
	case $1 in
	auth0) echo Auth0 ;;
	gigya) echo Gigya ;;
	ssor) echo SSOR ;;
	firefly) echo Firefly ;;
	*) die "unknown provider '$1'" ;;
	esac
}

# mocks_select [PROVIDER...]: the providers to act on, one per line (all four by default).
mocks_select() {
	local p
	if [[ $# -eq 0 ]]; then
		printf '%s\n' "${ALL_PROVIDERS[@]}"
		return
	fi
	for p in "$@"; do
		mock_port "$p" >/dev/null # validates the name
		printf '%s\n' "$p"
	done
}

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# mocks_mode: container or jar (UO_WIREMOCK_MODE, else container when Docker answers).
mocks_mode() {
	case ${UO_WIREMOCK_MODE:-} in
	container | docker)
		docker_ok || die "UO_WIREMOCK_MODE=container but no Docker engine answers (scripts/docker-up.sh)"
		echo container
		;;
	jar) echo jar ;;
	"") if docker_ok; then echo container; else echo jar; fi ;;
	*) die "UO_WIREMOCK_MODE='$UO_WIREMOCK_MODE': want container or jar" ;;
	esac
}

# jar_pid PROVIDER: the pid of this provider's java process if the pid file names a live WireMock of
# ours (a pid can be reused after a reboot: never signal a process that is not our server).
jar_pid() {
	local f="$STATE_DIR/$1/pid" pid cmdline
	[[ -f $f ]] || return 1
	pid=$(cat "$f")
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *wiremock-standalone*"--root-dir $STATE_DIR/$1/root"* ]] || return 1
	printf '%s\n' "$pid"
}

mock_alive() {
	if [[ -f $STATE_DIR/$1/pid ]]; then
		jar_pid "$1" >/dev/null
	else
		[[ $(docker inspect -f '{{.State.Running}}' "uo-mock-$1" 2>/dev/null) == true ]]
	fi
}

mock_logs() {
	if [[ -f $STATE_DIR/$1/wiremock.log ]]; then
		tail -n 60 "$STATE_DIR/$1/wiremock.log"
	else
		docker logs --tail 60 "uo-mock-$1" 2>&1
	fi
}

# mock_stop PROVIDER: stop this provider's server in whichever mode it runs; quiet when none runs.
mock_stop() {
	local p=$1 pid
	if docker_ok && docker inspect "uo-mock-$p" >/dev/null 2>&1; then
		docker rm -f "uo-mock-$p" >/dev/null || die "could not remove container uo-mock-$p"
		log "$p: removed container uo-mock-$p"
	fi
	if pid=$(jar_pid "$p"); then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		log "$p: stopped java pid $pid"
	fi
	rm -f "$STATE_DIR/$p/pid"
}
