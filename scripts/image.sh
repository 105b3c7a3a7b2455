#!/usr/bin/env bash
# image.sh: build the container image and smoke-test it (`make image`).
#
#   1. `make build`: bin/usersorchestrator, static (CGO_ENABLED=0), -trimpath and stripped
#      (-ldflags "-s -w"); checked here, as the image relies on it.
#   2. Stage bin/image/ from the build host: CA certificates, time zone data, and the empty data and
#      temp directories the Dockerfile gives to the service user.
#   3. `docker build` (Dockerfile, FROM scratch; .dockerignore keeps everything else out).
#   4. Smoke test: run the image with host networking on a free loopback port, wait for /healthz,
#      mint a token with the image's own `token` command, create a user and read it back with curl,
#      check /metrics counted it, check the process runs as non-root, stop it (graceful shutdown,
#      exit 0) and remove it.
#
# Usage: scripts/image.sh [image]   (default: $UO_IMAGE, else usersorchestrator:dev)
#
# Environment:
#   UO_IMAGE          the image name and tag (the argument wins; `make image UO_IMAGE=name:tag`)
#   UO_IMAGE_NO_SMOKE set to 1 to build without the smoke test
#   MAKE              the make to run `make build` with
#
# Needs Docker (`bash scripts/docker-up.sh` starts it on the project's machines), curl and Go.
# All traffic stays on 127.0.0.1: the container uses the host's network, no docker network is made.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${1:-${UO_IMAGE:-usersorchestrator:dev}}
# The user the Dockerfile runs as; checked against the running container.
WANT_UID=65532

log() { printf 'image: %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

command -v docker >/dev/null 2>&1 || die "docker not found (bash scripts/docker-up.sh)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (bash scripts/docker-up.sh)"
command -v curl >/dev/null 2>&1 || die "curl not found"

# --- 1. the binary ------------------------------------------------------------------------------
log "make build"
"${MAKE:-make}" --no-print-directory build
BIN=bin/usersorchestrator
# Static and trimmed, as the build info says; stripped, as `go tool nm` finds no symbols (the build
# info leaves -ldflags out under -trimpath).
settings=$(go version -m "$BIN")
for want in 'CGO_ENABLED=0' '-trimpath=true'; do
	grep -qF -- "build	$want" <<<"$settings" || die "$BIN was not built with $want"
done
if go tool nm "$BIN" >/dev/null 2>&1; then
	die "$BIN still has its symbol table (built without -ldflags \"-s -w\")"
fi

# --- 2. the staged root file system -------------------------------------------------------------
STAGE=bin/image
CA=/etc/ssl/certs/ca-certificates.crt
ZONEINFO=/usr/share/zoneinfo
[[ -s $CA ]] || die "$CA is missing (install ca-certificates)"
[[ -d $ZONEINFO ]] || die "$ZONEINFO is missing (install tzdata)"
rm -rf "$STAGE"
mkdir -p "$STAGE/rootfs/etc/ssl/certs" "$STAGE/rootfs/usr/share/zoneinfo" "$STAGE/data" "$STAGE/tmp"
cp "$CA" "$STAGE/rootfs/etc/ssl/certs/ca-certificates.crt"
# right/ holds the leap-second variants, which Go never reads; localtime points at the host's
# /etc/localtime, which the image does not have.
tar -C "$ZONEINFO" --exclude=./right --exclude=./localtime -cf - . | tar -C "$STAGE/rootfs/usr/share/zoneinfo" -xf -

# --- 3. the image -------------------------------------------------------------------------------
log "docker build -t $IMAGE"
docker build --quiet -t "$IMAGE" . >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
log "built $IMAGE: $((size / 1024 / 1024)) MiB ($size bytes), binary $(($(stat -c %s "$BIN") / 1024 / 1024)) MiB"

if [[ ${UO_IMAGE_NO_SMOKE:-0} == 1 ]]; then
	echo "$IMAGE"
	exit 0
fi

# --- 4. smoke test ------------------------------------------------------------------------------
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[[ $user == "$WANT_UID:$WANT_UID" ]] || die "the image runs as '$user', want $WANT_UID:$WANT_UID"

# free_port prints a loopback port nothing listens on (a refused connection means free).
free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}
PORT=$(free_port) || die "no free loopback port found"
BASE="http://127.0.0.1:$PORT"
NAME="uo-image-smoke-$$"

cleanup() {
	local rc=$?
	if [[ $rc -ne 0 ]] && docker container inspect "$NAME" >/dev/null 2>&1; then
		log "the container's log:"
		docker logs --tail 50 "$NAME" >&2 || true
	fi
	docker rm -f -v "$NAME" >/dev/null 2>&1 || true
	exit "$rc"
}
trap cleanup EXIT

# The image as shipped listens on 0.0.0.0: with the public development keys it must refuse to start,
# and say which keys to set.
if out=$(docker run --rm --network none "$IMAGE" 2>&1); then
	die "the image started with the development keys on 0.0.0.0"
