#!/usr/bin/env bash
# Brings up the PostgreSQL the store tests run against, on a Debian 12 machine, as root, without
# systemd. Safe to run again: every step first checks whether it is already done.
#
# Progress goes to stderr; stdout carries only the last line, the DSN, so that callers can do
#   export "$(bash scripts/postgres-up.sh | tail -n1)"
set -euo pipefail

readonly PORT=5432
readonly ROLE=uo
readonly PASSWORD=uo
readonly DB=uo
readonly CLUSTER=main

log() { printf 'postgres-up: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
	log "must run as root (it installs packages and manages the cluster as user postgres)"
	exit 1
fi

postgres_installed() {
	command -v pg_ctlcluster >/dev/null 2>&1 &&
		compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

if ! postgres_installed; then
	log "installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y postgresql >&2
fi

# The newest installed major version; Debian 12 ships 15.
version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -n1)
if [[ -z $version ]]; then
	log "no PostgreSQL version found under /usr/lib/postgresql"
	exit 1
fi

if [[ ! -f /etc/postgresql/$version/$CLUSTER/postgresql.conf ]]; then
	log "creating cluster $version/$CLUSTER"
	pg_createcluster "$version" "$CLUSTER" --port "$PORT" >&2
fi

# Without systemd nothing recreates the socket directory after /run is emptied.
install -d -o postgres -g postgres -m 2775 /var/run/postgresql

# Loopback only: the machine must not expose the database, and tests never need more. The
# settings live in a file of our own under conf.d (included after postgresql.conf, so it wins);
# pg_conftool would write 127.0.0.1 unquoted, which PostgreSQL rejects.
conf_dir=/etc/postgresql/$version/$CLUSTER/conf.d
wanted="# Written by scripts/postgres-up.sh (usersorchestrator).
listen_addresses = '127.0.0.1'
port = $PORT"
changed=false
if [[ ! -f $conf_dir/usersorchestrator.conf || $(<"$conf_dir/usersorchestrator.conf") != "$wanted" ]]; then
	log "writing $conf_dir/usersorchestrator.conf"
	install -d -o postgres -g postgres "$conf_dir"
	printf '%s\n' "$wanted" >"$conf_dir/usersorchestrator.conf"
	chown postgres:postgres "$conf_dir/usersorchestrator.conf"
	changed=true
fi

if pg_ctlcluster "$version" "$CLUSTER" status >/dev/null 2>&1; then
	if [[ $changed == true ]]; then
		log "restarting cluster $version/$CLUSTER for the new settings"
		pg_ctlcluster "$version" "$CLUSTER" restart >&2
	fi
else
	log "starting cluster $version/$CLUSTER"
	pg_ctlcluster "$version" "$CLUSTER" start >&2
fi

for ((i = 0; i < 60; i++)); do
	if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
		break
	fi
	sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
	log "PostgreSQL does not accept connections on 127.0.0.1:$PORT after 60 s; see /var/log/postgresql/postgresql-$version-$CLUSTER.log"
	exit 1
fi

psql_admin() {
	runuser -u postgres -- psql --no-psqlrc -v ON_ERROR_STOP=1 -p "$PORT" -qtA "$@"
}

if [[ $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'") != 1 ]]; then
	log "creating role $ROLE"
	psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
else
	# A role left from an earlier setup may have another password or no login.
	psql_admin -c "ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi

if [[ $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'") != 1 ]]; then
	log "creating database $DB"
	psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi

# Prove the DSN works the way the tests will use it: TCP, password, the role's own database.
PGPASSWORD=$PASSWORD psql --no-psqlrc -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -qtA -c 'SELECT 1' >/dev/null

echo "UO_TEST_POSTGRES_DSN=postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB?sslmode=disable"
