#!/usr/bin/env bash
# The whole test suite, from a fresh clone: lint, Rust unit tests (cargo test), then the Python
# package built into a private virtualenv and tested with pytest against FakeTableau on 127.0.0.1.
# Needs only Rust and Python 3.9+; installs maturin, pytest, PyJWT (with cryptography) and mypy
# into the virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${TCA_TEST_VENV:-.venv-test}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

step "virtualenv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" "pytest>=7" "PyJWT[crypto]>=2.8" "mypy>=1.10"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --all-targets

step "build and install the package (maturin develop --release)"
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
    "$VENV/bin/maturin" develop --release --quiet

step "type checks (mypy --strict, stubtest)"
"$VENV/bin/python" -m mypy --strict python/tableau_connected_auth tests/typing_example.py
"$VENV/bin/python" -m mypy.stubtest tableau_connected_auth._core --allowlist tests/stubtest_allowlist.txt

step "pytest"
"$VENV/bin/python" -m pytest tests "$@"
