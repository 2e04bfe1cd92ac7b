"""How long a user waits for ``pip install``: from a wheel, against from source.

    python benchmarks/bench_install.py [--wheel PATH] [--source] [--runs N]

- wheel: ``pip install --no-deps <wheel>`` into a fresh virtualenv, ``--runs`` times (default 5);
  the wheel defaults to the x86_64 manylinux one that ``scripts/build-wheels.sh`` leaves in
  ``target/wheels-dist``.
- ``--source``: ``pip install --no-deps .`` into a fresh virtualenv once (compiles the Rust
  core in release mode; minutes, and it needs Rust), then the ratio.

Only the install is timed (the virtualenv is made before the clock starts). Prints medians and
the ratio; no assertion: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_venv(where: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", where], check=True)
    return Path(where) / ("Scripts" if os.name == "nt" else "bin") / "python"


def timed_install(*what: str) -> float:
    with tempfile.TemporaryDirectory() as d:
        python = fresh_venv(os.path.join(d, "venv"))
        started = time.perf_counter()
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", *what],
            check=True,
            cwd=ROOT,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", help="the wheel to install (default: target/wheels-dist/*manylinux*x86_64*.whl)")
    parser.add_argument("--source", action="store_true", help="also install from source once (slow)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    wheel = args.wheel or next(iter(sorted(glob.glob(str(ROOT / "target/wheels-dist/*manylinux*x86_64*.whl")))), None)
    if wheel is None:
        sys.exit("no wheel: run scripts/build-wheels.sh --quick first, or pass --wheel")
    print(f"CPython {sys.version.split()[0]}, {os.cpu_count()} cores; wheel {Path(wheel).name} "
          f"({Path(wheel).stat().st_size / 1e6:.1f} MB)")
    times = [timed_install(wheel) for _ in range(args.runs)]
    wheel_median = statistics.median(times)
    print(f"from the wheel:  median {wheel_median:.2f} s over {args.runs} runs "
          f"(min {min(times):.2f}, max {max(times):.2f})")
    if args.source:
        source = timed_install(".")
        print(f"from source:     {source:.1f} s (one run)")
        print(f"ratio:           the wheel installs {source / wheel_median:.0f}x faster")


if __name__ == "__main__":
    main()
