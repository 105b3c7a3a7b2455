#!/usr/bin/env bash
# make bench: builds the service (as `make build` does), the bare-gin baseline and the load
# generator, then runs cmd/bench, which starts both servers on free 127.0.0.1 ports, seeds users
# through the API, measures each row and prints the table (also written to bench/results.txt,
# which is meant to be committed: it is dated and says on what machine and load it was taken).
# About three minutes with the defaults (9 rows of 2 s warm-up + 10 s, plus the builds and seeding).
#
# The pg-* rows run the service on PostgreSQL: the DSN comes from UO_BENCH_POSTGRES_DSN, else
# UO_TEST_POSTGRES_DSN, else .tools/test.env (written by `make test-infra`, which starts PostgreSQL
# as CI does). Without one they are skipped, and the report says so. Each run makes a schema of its
# own on that server and drops it afterwards.
#
#   BENCH_ARGS="-c 64 -d 10s -warmup 2s"   flags for cmd/bench (go run ./cmd/bench -h), e.g.
#                                          -rows get-id,get-email  -log-level warn  -out= (no file)
#                                          -rows get-id,pg-get-id,pg2-get-id  -postgres DSN
#   PROFILE=1                              build the service with -tags pprof and write CPU and
#                                          alloc profiles of the GET-by-id row to bench/profiles/
#                                          (more rows: BENCH_ARGS="-profile-rows get-id,create")
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${UO_BENCH_POSTGRES_DSN:-}${UO_TEST_POSTGRES_DSN:-}" && -f .tools/test.env ]]; then
  # Only the DSN: the rest of test.env is for the test suites.
  eval "$(grep '^export UO_TEST_POSTGRES_DSN=' .tools/test.env || true)"
fi
GO=${GO:-go}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tags=()
args=()
if [[ "${PROFILE:-}" == 1 ]]; then
  tags=(-tags pprof)
  args=(-profile bench/profiles)
fi
build() { CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" "$@"; }
build ${tags[@]+"${tags[@]}"} -o "$out/usersorchestrator" ./cmd/usersorchestrator
build -o "$out/bench-baseline" ./cmd/bench-baseline
build -o "$out/bench" ./cmd/bench
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$out/bench" -server "$out/usersorchestrator" -baseline "$out/bench-baseline" ${args[@]+"${args[@]}"} ${BENCH_ARGS:-}
if [[ "${PROFILE:-}" == 1 ]]; then
  echo
  echo "CPU:         go tool pprof -top bench/profiles/get-id.cpu.pb.gz"
  echo "allocations: go tool pprof -sample_index=alloc_space -top -base bench/profiles/get-id.allocs.before.pb.gz bench/profiles/get-id.allocs.after.pb.gz"
fi
