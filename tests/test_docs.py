"""The documentation site (docs/, mkdocs.yml): every code block runs or is marked, and the API
reference documents the whole public API. The rules for code blocks are in docs_snippets.py.

The site is built once (``mkdocs build --strict``) into a temporary directory, unless
``TCA_DOCS_SITE`` names one scripts/test.sh has just built. Without MkDocs installed these tests
skip, except under ``CI``, where they fail (see ``_must_run``)."""

from __future__ import annotations

import configparser
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set

import pytest

from docs_snippets import (
    DOCS,
    MARKERS,
    OUTPUT,
    PARSE,
    PROSE,
    ROOT,
    RUN,
    Block,
    console_commands,
    fenced_blocks,
    missing_output,
    page_blocks,
    pages,
)
from tableau_connected_auth.testing import FakeTableau

#: Names in ``_core``'s stubs that are not API of their own, and why.
CORE_INTERNALS = {
    "_JwtIssuer": "the shared base of the JWT issuers; its methods are documented on each",
    "judge_answer": "the dead-session rule the requests/httpx adapters call",
    "set_telemetry": "switched by telemetry.instrument() and uninstrument()",
    "hint_table": "generates the troubleshooting page",
    "FakeTableau": "documented as tableau_connected_auth.testing.FakeTableau",
    "__version__": "documented as tableau_connected_auth.__version__",
}


def griffe_runtime() -> Any:
    """docs/griffe_runtime.py, the extension mkdocs.yml gives mkdocstrings."""
    sys.path.insert(0, str(DOCS))
    try:
        return importlib.import_module("griffe_runtime")
    finally:
        sys.path.pop(0)


def _must_run() -> bool:
    """Under CI a missing tool fails these tests, except in the runs against an installed wheel
    (scripts/build-wheels.sh), which test the wheel: the docs site is built and checked in the
    main run, while the pages' code blocks run in both."""
    return bool(os.environ.get("CI")) and not os.environ.get("TCA_TEST_INSTALLED_WHEEL")