fi
grep -q 'UO_ENCRYPTION_KEY' <<<"$out" && grep -q 'UO_SESSION_KEY' <<<"$out" && grep -q 'UO_AUTH_HS256_SECRET' <<<"$out" ||
	die "the refusal does not name the keys to set: $out"
log "with the development keys on 0.0.0.0 the image refuses to start"

# Configured the way a deployment is, by UO_* variables: the listener, and keys of its own in place
# of the built-in development ones (checked below: a development token is refused).
rand32() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
SECRET=$(rand32)
log "docker run $IMAGE on $BASE"
docker run -d --name "$NAME" --network host -e "UO_LISTEN=127.0.0.1:$PORT" -e "UO_AUTH_HS256_SECRET=$SECRET" \
	-e "UO_ENCRYPTION_KEY=$(rand32)" -e "UO_SESSION_KEY=$(rand32)" "$IMAGE" >/dev/null

deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; do
	[[ $(docker container inspect -f '{{.State.Running}}' "$NAME") == true ]] || die "the container stopped"
	((SECONDS < deadline)) || die "/healthz did not answer within 30 s"
	sleep 0.2
done
curl -fsS "$BASE/readyz" >/dev/null || die "/readyz: the store is not ready"
log "healthz and readyz answer"

# The image's own token command, run in the container so that it signs with the container's
# configuration (UO_AUTH_HS256_SECRET): the image is all a developer needs.
TOKEN=$(docker exec "$NAME" /usersorchestrator token -client-codes demo)
[[ -n $TOKEN ]] || die "the token command printed nothing"

# api METHOD PATH [BODY]: call the API as the demo tenant; prints the body, then the status on its
# own last line.
api() {
	local args=(-sS -X "$1" -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN"
		-H 'X-ClientCode: demo' -H 'X-PaperCode: demo' -H 'X-ClientGroupCode: demo' -H 'X-SourceSystem: image-smoke')
	if [[ $# -ge 3 ]]; then
		args+=(-H 'Content-Type: application/json' --data "$3")
	fi
	curl "${args[@]}" "$BASE$2"
}
# field JSON KEY: the value of the first "KEY":"value" string in JSON (message.code comes first in
# an envelope); it keeps the script free of jq.
field() { grep -o "\"$2\":\"[^\"]*\"" <<<"$1" | head -n 1 | sed 's/.*:"\(.*\)"/\1/' || true; }

# A token signed with the built-in development secret must not pass: the variable took effect.
DEV_TOKEN=$(docker run --rm --network none "$IMAGE" token -client-codes demo)
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DEV_TOKEN" -H 'X-ClientCode: demo' \
	-H 'X-PaperCode: demo' -H 'X-ClientGroupCode: demo' -H 'X-SourceSystem: image-smoke' "$BASE/v4/Users/none")
[[ $status == 401 ]] || die "a token with the development secret answered $status, want 401"
log "UO_AUTH_HS256_SECRET applies: a development token is refused"

EMAIL="smoke-$$@example.com"
out=$(api POST /v4/Users "{\"email\":\"$EMAIL\",\"password\":\"Smoke-test-1\",\"firstName\":\"Smoke\"}")
status=${out##*$'\n'} body=${out%$'\n'*}
[[ $status == 200 && $(field "$body" code) == UsersOrchestrator_S200_06 ]] || die "create user: $status $body"
CRID=$(field "$body" customerRegistrationId)
[[ -n $CRID ]] || die "create user: no customerRegistrationId in $body"
log "created $EMAIL as $CRID"

out=$(api GET "/v4/Users/$CRID")
status=${out##*$'\n'} body=${out%$'\n'*}
[[ $status == 200 && $(field "$body" code) == UsersOrchestrator_S200_01 && $(field "$body" email) == "$EMAIL" ]] ||
	die "get user: $status $body"
log "read $CRID back: $(field "$body" email)"

metrics=$(curl -fsS "$BASE/metrics")
grep -qE '^usersorchestrator_http_requests_total\{code="UsersOrchestrator_S200_06",operation="createUser"\} 1$' <<<"$metrics" ||
	die "/metrics did not count the create"
log "/metrics counted the create"

# Every process of the container runs as the service user, never as root. docker top lists them
# from the host (the image has no ps, id or shell).
uids=$(docker top "$NAME" -o pid,uid,comm | tail -n +2 | awk '{print $2}' | sort -u | tr '\n' ' ')
[[ $uids == "$WANT_UID " ]] || die "the container's processes run as uid(s) $uids, want only $WANT_UID"
log "the container runs as uid $WANT_UID (image user $user)"

docker stop -t 20 "$NAME" >/dev/null
code=$(docker container inspect -f '{{.State.ExitCode}}' "$NAME")
[[ $code == 0 ]] || die "the service exited with $code after SIGTERM, want 0 (graceful shutdown)"
log "stopped gracefully (exit 0)"
docker rm -v "$NAME" >/dev/null
log "smoke test passed"
echo "$IMAGE"
