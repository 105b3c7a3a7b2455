#!/usr/bin/env bash
# mocks-up.sh: run one WireMock 3.13.2 per identity provider on fixed loopback ports, for using the
# service by hand against simulated providers:
#
#   auth0 127.0.0.1:18081   gigya 127.0.0.1:18082   ssor 127.0.0.1:18083   firefly 127.0.0.1:18084
#
# Each server serves a temporary copy of mocks/<provider>/ (mappings/, __files/): WireMock never
# writes into the repository (DELETE /__admin/mappings deletes mapping files, persistent stubs create
# them). It runs the same arguments as the test harness (internal/testkit/wiremock), so a mapping
# behaves the same here and in the e2e suite; response templating is per stub
# ("transformers": ["response-template"]), not global.
#
# Runs the servers as containers (docker run --network host, named uo-mock-<provider>) when a Docker
# engine answers, otherwise as background java processes (pid files). Running it again restarts the
# servers on fresh copies, so edited mappings are picked up. Stop them with scripts/mocks-down.sh.
#
# Usage: scripts/mocks-up.sh [provider...]          (default: all four)
# Environment:
#   UO_WIREMOCK_MODE     container | jar (default: container when `docker info` works, else jar)
#   WIREMOCK_IMAGE       container image (default: what scripts/wiremock-image.sh provides)
#   UO_MOCKS_DIR         folder holding <provider>/ (default: <repo>/mocks)
#   UO_MOCKS_STATE_DIR   copies, logs, pid files (default: /tmp/usersorchestrator-mocks)
#   UO_MOCK_PORT_AUTH0, UO_MOCK_PORT_GIGYA, UO_MOCK_PORT_SSOR, UO_MOCK_PORT_FIREFLY   port overrides
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/mocks-lib.sh
source "$HERE/mocks-lib.sh"

MOCKS_DIR="${UO_MOCKS_DIR:-$(cd "$HERE/.." && pwd)/mocks}"

# Not a process substitution: an unknown provider name must stop the script.
selected=$(mocks_select "$@")
mapfile -t providers <<<"$selected"

# Check every source folder before starting anything, so a missing one does not leave half the set up.
for p in "${providers[@]}"; do
	src="$MOCKS_DIR/$p"
	[[ -d $src ]] || die "mock folder $src is missing (want $src/mappings and optionally $src/__files)"
	[[ -d $src/mappings || -d $src/__files ]] || die "$src has neither mappings/ nor __files/"
done

mode=$(mocks_mode)
log "mode: $mode"

image=""
jar=""
if [[ $mode == container ]]; then
	image=$(bash "$HERE/wiremock-image.sh" | tail -n 1)
	[[ -n $image ]] || die "wiremock-image.sh returned no image name"
else
	command -v java >/dev/null 2>&1 || die "jar mode needs java (apt-get install openjdk-17-jre-headless)"
	jar=$(bash "$HERE/wiremock-jar.sh" | tail -n 1)
	[[ -s $jar ]] || die "wiremock-jar.sh returned no jar"
fi

# Stop a previous run of these providers (either mode), then require every port to be free before
# starting anything: something else on a port would answer the probes with the wrong stubs.
for p in "${providers[@]}"; do
	mock_stop "$p"
done
for p in "${providers[@]}"; do
	port=$(mock_port "$p")
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "127.0.0.1:$port (for $p) is already in use by another process (override with UO_MOCK_PORT_${p^^})"
	fi
done

mkdir -p "$STATE_DIR"
declare -A tokens=()
for p in "${providers[@]}"; do
	port=$(mock_port "$p")
	root="$STATE_DIR/$p/root"
	rm -rf "${STATE_DIR:?}/$p"
	mkdir -p "$root/mappings" "$root/__files"
	for sub in mappings __files; do
		# -L: copy symlinked files by content; the copy must not point back into the repository.
		if [[ -d $MOCKS_DIR/$p/$sub ]]; then
			cp -RL "$MOCKS_DIR/$p/$sub/." "$root/$sub/"
		fi
	done
	# The marker proves that the server answering the port is this one (see the Go harness).
	tokens[$p]=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s' "${tokens[$p]}" >"$root/__files/$MARKER"
	chmod -R a+rX "$root"

	args=(--port "$port" --bind-address 127.0.0.1 --disable-banner)
	if [[ $mode == container ]]; then
		docker run -d --name "uo-mock-$p" --network host \
			--label "usersorchestrator.mocks=$p" \
			-v "$root:/home/wiremock" \
			"$image" "${args[@]}" --root-dir /home/wiremock >/dev/null ||
			die "docker run for $p failed"
		log "$p: container uo-mock-$p on 127.0.0.1:$port"
	else
		# setsid + nohup: the server outlives this script and the shell that ran it.
		setsid nohup java -jar "$jar" "${args[@]}" --root-dir "$root" \
			>"$STATE_DIR/$p/wiremock.log" 2>&1 </dev/null &
		echo $! >"$STATE_DIR/$p/pid"
		log "$p: java pid $! on 127.0.0.1:$port (log $STATE_DIR/$p/wiremock.log)"
	fi
