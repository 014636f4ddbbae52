# Sourced by scripts/test (and usable by hand): a private, throw-away PostgreSQL cluster
# for the tests. Debian's postgresql refuses to run as root, so when we are root the
# cluster belongs to the unprivileged `postgres` user the package creates. It listens on
# 127.0.0.1 at a free port, trusts local connections (nothing else can reach it), and
# lives in a temporary directory that postgres_stop removes.
#
#   source scripts/postgres.sh
#   postgres_start          # exports LIXIAO_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres
#                           # and LIXIAO_PG_CA (the server's TLS certificate)
#   ...
#   postgres_stop

postgres_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

postgres_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# Runs a PostgreSQL program as the cluster's owner.
postgres_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_start() {
  local bin
  bin=$(postgres_bin) || { echo "error: PostgreSQL is not installed (scripts/setup --postgres installs it)" >&2; return 1; }
  LIXIAO_PG_DIR=$(mktemp -d /tmp/lixiao-pg.XXXXXX)
  LIXIAO_PG_PORT=$(postgres_free_port)
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$LIXIAO_PG_DIR"
  fi
  postgres_as_owner "$bin/initdb" -D "$LIXIAO_PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$LIXIAO_PG_DIR/initdb.log" 2>&1 ||
    { cat "$LIXIAO_PG_DIR/initdb.log" >&2; return 1; }
  # TLS, so the tests can prove Lixiao talks to PostgreSQL encrypted: a throw-away CA
  # (kept beside the cluster, for the tests to verify with) and a certificate for
  # 127.0.0.1 that it signs.
  (
    cd "$LIXIAO_PG_DIR" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Lixiao test CA" \
        -keyout ca.key -out ca.crt &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout data/server.key -out server.csr &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out data/server.crt
  ) >/dev/null 2>&1 || { echo "error: openssl could not make the test certificates" >&2; return 1; }
  chmod 600 "$LIXIAO_PG_DIR/data/server.key"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$LIXIAO_PG_DIR/data/server.key" "$LIXIAO_PG_DIR/data/server.crt"
    chmod 755 "$LIXIAO_PG_DIR"
  fi
  # Enough connections for the parallel tests and the two-server test; fsync stays on
  # (the durability tests mean it).
  postgres_as_owner "$bin/pg_ctl" -D "$LIXIAO_PG_DIR/data" -l "$LIXIAO_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $LIXIAO_PG_PORT -c unix_socket_directories=$LIXIAO_PG_DIR -c max_connections=300 -c shared_buffers=64MB -c ssl=on" \
    start >/dev/null ||
    { cat "$LIXIAO_PG_DIR/server.log" >&2; return 1; }
  export LIXIAO_TEST_POSTGRES="postgres://postgres@127.0.0.1:$LIXIAO_PG_PORT/postgres"
  export LIXIAO_PG_BIN="$bin"
  export LIXIAO_PG_CA="$LIXIAO_PG_DIR/ca.crt"
  export LIXIAO_PG_DIR LIXIAO_PG_PORT
}

postgres_stop() {
  [ -n "${LIXIAO_PG_DIR:-}" ] || return 0
  local bin
  bin=$(postgres_bin) && postgres_as_owner "$bin/pg_ctl" -D "$LIXIAO_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$LIXIAO_PG_DIR"
  unset LIXIAO_PG_DIR LIXIAO_TEST_POSTGRES LIXIAO_PG_CA
}