def _require(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        if _must_run():
            raise
        pytest.skip(f"{module} is not installed (scripts/test.sh installs it)")


# --- code blocks --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def docstring_pages() -> Dict[str, List[Block]]:
    """The code blocks of the docstrings the reference renders, by object (as Markdown, the way
    docs/griffe_runtime.py gives them to mkdocstrings)."""
    import griffe

    extension = griffe_runtime().RuntimeDocstrings()
    package = griffe.load(
        "tableau_connected_auth",
        search_paths=[str(ROOT / "python")],
        allow_inspection=False,
        extensions=griffe.Extensions(extension),
    )
    found: Dict[str, List[Block]] = {}

    def walk(obj: "griffe.Object | griffe.Alias") -> Iterator["griffe.Object | griffe.Alias"]:
        yield obj
        for member in obj.members.values():
            if not isinstance(member, griffe.Alias) and not member.name.startswith("__"):
                yield from walk(member)

    for obj in walk(package):
        if obj.docstring is not None:
            blocks = list(fenced_blocks(obj.docstring.value, f"docstring of {obj.path}"))
            if blocks:
                found[obj.path] = blocks
    return found


def _all_blocks() -> List[Block]:
    blocks = [b for page in pages() for b in page_blocks(page)]
    return blocks + [b for bs in docstring_pages().values() for b in bs]


def test_every_code_block_runs_or_is_marked() -> None:
    _require("griffe")
    problems = []
    previous = None
    blocks = _all_blocks()
    for block in blocks:
        if block.language == OUTPUT:
            if previous is None or previous.language not in RUN or previous.marked:
                problems.append(f"{block.source}: an output block must follow a block that runs")
        elif block.language not in RUN | PARSE | PROSE and not block.marked:
            problems.append(
                f"{block.source}: a {block.language or 'plain'} block neither runs nor is marked "
                f"(give it a language of {sorted(RUN | PARSE | PROSE | {OUTPUT})} or start it with {MARKERS})"
            )
        previous = block
    assert not problems, "\n".join(problems)
    assert len([b for b in blocks if b.language == "python" and not b.marked]) > 20


def _parse(block: Block) -> None:
    if block.language == "toml":
        if sys.version_info < (3, 11):
            pytest.skip("tomllib is Python 3.11+")
        import tomllib

        tomllib.loads(block.code)
    elif block.language == "json":
        json.loads(block.code)
    elif block.language == "yaml":
        import yaml  # type: ignore[import-untyped,unused-ignore]

        yaml.safe_load(block.code)
    elif block.language == "ini":
        configparser.ConfigParser().read_string(block.code)


def test_configuration_blocks_parse() -> None:
    _require("yaml")
    parsed = 0
    for block in (b for page in pages() for b in page_blocks(page)):
        if block.language in PARSE and not block.marked:
            _parse(block)
            parsed += 1
    assert parsed > 0


def test_marked_python_blocks_compile() -> None:
    _require("griffe")
    for block in _all_blocks():
        if block.language == "python" and block.marked:
            compile(block.code, block.source, "exec", flags=0x2000)  # PyCF_ALLOW_TOP_LEVEL_AWAIT


def _run_page(blocks: List[Block], tmp_path: Path) -> None:
    """Runs a page's blocks in one process against a fresh FakeTableau and checks outputs."""
    runnable = [b for b in blocks if b.language in RUN and not b.marked]
    if not runnable:
        pytest.skip("no block of this page runs")
    (tmp_path / "blocks.json").write_text(json.dumps([b.__dict__ for b in runnable]))
    bin_dir = str(Path(sys.executable).parent)
    with FakeTableau() as fake:
        env = {**os.environ, **fake.environment(), "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests"), env.get("PYTHONPATH")]))
        work = tmp_path / "cwd"
        work.mkdir()
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "docs_runner.py"), str(tmp_path / "blocks.json"),
             str(tmp_path / "results.json")],
            cwd=work, env=env, capture_output=True, text=True, timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    results = {r["source"]: r for r in json.loads((tmp_path / "results.json").read_text())}
    for block in runnable:
        result = results.get(block.source)
        assert result is not None, f"{block.source} did not run (an earlier block failed)"
        assert result["error"] is None, f"{block.source} failed:\n{result['error']}"
    for before, block in zip(blocks, blocks[1:]):
        if block.language == OUTPUT:
            missing = missing_output(block.code.splitlines(), "\n".join(results[before.source]["outputs"]))
            assert not missing, f"{block.source}: not printed by the block above: {missing}"
    for block in runnable:
        if block.language == "console":
            for (command, expected), actual in zip(console_commands(block), results[block.source]["outputs"]):
                missing = missing_output(expected, actual)
                assert not missing, f"{block.source}: `{command}` did not print {missing}"


def _pages_that_run() -> List[Path]:
    """The pages with a block that runs (the others are only checked for marks and parsed)."""
    return [p for p in pages() if any(b.language in RUN and not b.marked for b in page_blocks(p))]