done

# Wait for every server: health first, then the marker.
for p in "${providers[@]}"; do
	port=$(mock_port "$p")
	deadline=$((SECONDS + ${UO_MOCKS_WAIT_SECONDS:-60}))
	until [[ $(curl -fsS --max-time 2 "http://127.0.0.1:$port/__admin/files/$MARKER" 2>/dev/null || true) == "${tokens[$p]}" ]]; do
		if ! mock_alive "$p" || ((SECONDS >= deadline)); then
			log "$p did not become healthy on 127.0.0.1:$port; its output:"
			mock_logs "$p" >&2 || true
			die "$p failed to start (stop the others with scripts/mocks-down.sh)"
		fi
		sleep 0.2
	done
	health=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/__admin/health" || true)
	[[ $health == *'"healthy"'* ]] || die "$p answers but is not healthy: $health"
	stubs=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/__admin/mappings" | grep -o '"total" *: *[0-9]*' | grep -o '[0-9]*$' || echo '?')
	log "$p healthy on 127.0.0.1:$port ($stubs stubs)"
done

# A complete configuration for the service: the demo tenant without a provider, and one tenant per
# mock (clientCode = the provider, paperCode and clientGroupCode "mock") with credentials the mocks
# accept (see mocks/<provider>/README.md). `make run` reads it through UO_CONFIG.
config=${UO_MOCKS_CONFIG:-.tools/mocks.yaml}
mkdir -p "$(dirname "$config")"
{
	cat <<EOF
# Written by scripts/mocks-up.sh: the service against the mock identity providers
# (WireMock $WIREMOCK_VERSION, $mode mode; admin API at <baseURL>/__admin).
tenants:
  - {clientCode: demo, paperCode: demo, clientGroupCode: demo, name: Demo Daily, sessionDays: 30,
     defaultReturnUrl: "http://localhost:3000/account", allowedReturnHosts: [localhost, 127.0.0.1],
     mailFrom: "Demo Daily <no-reply@demo.example>"}
EOF
	for p in "${providers[@]}"; do
		case $p in
		auth0) creds='auth0: {clientID: mock-client, clientSecret: mock-secret, connection: Username-Password-Authentication}' ;;
		gigya) creds='gigya: {apiKey: 3_mock, userKey: mock-user, secret: mock-secret}' ;;
		ssor) creds='ssor: {apiToken: mock-token}' ;;
		firefly) creds='firefly: {secret: mock-secret}' ;;
		esac
		cat <<EOF
  - clientCode: $p
    paperCode: mock
    clientGroupCode: mock
    name: Mock $(mock_provider_name "$p") Daily
    sessionDays: 30
    defaultReturnUrl: "http://localhost:3000/account"
    allowedReturnHosts: [localhost, 127.0.0.1]
    mailFrom: "Mock Daily <no-reply@mock.example>"
    provider: $(mock_provider_name "$p")
    baseURL: http://127.0.0.1:$(mock_port "$p")
    timeout: 3s
    $creds
EOF
	done
} >"$config"

echo "# --- usersorchestrator: mock identity providers (WireMock $WIREMOCK_VERSION, $mode mode) ---"
for p in "${providers[@]}"; do
	echo "#   $(mock_provider_name "$p"): http://127.0.0.1:$(mock_port "$p")  (tenant $p/mock/mock; admin API /__admin)"
done
cat <<EOF
# The service's configuration is in $config. Serve it, then try a provider by hand:
#
#   UO_CONFIG=$config make run
#   TOKEN=\$(go run ./cmd/usersorchestrator token -client-codes '*')
#   H=(-H "Authorization: Bearer \$TOKEN" -H "X-SourceSystem: Web" -H "X-ClientCode: auth0"
#      -H "X-PaperCode: mock" -H "X-ClientGroupCode: mock" -H "Content-Type: application/json")
#   curl -s "\${H[@]}" -X POST localhost:8080/v4/Users -d '{"email":"jane@example.com","password":"Correct-horse-1"}'
#   curl -s "\${H[@]}" -X POST localhost:8080/v4/Users/Authentication -d '{"loginName":"jane@example.com","password":"Correct-horse-1"}'
#
# (X-ClientCode gigya, ssor or firefly for the others.) Stop them with make mocks-down.
EOF
