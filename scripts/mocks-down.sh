#!/usr/bin/env bash
# mocks-down.sh: stop the mock providers started by scripts/mocks-up.sh (containers uo-mock-<provider>
# and/or java processes from pid files) and delete their temporary copies.
#
# Usage: scripts/mocks-down.sh [provider...]        (default: all four)
# Environment: UO_MOCKS_STATE_DIR as for mocks-up.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/mocks-lib.sh
source "$HERE/mocks-lib.sh"

# Not a process substitution: an unknown provider name must stop the script.
selected=$(mocks_select "$@")
mapfile -t providers <<<"$selected"
for p in "${providers[@]}"; do
	mock_stop "$p"
	# The copy is disposable by design: the next mocks-up.sh copies mocks/<provider>/ afresh.
	rm -rf "${STATE_DIR:?}/$p"
done
rmdir "$STATE_DIR" 2>/dev/null || true
log "stopped: ${providers[*]}"