@pytest.mark.parametrize("page", _pages_that_run(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    _run_page(page_blocks(page), tmp_path)


def test_docstring_code_runs(tmp_path: Path) -> None:
    _require("griffe")
    found = docstring_pages()
    assert found, "no docstring has a code block"
    for index, (path, blocks) in enumerate(sorted(found.items())):
        if any(b.language in RUN and not b.marked for b in blocks):
            page_dir = tmp_path / str(index)
            page_dir.mkdir()
            _run_page(blocks, page_dir)


# --- the reference covers the public API ----------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    built = os.environ.get("TCA_DOCS_SITE")
    if built:
        yield Path(built)
        return
    _require("mkdocs")
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", out],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield Path(out)


def documented(site: Path) -> Set[str]:
    """The Python objects the built reference documents (its objects.inv inventory)."""
    raw = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    names = set()
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        name, role = line.split(" ", 2)[:2]
        if role.startswith("py:"):
            names.add(name)
    return names


def _public_members(cls: type) -> Set[str]:
    """The public members our classes define (not those of dict, httpx.Auth, ...), and a
    TypedDict's keys."""
    if isinstance(cls, type) and issubclass(cls, dict):
        return set(getattr(cls, "__annotations__", {}))
    ours = [k for k in cls.__mro__ if k.__module__.startswith("tableau_connected_auth")]
    return {n for k in ours for n in vars(k) if not n.startswith("_")}


def test_reference_documents_the_whole_public_api(site: Path) -> None:
    import tableau_connected_auth as tca
    from tableau_connected_auth import _core

    _require("griffe")
    names = documented(site)
    missing = []
    expected = [("tableau_connected_auth", n, getattr(tca, n)) for n in tca.__all__]
    for module_name in griffe_runtime().PUBLIC_MODULES:
        try:
            module = importlib.import_module(f"tableau_connected_auth.{module_name}")
        except ImportError:  # airflow without Airflow: its names come from the stub-free source
            module = None
        source = (ROOT / "python" / "tableau_connected_auth" / f"{module_name}.py").read_text()
        exported = module.__all__ if module is not None else _static_all(source)
        expected += [(f"tableau_connected_auth.{module_name}", n, getattr(module, n, None)) for n in exported]
    for prefix, name, obj in expected:
        path = f"{prefix}.{name}"
        if path not in names:
            missing.append(path)
        if isinstance(obj, type) and not issubclass(obj, BaseException) and obj.__module__ != "typing":
            missing += [f"{path}.{m}" for m in sorted(_public_members(obj)) if f"{path}.{m}" not in names]
    stub_names = set(_static_all((ROOT / "python" / "tableau_connected_auth" / "_core.pyi").read_text()))
    for name in sorted(stub_names - set(CORE_INTERNALS)):
        if f"tableau_connected_auth.{name}" not in names:
            missing.append(f"_core.{name} (from the stubs)")
    assert hasattr(_core, "__version__") and "tableau_connected_auth.__version__" in names
    assert not missing, "not in the API reference:\n" + "\n".join(missing)


def _static_all(source: str) -> List[str]:
    import ast

    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    return []


def test_every_environment_variable_read_is_documented() -> None:
    """The variables the package reads are in _env's tables (the reference page's source): each
    "TABLEAU_*" literal of the Python package, and each upper-case literal of a Rust file that
    reads the environment."""
    import re

    from tableau_connected_auth import _env

    documented_names = {name for _, name, _ in _env.SITE_VARIABLES + _env.CLOUD_MANAGER_VARIABLE_TABLE}
    documented_names |= {n for names, _ in _env.OTHER_VARIABLES for n in names}
    read = set()
    for path in (ROOT / "python" / "tableau_connected_auth").glob("*.py"):
        read |= set(re.findall(r'"(TABLEAU_[A-Z_]*[A-Z])"', path.read_text(encoding="utf-8")))
    rust = [p for d in ("crates", "src") for p in (ROOT / d).rglob("*.rs")]
    for path in rust:
        text = path.read_text(encoding="utf-8")
        if "env::var" in text and "/tests/" not in str(path):
            read |= set(re.findall(r'"([A-Z][A-Z0-9_]{3,})"', text))
    assert {"TABLEAU_SERVER", "TABLEAU_CACHE", "REQUESTS_CA_BUNDLE", "XDG_CACHE_HOME"} <= read
    assert not read - documented_names, f"read but not documented: {sorted(read - documented_names)}"


# --- the browser check (scripts/check_docs_in_browser.py) fails when it should ------------------


def test_browser_check_fails_on_console_errors_and_other_origins(tmp_path: Path) -> None:
    """scripts/test.sh runs the check on the built site; this runs it on a doctored one."""
    _require("playwright")
    if not (os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")):
        if _must_run():
            raise AssertionError("no Chromium (scripts/test.sh installs Debian's chromium)")
        pytest.skip("no Chromium (scripts/test.sh installs Debian's chromium)")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="https://fonts.example.invalid/css">'
        "</head><body><h1>doctored</h1><img src=\"missing.png\">"
        '<script>console.error("injected error")</script>'
        '<script>throw new Error("injected exception")</script></body></html>'
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_docs_in_browser.py"), str(site),
         "--screenshots", str(tmp_path / "shots"), "--page", ""],
        capture_output=True, text=True, timeout=180,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    for expected in [
        "index: console error: injected error",
        "index: uncaught exception: injected exception",
        "index: request to another origin, blocked: https://fonts.example.invalid/css",
        "index: HTTP 404: http://127.0.0.1:",
        "index: the page did not render",
    ]:
        assert expected in out, f"{expected!r} not reported:\n{out}"
    assert (tmp_path / "shots" / "index.png").stat().st_size > 0, out
