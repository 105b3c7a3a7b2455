#!/usr/bin/env bash
# scripts/test-infra.sh: bring up what the whole suite needs and print the environment for it as
# `export` lines (make test sources them). Idempotent; runs as root on the project's machines.
#   - a Docker engine and the WireMock 3.13.2 image, for the e2e suite (never skipped);
#   - PostgreSQL on 127.0.0.1, so the store suite runs against both backends.
# Set UO_SKIP_POSTGRES=1 to leave PostgreSQL out (its tests then skip, unless UO_REQUIRE_POSTGRES=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/docker-up.sh >&2
image=$(bash scripts/wiremock-image.sh | tail -n 1)
[[ -n $image ]] || { echo "scripts/wiremock-image.sh printed no image name" >&2; exit 1; }
echo "export WIREMOCK_IMAGE=$image"
echo "export UO_REQUIRE_DOCKER=1"
echo "export TESTCONTAINERS_RYUK_DISABLED=true"

if [[ ${UO_SKIP_POSTGRES:-0} != 1 ]]; then
	last=$(bash scripts/postgres-up.sh | tail -n 1)
	dsn=${last#UO_TEST_POSTGRES_DSN=}
	[[ $dsn == postgres://* ]] || { echo "scripts/postgres-up.sh printed no DSN (got: $last)" >&2; exit 1; }
	echo "export UO_TEST_POSTGRES_DSN='$dsn'"
	echo "export UO_REQUIRE_POSTGRES=1"
fi
