#!/usr/bin/env bash
# wiremock-image.sh: make a WireMock 3.13.2 Docker image available; print its name (last line of stdout).
#
# Order of preference:
#   1. $WIREMOCK_IMAGE (default usersorchestrator/wiremock:3.13.2) already exists and answers a
#      health check -> use it.
#   2. `docker pull wiremock/wiremock:3.13.2` works (a machine with a registry) -> use the official
#      image as it is (nothing is tagged: the printed name is the one to export as WIREMOCK_IMAGE).
#   3. Otherwise build $WIREMOCK_IMAGE locally. No image can be pulled on the project's machines, so
#      the base is a root filesystem imported from the host's own JRE (Debian's OpenJDK 17 and the
#      shared libraries it links), and a short Dockerfile adds the jar from the npm package
#      (scripts/wiremock-jar.sh). The result mirrors the official layout: root dir /home/wiremock
#      (mappings/, __files/), jar under /var/wiremock/lib, default port 8080.
#   A local build then gets a class-data sharing archive (AppCDS, a JDK 17 dynamic archive) of the
#   classes WireMock loads while it starts and serves the project's mocks, dumped by a run of the image
#   itself and used by its entrypoint (-XX:SharedArchiveFile): a JVM start maps those classes instead
#   of loading and verifying them from the jar, which the e2e suite pays for every server it starts on
#   a 2-core machine. A local image built before this step gets the archive added on top (the label
#   org.usersorchestrator.wiremock.cds tells them apart).
# Every image it returns has been started with --network host on a free loopback port and has
# answered GET /__admin/health with version 3.13.2.
#
# Usage: WIREMOCK_IMAGE=$(scripts/wiremock-image.sh | tail -n 1)
# Environment:
#   WIREMOCK_IMAGE           image name to use or build (default usersorchestrator/wiremock:3.13.2)
#   UO_WIREMOCK_SKIP_PULL=1  do not try the registry (saves a DNS round trip on closed machines)
#   JAVA_HOME_HOST           host JRE to import (default /usr/lib/jvm/java-17-openjdk-amd64)
set -euo pipefail

WIREMOCK_VERSION=3.13.2
OFFICIAL_IMAGE="wiremock/wiremock:$WIREMOCK_VERSION"
IMAGE="${WIREMOCK_IMAGE:-usersorchestrator/wiremock:$WIREMOCK_VERSION}"
BASE_IMAGE="usersorchestrator/jre17-host:latest"
JRE="${JAVA_HOME_HOST:-/usr/lib/jvm/java-17-openjdk-amd64}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The archive inside the image, and the JVM options internal/testkit/wiremock passes to every server
# (jvmOptions, through JAVA_TOOL_OPTIONS): the archive is dumped under the same ones.
CDS_ARCHIVE=/var/wiremock/wiremock.jsa
CDS_LABEL=org.usersorchestrator.wiremock.cds
HARNESS_JVM_OPTIONS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
MOCKS="$(cd "$HERE/.." && pwd)/mocks"

