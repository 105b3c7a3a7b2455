#!/usr/bin/env bash
# make soak: builds the service as `make build` does (the release binary) and the soak tool,
# then runs cmd/soak: the service on SQLite in a temp dir under a steady mixed load that keeps it
# at about half of the machine's CPU (0.3 of the request rates in bench/results.txt), the pruner at a 30 s retention, a SIGKILL and restart
# once, samples every 2 s. Writes soak/samples.csv, soak/*.png and soak/summary.txt (committed:
# the run is dated and says on what machine and load it was taken). Exit 1 when it fails.
# Not part of `make test`: it takes SOAK_DURATION plus about a minute (seeding, checks, builds).
# On a shared machine hold the heavy-run lock: flock /tmp/uo-heavy.lock make soak
#
#   SOAK_DURATION=10m   how long the load runs (e.g. 2m for a quick look)
#   SOAK_LOAD=0.3       fraction of the request rates in bench/results.txt (README, "Soak test")
#   SOAK_OUT=soak       results directory
#   SOAK_ARGS=...       more flags for cmd/soak (go run ./cmd/soak -h): -interval, -kill-at, -warmup, -keep
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$bin/usersorchestrator" ./cmd/usersorchestrator
"$GO" build -o "$bin/soak" ./cmd/soak
# shellcheck disable=SC2086 # SOAK_ARGS is a list of flags
exec "$bin/soak" -server "$bin/usersorchestrator" -d "${SOAK_DURATION:-10m}" -load "${SOAK_LOAD:-0.3}" \
  -out "${SOAK_OUT:-soak}" ${SOAK_ARGS:-}
