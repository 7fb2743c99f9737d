# Starts throwaway Redis and PostgreSQL servers on free loopback ports and exports
# MAGFLOW_TEST_REDIS_URL and MAGFLOW_TEST_DATABASE_URL. Source it: `. .ci/services.sh`.
# Installs the servers with apt when they are missing. Stops them when the shell exits.

ci_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

ci_install_services() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ci_start_services() {
  ci_install_services
  CI_RUN_DIR=$(mktemp -d /tmp/magflow-ci.XXXXXX)
  chmod 755 "$CI_RUN_DIR"
  local redis_port pg_port pg_bin
  redis_port=$(ci_free_port)
  pg_port=$(ci_free_port)
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$CI_RUN_DIR" --pidfile "$CI_RUN_DIR/redis.pid" --logfile "$CI_RUN_DIR/redis.log"

  install -d -o postgres -g postgres "$CI_RUN_DIR/pg"
  runuser -u postgres -- "$pg_bin/initdb" -D "$CI_RUN_DIR/pg/data" -U postgres --auth=trust \
    --encoding=UTF8 --no-sync >/dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$CI_RUN_DIR/pg/data" -l "$CI_RUN_DIR/pg/log" -w \
    -o "-p $pg_port -k $CI_RUN_DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null

  local deadline=$((SECONDS + 30))
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "redis did not start"; cat "$CI_RUN_DIR/redis.log"; return 1; }
    sleep 0.1
  done
  export MAGFLOW_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/"
  export MAGFLOW_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  export CI_PG_BIN="$pg_bin"
  trap ci_stop_services EXIT
  echo "services: redis on $redis_port, postgresql on $pg_port (in $CI_RUN_DIR)"
}

ci_stop_services() {
  [ -n "${CI_RUN_DIR:-}" ] || return 0
  [ -f "$CI_RUN_DIR/redis.pid" ] && kill "$(cat "$CI_RUN_DIR/redis.pid")" 2>/dev/null
  runuser -u postgres -- "$CI_PG_BIN/pg_ctl" -D "$CI_RUN_DIR/pg/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$CI_RUN_DIR"
}

ci_start_services
