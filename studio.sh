#!/usr/bin/env bash
# The studio's two commands (studio/ is the Django package, hence the .sh):
#   ./studio.sh start   install what is missing, migrate, serve on http://127.0.0.1:8000/
#   ./studio.sh test    install what is missing, run the suite on the embedded defaults,
#                       then again on PostgreSQL and Redis
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

install() {
  if [ ! -x "$PY" ]; then
    echo "Creating $VENV ..."
    python3 -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  local stamp="$VENV/.studio-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".[dev]"
    touch "$stamp"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium for the browser tests ..."
    apt_install chromium
  fi
}

# Spoken lines on storyboard shots are voiced offline by espeak-ng (no model download).
ensure_espeak() {
  if ! command -v espeak-ng >/dev/null; then
    echo "Installing espeak-ng for spoken lines ..."
    apt_install espeak-ng
  fi
}

# axe-core checks every main page for accessibility (tests/browser/test_accessibility.py);
# pinned, kept under .cache/axe (git-ignored), fetched once.
AXE_VERSION=4.14.1
ensure_axe() {
  local installed=.cache/axe/node_modules/axe-core/package.json
  if grep -q "\"version\": \"$AXE_VERSION\"" "$installed" 2>/dev/null; then
    return
  fi
  command -v npm >/dev/null || apt_install npm
  echo "Installing axe-core $AXE_VERSION for the accessibility tests ..."
  npm install --prefix .cache/axe --no-save --no-audit --no-fund --silent \
    "axe-core@$AXE_VERSION" </dev/null
}

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "Starting PostgreSQL ..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # The suite connects as postgres over TCP; give it a password if trust is off.
  if ! psql -h 127.0.0.1 -U postgres -c "select 1" >/dev/null 2>&1; then
    su postgres -c "psql -q -c \"alter user postgres password 'postgres'\"" >/dev/null
    export PGPASSWORD=postgres
  fi
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis ..."
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 30); do
      redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
      sleep 0.5
    done
  fi
}

run_suite() {
  local label="$1"
  shift
  echo "=== $label ==="
  local code=0
  env "$@" "$PY" -m pytest -q -p no:cacheprovider || code=$?
  # Any non-zero code fails, 5 (nothing collected) included.
  if [ "$code" -ne 0 ]; then
    echo "Tests failed on $label (exit $code)."
    exit "$code"
  fi
}

case "${1:-}" in
  start)
    install
    ensure_espeak || echo "espeak-ng could not be installed: spoken lines stay silent."
    "$PY" manage.py migrate --noinput
    echo
    echo "  The studio is at http://127.0.0.1:8000/"
    echo
    # No autoreloader: one process, and Ctrl+C stops the worker cleanly.
    exec "$PY" manage.py runserver --noreload 127.0.0.1:8000
    ;;
  test)
    install
    ensure_chromium
    ensure_espeak
    ensure_axe
    # Up before the first run too: the separate worker's tests talk to Redis.
    ensure_redis
    run_suite "embedded defaults (SQLite, in-memory channel layer)" \
      -u DATABASE_URL -u REDIS_URL -u STUDIO_TEST_SCOPE
    ensure_postgres
    # Again, the tests whose database, channel layer or cache these replace
    # (tests/conftest.py: touches_a_backend); the rest run the same on both.
    run_suite "PostgreSQL and Redis" STUDIO_TEST_SCOPE=backends \
      DATABASE_URL="postgres://postgres${PGPASSWORD:+:$PGPASSWORD}@127.0.0.1:5432/studio" \
      REDIS_URL=redis://127.0.0.1:6379/0
    ;;
  *)
    echo "usage: ./studio.sh start | ./studio.sh test" >&2
    exit 2
    ;;
esac
