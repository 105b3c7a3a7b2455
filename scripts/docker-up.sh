#!/usr/bin/env bash
# docker-up.sh: make sure a Docker engine answers `docker info`.
#
# Target: root on a Debian 12 machine without systemd (the dev machines and CI). No engine runs
# there by default, so this script installs docker.io when dockerd is missing and starts dockerd
# in the background. It is idempotent: when `docker info` already works it does nothing, so it is
# safe to run before every test run and from several shells at once (a lock serialises them).
#
# dockerd runs with --iptables=false --ip6tables=false: the machine's network is closed and the
# tests use host networking on loopback, so no NAT rules are wanted (and iptables may be absent).
# The default bridge (docker0) is kept: testcontainers-go expects it and otherwise creates bridge
# networks of its own.
#
# Environment:
#   UO_DOCKERD_LOG           dockerd's log file (default /var/log/usersorchestrator-dockerd.log)
#   UO_DOCKER_WAIT_SECONDS   how long to wait for the engine to answer (default 60)
set -euo pipefail

log() { printf 'docker-up: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DOCKERD_LOG="${UO_DOCKERD_LOG:-/var/log/usersorchestrator-dockerd.log}"
WAIT_SECONDS="${UO_DOCKER_WAIT_SECONDS:-60}"

engine_ok() { docker info >/dev/null 2>&1; }

# Fast path without taking the lock: nothing to do when the engine answers.
if command -v docker >/dev/null 2>&1 && engine_ok; then
	log "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "the engine is not running and starting it needs root (run as root or start dockerd yourself)"

# Serialise concurrent callers (two test shells, CI and a developer): only one may install or start.
exec 9>/tmp/usersorchestrator-docker-up.lock
flock -w 600 9 || die "timed out waiting for /tmp/usersorchestrator-docker-up.lock"

# Another caller may have started the engine while we waited for the lock.
if command -v docker >/dev/null 2>&1 && engine_ok; then
	log "engine started by another caller"
	exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
	log "dockerd not found: installing docker.io from Debian"
	# Without systemd the package's postinst would run /etc/init.d/docker, which starts dockerd with
	# iptables on; policy-rc.d (exit 101) tells invoke-rc.d not to start services. Keep one that exists.
	created_policy=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# DPkg::Lock::Timeout makes apt wait for another apt run instead of failing at once.
	apt_ok=1
	apt-get -o DPkg::Lock::Timeout=300 update -qq || apt_ok=0
	if [[ $apt_ok -eq 1 ]]; then
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends docker.io iproute2 >/dev/null || apt_ok=0
	fi
	if [[ $created_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
	[[ $apt_ok -eq 1 ]] || die "apt-get install docker.io failed"
	command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
fi
command -v docker >/dev/null 2>&1 || die "dockerd is installed but the docker client is missing"

# live_dockerd prints the pids of dockerd processes that are not zombies (a killed daemon whose parent
# has not reaped it yet still shows up in pgrep).
live_dockerd() { ps -eo pid=,stat=,comm= | awk '$3 == "dockerd" && $2 !~ /^Z/ {print $1}'; }

# A daemon that is starting or dying gets a few seconds to answer or to disappear.
for _ in $(seq 1 10); do
	[[ -n $(live_dockerd) ]] || break
	if engine_ok; then
		log "engine started by another process"
		exit 0
	fi
	sleep 1
done

# A daemon that is still alive but does not answer: never start a second one next to it.
if [[ -n $(live_dockerd) ]]; then
	log "dockerd (pid $(live_dockerd | tr '\n' ' ')) runs but does not answer; waiting for it before giving up"
else
	# A machine handed back after a stop keeps the pid files of a dead daemon: dockerd refuses to start
	# while /var/run/docker.pid names a pid, and its managed containerd likewise.
	for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
		if [[ -e $pidfile ]]; then
			pid=$(cat "$pidfile" 2>/dev/null || true)
			if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) =~ ^(dockerd|containerd)$ ]]; then
				die "$pidfile names a running $(cat "/proc/$pid/comm") (pid $pid) that is not answering; stop it by hand"
			fi
			log "removing stale $pidfile"
			rm -f "$pidfile"
		fi
	done
	# Leftover user-defined bridges (br-<id>) from a previous engine's networks make the new engine's
	# network setup fail or clash with its subnets; the engine recreates what it still knows about.
	if command -v ip >/dev/null 2>&1; then
		while read -r ifname; do
			[[ -n $ifname ]] || continue
			log "removing leftover bridge $ifname"
			ip link delete "$ifname" || die "could not delete leftover bridge $ifname"
		done < <(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^br-' || true)
	fi

	mkdir -p "$(dirname "$DOCKERD_LOG")"
	log "starting dockerd (log: $DOCKERD_LOG)"
	printf '\n=== %s docker-up.sh starting dockerd ===\n' "$(date -u +%FT%TZ)" >>"$DOCKERD_LOG"
	# setsid + nohup: the daemon must outlive this script and the shell (and CI step) that ran it.
	# 9>&-: the daemon must not inherit the lock's descriptor, or it would hold the lock for its lifetime.
	setsid nohup dockerd --iptables=false --ip6tables=false >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
	dockerd_pid=$!
	log "dockerd pid $dockerd_pid"
fi

deadline=$((SECONDS + WAIT_SECONDS))
until engine_ok; do
	if [[ -n ${dockerd_pid:-} ]] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
		log "dockerd exited; last lines of $DOCKERD_LOG:"
		tail -n 30 "$DOCKERD_LOG" >&2 || true
		die "dockerd failed to start"
	fi
	if ((SECONDS >= deadline)); then
		log "last lines of $DOCKERD_LOG:"
		tail -n 30 "$DOCKERD_LOG" >&2 || true
		die "docker info did not answer within ${WAIT_SECONDS}s"
	fi
	sleep 1
done
log "engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