log() { printf 'wiremock-image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/docker-up.sh first)"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# free_port prints a loopback TCP port nobody listens on. bash's /dev/tcp connect fails when the port
# is free; the small race with another process grabbing it is harmless for a one-off check.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# verify IMAGE: start it like the tests do (host network, loopback, explicit root dir) and require a
# healthy answer from the expected version within 60 s.
verify() {
	local image=$1 port name body ok=0 i
	port=$(free_port) || die "no free loopback port found"
	name="uo-wiremock-verify-$$-$port"
	docker run -d --rm --network host --name "$name" "$image" \
		--port "$port" --bind-address 127.0.0.1 --root-dir /home/wiremock --disable-banner >/dev/null ||
		{ log "docker run $image failed"; return 1; }
	for i in $(seq 1 120); do
		body=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/__admin/health" 2>/dev/null || true)
		if [[ $body == *'"healthy"'* ]]; then
			ok=1
			break
		fi
		# A container that exited (bad entrypoint, missing library) will never answer: stop early.
		docker inspect "$name" >/dev/null 2>&1 || break
		sleep 0.5
	done
	if [[ $ok -ne 1 ]]; then
		log "$image did not become healthy on 127.0.0.1:$port; its log:"
		docker logs "$name" >&2 2>&1 || true
		docker rm -f "$name" >/dev/null 2>&1 || true
		return 1
	fi
	docker rm -f "$name" >/dev/null 2>&1 || true
	if [[ $body != *"\"version\" : \"$WIREMOCK_VERSION\""* && $body != *"\"version\":\"$WIREMOCK_VERSION\""* ]]; then
		log "$image is healthy but not WireMock $WIREMOCK_VERSION: $body"
		return 1
	fi
	log "$image verified (health on 127.0.0.1:$port after ~$((i / 2))s)"
	return 0
}

has_cds() { [[ $(docker image inspect -f "{{index .Config.Labels \"$CDS_LABEL\"}}" "$1" 2>/dev/null) == "$CDS_ARCHIVE" ]]; }

# add_cds IMAGE: dump the class-data archive from a run of IMAGE and rebuild IMAGE on top of itself
# with the archive and an entrypoint using it. The training run serves the project's mocks (the four
# providers' mappings) and answers what the tests ask of a server: health, stubs with templates and
# matchers, the admin API's stubs, journal and reset. Classes the run did not load still load from
# the jar, and a JVM that cannot map the archive goes on without it (-Xshare:auto): the archive
# changes how fast a server starts, never what it answers. The check at the end proves it is mapped.
add_cds() {
	local image=$1 port name base i ok=0 p ctx=$work/cds
	port=$(free_port) || die "no free loopback port found"
	name="uo-wiremock-cds-$$-$port"
	base="http://127.0.0.1:$port"
	mkdir -p "$ctx"
	docker create --network host --name "$name" \
		-e "JAVA_TOOL_OPTIONS=$HARNESS_JVM_OPTIONS -XX:ArchiveClassesAtExit=$CDS_ARCHIVE" "$image" \
		--port "$port" --bind-address 127.0.0.1 --root-dir /home/wiremock --disable-banner >/dev/null ||
		die "docker create $image for the class-data archive failed"
	# shellcheck disable=SC2064 # expanded now: the container is this call's
	trap "docker rm -f $name >/dev/null 2>&1 || true; rm -rf '$work'" EXIT
	for p in "$MOCKS"/*/mappings; do
		[[ -d $p ]] || continue
		docker cp "$p" "$name:/home/wiremock/mappings/$(basename "$(dirname "$p")")" >/dev/null ||
			die "docker cp $p into $name failed"
	done
	docker start "$name" >/dev/null || die "docker start $name failed"
	for i in $(seq 1 120); do
		if curl -fsS --max-time 2 "$base/__admin/health" 2>/dev/null | grep -q '"healthy"'; then
			ok=1
			break
		fi
		sleep 0.5
	done
	[[ $ok -eq 1 ]] || {
		docker logs "$name" >&2 2>&1 || true
		die "$image did not become healthy for the class-data run"
	}
	# What a test does to a server; the answers do not matter (a 404 exercises the near-miss report).
	local c=(curl -sS -o /dev/null --max-time 10)
	local stub='{"priority":1,"request":{"method":"POST","urlPath":"/cds","bodyPatterns":[{"matchesJsonPath":"$.a"}]},'
	stub+='"response":{"status":200,"headers":{"Content-Type":"application/json"},'
	stub+='"body":"{\"a\":\"{{jsonPath request.body '"'"'$.a'"'"'}}\",\"at\":\"{{now offset='"'"'1 seconds'"'"' format='"'"'unix'"'"'}}\"}",'
	stub+='"transformers":["response-template"]}}'
	"${c[@]}" -X POST "$base/__admin/mappings" -H 'Content-Type: application/json' -d "$stub"
	"${c[@]}" -X POST "$base/cds" -H 'Content-Type: application/json' -d '{"a":"b"}'
	"${c[@]}" "$base/api/v2/users/auth0%7Cnotfound" -H 'Authorization: Bearer x'
	"${c[@]}" -X POST "$base/oauth/token" -H 'Content-Type: application/json' \
		-d '{"grant_type":"client_credentials","client_id":"x","client_secret":"y"}'
	"${c[@]}" -X POST "$base/accounts.getAccountInfo" --data-urlencode 'apiKey=k' --data-urlencode 'UID=u'
	"${c[@]}" "$base/not-stubbed"
	"${c[@]}" "$base/__admin/requests"
	"${c[@]}" -X POST "$base/__admin/requests/count" -H 'Content-Type: application/json' -d '{"method":"ANY","urlPathPattern":"/.*"}'
	"${c[@]}" "$base/__admin/requests/unmatched"
	"${c[@]}" "$base/__admin/files/none"
	"${c[@]}" -X POST "$base/__admin/mappings/reset"
	"${c[@]}" -X POST "$base/__admin/scenarios/reset"
	# The JVM writes the archive as it exits, which SIGTERM's orderly shutdown ends in.
	docker stop -t 60 "$name" >/dev/null || die "docker stop $name failed"
	docker cp "$name:$CDS_ARCHIVE" "$ctx/wiremock.jsa" >/dev/null 2>&1 || {
		docker logs "$name" >&2 2>&1 || true
		die "the class-data run of $image wrote no $CDS_ARCHIVE"
	}
	docker rm -f "$name" >/dev/null 2>&1 || true
	trap 'rm -rf "$work"' EXIT
	cat >"$ctx/Dockerfile" <<EOF
FROM $image
COPY wiremock.jsa $CDS_ARCHIVE
LABEL $CDS_LABEL="$CDS_ARCHIVE"
ENTRYPOINT ["java", "-XX:SharedArchiveFile=$CDS_ARCHIVE", "-Dfile.encoding=UTF-8", "-jar", "/var/wiremock/lib/wiremock-standalone.jar"]
EOF
	DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null 2>"$work/build-cds.log" || {
		cat "$work/build-cds.log" >&2
		die "docker build of $image with the class-data archive failed"
	}
	# -Xshare:on refuses to start when the archive cannot be mapped; the class log says it was used.
	local loaded
	loaded=$(docker run --rm --network none -e "JAVA_TOOL_OPTIONS=$HARNESS_JVM_OPTIONS -Xshare:on -Xlog:class+load=info" \
		"$image" --version 2>&1) || true
	[[ $loaded == *'com.github.tomakehurst.wiremock.'*'source: shared objects file (top)'* ]] ||
		die "$image does not load WireMock's classes from its class-data archive: $(printf '%s\n' "$loaded" | tail -n 5)"
	log "added the class-data archive to $image ($(du -h "$ctx/wiremock.jsa" | cut -f1))"
}

# try_cds IMAGE: add_cds, whose failure costs start-up time, not the image: the archive is an
# optimisation (servers answer the same without it), so a machine where it cannot be made (another
# JDK, a docker that cannot stop the training run cleanly) keeps the image as it was and says so.
# A subshell with a work dir of its own, so that add_cds's die and its cleanup end only the attempt.
try_cds() {
	(
		work=$(mktemp -d /tmp/uo-wiremock-cds.XXXXXX)
		trap 'rm -rf "$work"' EXIT
		add_cds "$1"
	) || log "WARNING: no class-data archive for $1 (its servers start ~0.4 s slower, they answer the same)"
}

# Serialise concurrent callers: two builds of the same tag would race on `docker tag`.
exec 9>/tmp/usersorchestrator-wiremock-image.lock
flock -w 900 9 || die "timed out waiting for /tmp/usersorchestrator-wiremock-image.lock"

work=$(mktemp -d /tmp/uo-wiremock-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

if image_exists "$IMAGE"; then
	if [[ $IMAGE != "$OFFICIAL_IMAGE" ]] && ! has_cds "$IMAGE" && verify "$IMAGE"; then
		log "$IMAGE has no class-data archive yet: adding it"
		try_cds "$IMAGE"
	fi
	if verify "$IMAGE"; then
		printf '%s\n' "$IMAGE"
		exit 0
	fi
	[[ $IMAGE != "$OFFICIAL_IMAGE" ]] || die "$IMAGE exists but does not work"
	log "existing $IMAGE is broken: rebuilding it"
	docker image rm -f "$IMAGE" >/dev/null
fi

if [[ ${UO_WIREMOCK_SKIP_PULL:-0} != 1 ]]; then
	if image_exists "$OFFICIAL_IMAGE" || timeout 300 docker pull -q "$OFFICIAL_IMAGE" >/dev/null 2>&1; then
		if verify "$OFFICIAL_IMAGE"; then
			log "using the official image; export WIREMOCK_IMAGE=$OFFICIAL_IMAGE"
			printf '%s\n' "$OFFICIAL_IMAGE"
			exit 0
		fi
		log "the official image did not pass the check; building locally instead"
	else
		log "cannot pull $OFFICIAL_IMAGE (no registry): building $IMAGE locally"
	fi
fi
[[ $IMAGE != "$OFFICIAL_IMAGE" ]] || die "WIREMOCK_IMAGE names the official image, which cannot be obtained here"

[[ -x $JRE/bin/java ]] || die "no JRE at $JRE (apt-get install openjdk-17-jre-headless)"
JAR=$(bash "$HERE/wiremock-jar.sh" | tail -n 1)
[[ -s $JAR ]] || die "wiremock-jar.sh returned no jar"

# --- base: root filesystem with the host JRE -------------------------------------------------------
# Only what `java` needs at run time: the JDK tree, its /etc config (conf/ and lib/ link into it),
# the CA store it links to, the shared libraries (the whole multiarch dir rather than an ldd closure,
# because glibc and the JVM dlopen libraries ldd does not list; static archives are never loaded and
# are left out), the dynamic loader, and a minimal /etc so user and host lookups work. No shell.
stage="$work/stage"
mkdir -p "$stage"/{etc,tmp,root,usr/bin,home/wiremock/mappings,home/wiremock/__files,var/wiremock/lib,var/wiremock/extensions}
chmod 1777 "$stage/tmp"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$stage/etc/nsswitch.conf"
ln -s "$JRE/bin/java" "$stage/usr/bin/java"

# Paths taken from the host: on merged-/usr systems (Debian 12) /lib and /lib64 are links into /usr.
host_paths=("${JRE#/}" etc/java-17-openjdk usr/lib/x86_64-linux-gnu)
[[ -d /etc/ssl/certs/java ]] && host_paths+=(etc/ssl/certs/java)
[[ -e /usr/lib64 ]] && host_paths+=(usr/lib64)
for l in lib lib64; do
	if [[ -L /$l ]]; then
		host_paths+=("$l")
	elif [[ -d /$l ]]; then
		# Split-/usr systems keep the loader and libc under the real /lib, /lib64.
		[[ $l == lib ]] && host_paths+=(lib/x86_64-linux-gnu) || host_paths+=(lib64)
	fi
done
for p in "${host_paths[@]}"; do [[ -e /$p || -L /$p ]] || die "host path /$p is missing"; done

# Parent directories of the host paths, listed without recursion so the archive carries their modes.
parents=()
for p in "${host_paths[@]}"; do
	d=$(dirname "$p")
	while [[ $d != . ]]; do
		parents+=("$d")
		d=$(dirname "$d")
	done
done
mapfile -t parents < <(printf '%s\n' "${parents[@]}" | sort -u)
# The staging dir provides etc/ (passwd...) itself; drop parents it already has to avoid duplicates.
filtered=()
for d in "${parents[@]}"; do [[ -e $stage/$d ]] || filtered+=("$d"); done

# The JDK's own links point into /etc/java-17-openjdk and /etc/ssl: a JRE that is not the Debian
# layout may point elsewhere, so fail now rather than ship dangling config links.
if ! "$JRE/bin/java" -version >/dev/null 2>&1; then die "$JRE/bin/java does not run on the host"; fi

log "importing base image $BASE_IMAGE from the host JRE ($JRE)"
start=$SECONDS
tar --numeric-owner -cf - \
	-C "$stage" . \
	-C / --no-recursion "${filtered[@]}" --recursion --exclude='usr/lib/x86_64-linux-gnu/*.a' "${host_paths[@]}" |
	docker import \
		--change 'ENV PATH=/usr/lib/jvm/java-17-openjdk-amd64/bin:/usr/bin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		- "$BASE_IMAGE" >/dev/null || die "docker import of the JRE root filesystem failed"
log "base imported in $((SECONDS - start))s"

# --- final: add the jar like the official image ------------------------------------------------------
ctx="$work/ctx"
mkdir -p "$ctx"
cp "$JAR" "$ctx/wiremock-standalone.jar"
cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_IMAGE
ENV JAVA_HOME=$JRE
COPY wiremock-standalone.jar /var/wiremock/lib/wiremock-standalone.jar
WORKDIR /home/wiremock
EXPOSE 8080 8443
LABEL org.opencontainers.image.title="WireMock $WIREMOCK_VERSION (usersorchestrator local build)" org.opencontainers.image.version="$WIREMOCK_VERSION"
ENTRYPOINT ["java", "-Dfile.encoding=UTF-8", "-jar", "/var/wiremock/lib/wiremock-standalone.jar"]
CMD ["--port", "8080", "--root-dir", "/home/wiremock"]
EOF
# The legacy builder needs no buildx plugin (absent here) and no RUN step is used, so no shell either.
DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$ctx" >/dev/null 2>"$work/build.log" || {
	cat "$work/build.log" >&2
	die "docker build of $IMAGE failed"
}
log "built $IMAGE"
verify "$IMAGE" || die "the freshly built $IMAGE does not serve /__admin/health"

try_cds "$IMAGE"
verify "$IMAGE" || die "$IMAGE with its class-data archive does not serve /__admin/health"
printf '%s\n' "$IMAGE"
