# Shared by scripts/run and scripts/test: a virtualenv with the project, and the local services.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

quietly() {
  # quietly LOG COMMAND…: the command's output goes to LOG; only if it fails is the log's tail shown.
  local log="$1"; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "failed: $* (the whole log is $log)" >&2
    return 1
  fi
}

LOCK="$ROOT/requirements-dev.lock"

bootstrap() {
  # (Re)install when the venv is missing or the lock (or pyproject.toml) changed since the last install.
  # With a LOG file, pip's output goes there behind a one-line note (its tail is shown if the install fails).
  local stamp="$VENV/.installed" log="${1:-}"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$LOCK" -nt "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    if [ -n "$log" ]; then
      echo "installing Mobilise into .venv/ (pip's output: $log)"
      quietly "$log" install_project
    else
      install_project --quiet
    fi
    touch "$stamp"
  fi
}

install_project() {
  # Exactly the locked versions, each checked against its hash (scripts/lock writes the lock), then the project
  # itself in place, with nothing more resolved.
  "$VENV/bin/pip" install "$@" --require-hashes -r "$LOCK" && "$VENV/bin/pip" install "$@" --no-deps -e "$ROOT"
}

bootstrap_node() {
  # Only the tests need it (scripts/test). The browser tests inject axe-core from npm: `npm ci` when node_modules is missing or older than the lock file.
  local stamp="$ROOT/node_modules/.installed"
  if [ -f "$stamp" ] && [ ! "$ROOT/package-lock.json" -nt "$stamp" ] && [ ! "$ROOT/package.json" -nt "$stamp" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "npm is needed to install axe-core for the accessibility tests: apt-get install -y npm" >&2
    return 1
  fi
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || {
    echo "npm ci failed: the accessibility tests need node_modules/axe-core (see package.json)" >&2
    return 1
  }
  touch "$stamp"
}

ensure_redis() {
  if "$VENV/bin/python" -c "import redis,sys; redis.Redis(host='127.0.0.1', port=6379, socket_connect_timeout=1).ping()" 2>/dev/null; then
    return 0
  fi
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering on 127.0.0.1:6379: starting it" >&2
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 50); do
      "$VENV/bin/python" -c "import redis; redis.Redis(host='127.0.0.1', port=6379).ping()" 2>/dev/null && return 0
      sleep 0.1
    done
  fi
  echo "Redis is needed on 127.0.0.1:6379 and could not be started: install it (apt-get install redis-server)." >&2
  return 1
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return 0
  fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432: starting it" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 50); do
      pg_isready -q -h 127.0.0.1 -p 5432 && return 0
      sleep 0.2
    done
  fi
  echo "PostgreSQL is needed on 127.0.0.1:5432 (trust auth, database test) and could not be started:" >&2
  echo "install it (apt-get install postgresql) or set TEST_POSTGRES_URL." >&2
  return 1
}

ensure_chromium() {
  # The browser tests drive Debian's chromium through Playwright (its own download cannot reach the internet).
  # A system package is installed only in CI, or when whoever runs this says yes; otherwise it says what to run.
  local binary="${CHROMIUM:-/usr/bin/chromium}" install="apt-get install -y chromium"
  if [ -x "$binary" ]; then
    return 0
  fi
  if command -v apt-get >/dev/null && [ "$(id -u)" = "0" ] && may_install_system_package chromium; then
    echo "chromium is missing: installing Debian's package" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && return 0
  fi
  echo "The browser tests need chromium at $binary: run \`$install\` (as root), or set CHROMIUM to a Chromium binary." >&2
  return 1
}

ensure_spamassassin() {
  # tests/test_spam_score.py scores every email with Debian's spamassassin, local rules only (-L).
  if command -v spamassassin >/dev/null; then
    return 0
  fi
  if command -v apt-get >/dev/null && [ "$(id -u)" = "0" ] && may_install_system_package spamassassin; then
    echo "spamassassin is missing: installing Debian's package" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin >/dev/null && return 0
  fi
  echo "The spam-score tests need SpamAssassin: run \`apt-get install -y spamassassin\` (as root)." >&2
  return 1
}

may_install_system_package() {
  # Yes in CI (CI is set); otherwise only a person at a terminal who answers y. Never silently on a laptop.
  if [ -n "${CI:-}" ]; then
    return 0
  fi
  if [ -t 0 ] && [ -t 2 ]; then
    local answer
    read -r -p "The tests need Debian's $1 package, which is not installed. Install it now with apt-get? [y/N] " answer >&2
    [[ "$answer" =~ ^[Yy] ]] && return 0
  fi
  return 1
}
