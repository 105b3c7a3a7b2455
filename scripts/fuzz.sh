#!/usr/bin/env bash
# make fuzz: every Fuzz* target under internal/ for FUZZTIME each (default 20s), from its committed
# corpus (testdata/fuzz/<Target>). go test -fuzz takes one target of one package per run. A failure
# leaves its input in the package's testdata/fuzz/<Target>/: commit it as a seed with the fix. The
# default 60 s minimization of each new input would stall short runs, hence -fuzzminimizetime.
#
# One failure is not the target's: Go's fuzzing coordinator (go1.26; go.dev/issue/75804, fixed in
# go1.27) can report its own -fuzztime deadline as the failure "context deadline exceeded" when a
# worker is still busy as the time runs out, on a loaded machine mostly. Such a run wrote no
# failing input; it is reported and passed over. Any other failure, or any input written, fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# coordinator_deadline LOG: the run failed only with the coordinator's own deadline and wrote no input.
coordinator_deadline() {
	! grep -q 'Failing input written' "$1" &&
		[[ $(grep -A1 -e '^--- FAIL: ' "$1" | sed -n '2p' | tr -d '[:space:]') == contextdeadlineexceeded ]] &&
		[[ $(grep -c -e '^--- FAIL: ' "$1") -eq 1 ]]
}

for dir in $(grep -rl --include='*_test.go' '^func Fuzz' ./internal | xargs -n1 dirname | sort -u); do
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$dir"/*_test.go); do
		echo "fuzz $dir $target for $FUZZTIME"
		corpus="$dir/testdata/fuzz/$target"
		before=$(ls "$corpus" 2>/dev/null || true)
		if "$GO" test "$dir" -run '^$' -fuzz "^$target\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=5s 2>&1 | tee "$log"; then
			continue
		fi
		if [[ $(ls "$corpus" 2>/dev/null || true) == "$before" ]] && coordinator_deadline "$log"; then
			echo "fuzz: $target: the fuzzing coordinator's own deadline (go.dev/issue/75804), no failing input written: passed over"
			continue
		fi
		echo "fuzz: $target failed" >&2
		exit 1
	done
done
