#!/usr/bin/env bash
# wiremock-leftovers.sh: remove WireMock test containers whose test process is gone.
#
# The testcontainers reaper is off on the project's machines, so a test binary that dies before its
# cleanups (a `go test` timeout, a kill) leaves its containers running. Every container started by
# internal/testkit/wiremock carries the labels usersorchestrator.testkit=wiremock and
# usersorchestrator.testkit.pid=<pid of the test process>. This removes only the containers whose
# owner no longer exists; containers of tests still running (another developer's, on a shared
# machine) and containers without the pid label are left alone.
set -euo pipefail

log() { printf 'wiremock-leftovers: %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || { log "no Docker engine answers: nothing to clean"; exit 0; }

# Listed first (not in a process substitution) so that a failing `docker ps` fails the script.
listing=$(docker ps -a --filter label=usersorchestrator.testkit=wiremock \
	--format '{{.ID}} {{.Label "usersorchestrator.testkit.pid"}}')
removed=0
while read -r id pid; do
	[[ -n $id ]] || continue
	[[ $pid =~ ^[0-9]+$ ]] || continue # owner unknown: not ours to judge
	if kill -0 "$pid" 2>/dev/null; then
		continue # the test process still runs
	fi
	docker rm -f "$id" >/dev/null
	removed=$((removed + 1))
	log "removed $id (test process $pid is gone)"
done <<<"$listing"
log "$removed leftover container(s) removed"
