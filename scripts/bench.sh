#!/usr/bin/env bash
# make bench: builds the service (as `make build` does) and the baseline, then runs cmd/bench,
# which starts both on free 127.0.0.1 ports, seeds, measures and prints the table (also written
# to bench/results.txt). Takes about two minutes with the defaults.
#
#   BENCH_ARGS="-c 64 -d 10s -warmup 2s"   flags for cmd/bench (go run ./cmd/bench -h)
#   PROFILE=1                              build the service with -tags pprof and write CPU and
#                                          alloc profiles of the GET-by-id row to bench/profiles/
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tags=()
args=()
if [[ "${PROFILE:-}" == 1 ]]; then
  tags=(-tags pprof)
  args=(-profile bench/profiles)
fi
CGO_ENABLED=0 "$GO" build -trimpath "${tags[@]}" -o "$out/usersorchestrator" ./cmd/usersorchestrator
CGO_ENABLED=0 "$GO" build -trimpath -o "$out/bench-baseline" ./cmd/bench-baseline
CGO_ENABLED=0 "$GO" build -trimpath -o "$out/bench" ./cmd/bench
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$out/bench" -server "$out/usersorchestrator" -baseline "$out/bench-baseline" "${args[@]}" ${BENCH_ARGS:-}
if [[ "${PROFILE:-}" == 1 ]]; then
  echo
  echo "profiles in bench/profiles/: go tool pprof -top bench/profiles/get-id.cpu.pb.gz"
  echo "  allocations of the row: go tool pprof -sample_index=alloc_space -base bench/profiles/get-id.allocs.before.pb.gz bench/profiles/get-id.allocs.after.pb.gz"
fi
