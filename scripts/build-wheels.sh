#!/usr/bin/env bash
# Build the wheels users install, check them, and test one as a user installs it.
#
#   scripts/build-wheels.sh          # the full matrix (about 15 min on 2 cores)
#   scripts/build-wheels.sh --quick  # what .ci/run does: x86_64 manylinux2014, CPython 3.9 and 3.13
#
# 1. Wheels with `maturin build --release --zig` (zig links against glibc 2.17 / musl, so no
#    manylinux container is needed): manylinux2014 (glibc 2.17) x86_64 and aarch64, musllinux_1_2
#    x86_64, plus the sdist. These are the same commands as the Linux legs of
#    .github/workflows/release.yml.
# 2. `auditwheel show` checks each Linux wheel's platform tag.
# 3. The x86_64 manylinux2014 wheel (not the development build) is installed into a fresh
#    virtualenv of every CPython 3.9-3.13 that pyenv has here, and the test suite runs against it
#    (tests that need Airflow are skipped there; they run in scripts/test.sh).
#
# Installs what it needs itself: rustup targets, and maturin, ziglang and auditwheel in a
# virtualenv ($TCA_WHEELS_VENV, default .venv-wheels). Wheels go to $TCA_WHEELS_OUT (default
# target/wheels-dist). Prints each wheel's size.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
if [ "${1:-}" = "--quick" ]; then QUICK=1; fi
VENV="${TCA_WHEELS_VENV:-.venv-wheels}"
OUT="${TCA_WHEELS_OUT:-target/wheels-dist}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

step "tools: maturin, ziglang, auditwheel in $VENV; rustup targets"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" "ziglang>=0.13" "auditwheel>=6"
TARGETS=(x86_64-unknown-linux-gnu)
if [ "$QUICK" = 0 ]; then
    TARGETS+=(aarch64-unknown-linux-gnu x86_64-unknown-linux-musl)
fi
rustup target add "${TARGETS[@]}" >/dev/null

export PATH="$PWD/$VENV/bin:$PATH"
rm -rf "$OUT"
mkdir -p "$OUT"

build() {  # target, compatibility
    step "wheel: $1 ($2)"
    local started=$SECONDS
    maturin build --release --zig --quiet --target "$1" --compatibility "$2" --out "$OUT"
    echo "built in $((SECONDS - started)) s"
}

build x86_64-unknown-linux-gnu manylinux2014
if [ "$QUICK" = 0 ]; then
    build aarch64-unknown-linux-gnu manylinux2014
    build x86_64-unknown-linux-musl musllinux_1_2
    step "sdist"
    maturin sdist --out "$OUT"
fi

step "auditwheel show: each wheel's platform tag"
for wheel in "$OUT"/*.whl; do
    echo "--- $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
    report="$(auditwheel show "$wheel")"
    echo "$report" | sed -n '1,4p'
    case "$(basename "$wheel")" in
        *manylinux2014_x86_64*|*manylinux_2_17_x86_64*) want="manylinux_2_17_x86_64" ;;
        *manylinux2014_aarch64*|*manylinux_2_17_aarch64*) want="manylinux_2_17_aarch64" ;;
        *musllinux_1_2_x86_64*) want="musllinux_1_2_x86_64" ;;
        *) echo "unexpected wheel name"; exit 1 ;;
    esac
    if ! echo "$report" | tr -s ' \n' ' ' | grep -q "\"$want\""; then
        echo "auditwheel does not accept this wheel as $want"
        exit 1
    fi
done
ls -l "$OUT"

WHEEL="$(ls "$OUT"/tableau_connected_auth-*-manylinux*_x86_64*.whl | head -1)"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
if [ "$QUICK" = 1 ]; then
    MINORS=(3.9 3.13)
else
    MINORS=(3.9 3.10 3.11 3.12 3.13)
fi
TESTED=0
for minor in "${MINORS[@]}"; do
    interpreter="$(ls -d "$PYENV_ROOT"/versions/"$minor".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)"
    if [ -z "$interpreter" ]; then
        echo "CPython $minor: not installed here (pyenv), skipped"
        continue
    fi
    step "CPython $minor: install $(basename "$WHEEL") into a fresh virtualenv and run the tests"
    venv="target/wheel-test-$minor"
    rm -rf "$venv"
    "$interpreter" -m venv "$venv"
    started=$SECONDS
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$WHEEL"
    echo "wheel installed in $((SECONDS - started)) s"
    # TSC 0.40 claims Python 3.9 but uses `X | None` at import time there; 0.38 is its last
    # release that imports on 3.9.
    tsc="tableauserverclient>=0.25"
    if [ "$minor" = 3.9 ]; then tsc="tableauserverclient>=0.25,<0.39"; fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "pytest>=7" "PyJWT[crypto]>=2.8" "requests>=2.25" "httpx>=0.23" "$tsc"
    # Run from outside the checkout, so that only the installed wheel can be imported.
    (cd "$venv" && ./bin/python -c "import tableau_connected_auth as t, sys; \
assert 'site-packages' in t.__file__, t.__file__; print('testing', t.__file__, 'on', sys.version.split()[0])")
    root="$PWD"
    (cd "$venv" && TCA_TEST_INSTALLED_WHEEL=1 ./bin/python -m pytest "$root/tests" -q -p no:cacheprovider \
        --rootdir "$root" --ignore "$root/tests/test_airflow.py")
    TESTED=$((TESTED + 1))
done
if [ "$TESTED" -lt 2 ]; then
    echo "the wheel was tested on $TESTED CPython versions; at least 2 (3.9 and 3.13) are needed"
    exit 1
fi
