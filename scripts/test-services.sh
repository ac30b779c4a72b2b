#!/bin/sh
# Installs and starts the services the store tests need (PostgreSQL and Redis, on loopback only),
# then prints the two `export` lines the tests read. Run as root on a fresh Debian machine:
#
#     eval "$(sudo scripts/test-services.sh)"
#     cargo test -p ipn-core --all-features
#
# Idempotent: packages already installed, servers already running and the role and database
# already created are left as they are. Everything but the `export` lines goes to stderr.
set -eu

PG_USER=ipn
PG_PASSWORD=ipn
PG_DB=ipn_test
PG_PORT=5432
REDIS_PORT=6379

log() { printf '%s\n' "test-services: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (installs packages and starts system services)"
    exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
    log "installing postgresql and redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql redis-server >&2
fi

# PostgreSQL: the packaged cluster (creates one if the package did not, e.g. in a container).
PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main"' | grep -q .; then
    log "creating cluster $PG_VERSION/main"
    pg_createcluster "$PG_VERSION" main -p "$PG_PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
    log "starting PostgreSQL $PG_VERSION/main on 127.0.0.1:$PG_PORT"
    pg_ctlcluster "$PG_VERSION" main start -- -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT" >&2
fi
i=0
until su postgres -c "psql -p $PG_PORT -qAtc 'select 1'" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 30 ]; then log "PostgreSQL did not come up"; exit 1; fi
    sleep 1
done
if [ "$(su postgres -c "psql -p $PG_PORT -qAtc \"select 1 from pg_roles where rolname = '$PG_USER'\"")" != 1 ]; then
    log "creating role $PG_USER"
    su postgres -c "psql -p $PG_PORT -qc \"create role $PG_USER login password '$PG_PASSWORD'\"" >&2
fi
if [ "$(su postgres -c "psql -p $PG_PORT -qAtc \"select 1 from pg_database where datname = '$PG_DB'\"")" != 1 ]; then
    log "creating database $PG_DB"
    su postgres -c "createdb -p $PG_PORT -O $PG_USER $PG_DB" >&2
fi

# Redis: a throwaway instance on loopback, no persistence.
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
        --save '' --appendonly no --logfile /tmp/ipn-test-redis.log >&2
fi
i=0
until redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 30 ]; then log "Redis did not come up"; exit 1; fi
    sleep 1
done

log "PostgreSQL $PG_VERSION and Redis are up"
echo "export IPN_TEST_POSTGRES_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
echo "export IPN_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/"
