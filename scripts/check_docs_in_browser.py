#!/usr/bin/env python3
"""Opens the built documentation site in a real headless Chromium and fails on what a reader
would hit: console errors, uncaught exceptions, failed or 4xx/5xx requests, and any request to
another origin (the site must load nothing from the internet: no fonts, no CDN scripts).

    python scripts/check_docs_in_browser.py [SITE_DIR] [--screenshots DIR] [--page PATH ...]

SITE_DIR (default target/site, from ``mkdocs build --strict``) is served over HTTP on
127.0.0.1, on a port the system picks. Each page (default: the index and guides/notebooks/) is
loaded, search is given a word from the search index and must show results (Material's search
runs in a web worker), and a full-page screenshot is saved in DIR (default
target/docs-screenshots), as index.png and guide.png for the default pages. Requests to any
other origin are blocked and reported. Exits 1 with the problems listed, 0 when there are none.

Drives Debian's Chromium (the ``chromium`` package; ``$CHROMIUM`` names another binary) with
Playwright from PyPI; Playwright's own browser downloads are not used."""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route

ROOT = Path(__file__).resolve().parent.parent

#: The pages checked by default, with the screenshot's name.
PAGES = [("", "index"), ("guides/notebooks/", "guide")]

TIMEOUT_MS = 30_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serves ``site`` on 127.0.0.1 on an ephemeral port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("check_docs_in_browser: no Chromium (apt-get install chromium, or set $CHROMIUM)")
    return found


def search_word(site: Path) -> Optional[str]:
    """A word that search must find: the first long enough word of the index page's title."""
    index = site / "search" / "search_index.json"
    if not index.exists():
        return None
    for doc in json.loads(index.read_text())["docs"]:
        for word in re.findall(r"[A-Za-z]{4,}", doc.get("title", "")):
            return str(word).lower()
    return None


def check(site: Path, pages: List[Tuple[str, str]], shots: Path) -> List[str]:
    """Loads each page; returns the problems found (empty when there are none)."""
    from playwright.sync_api import sync_playwright

    problems: List[str] = []
    shots.mkdir(parents=True, exist_ok=True)
    word = search_word(site)
    with serve(site) as base, sync_playwright() as playwright:
        args = [
            # Belt and braces with the routing below: no host name resolves but loopback, so
            # a request that escaped the routing (a web worker's, say) fails and shows up as a
            # console error or a failed request instead of reaching the internet.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ]
        if os.geteuid() == 0:
            # Chromium refuses to start as root with its sandbox on (CI runs as root); the
            # pages it loads are our own, from 127.0.0.1.
            args.append("--no-sandbox")
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=args)
        try:
            print(f"check_docs_in_browser: Chromium {browser.version}, site {site} at {base}")
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            for path, name in pages:
                problems += _check_page(context, base, path or "index", path, shots / f"{name}.png", word)
            context.close()
        finally:
            browser.close()
    return problems


def _check_page(context: "BrowserContext", base: str, label: str, path: str, shot: Path,
                word: Optional[str]) -> List[str]:
    """Loads one page, checks it and saves its screenshot; returns the problems found."""
    problems: List[str] = []
    origin = urlsplit(base)
    page = context.new_page()

    def route(route: "Route", request: "Request") -> None:
        url = urlsplit(request.url)
        if url.scheme in ("data", "blob") or (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            problems.append(f"{label}: request to another origin, blocked: {request.url}")
            route.abort("blockedbyclient")

    def console(message: "ConsoleMessage") -> None:
        if message.type == "error":
            where = (message.location or {}).get("url", "")
            problems.append(f"{label}: console error: {message.text}" + (f" (at {where})" if where else ""))

    def failed(request: "Request") -> None:
        if urlsplit(request.url).netloc == origin.netloc:  # another origin's: reported as blocked
            problems.append(f"{label}: request failed ({request.failure}): {request.url}")

    def response(answer: "Response") -> None:
        if answer.status >= 400:
            problems.append(f"{label}: HTTP {answer.status}: {answer.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{label}: uncaught exception: {error}"))
    page.on("requestfailed", failed)
    page.on("response", response)
    try:
        answer = page.goto(base + path, wait_until="load", timeout=TIMEOUT_MS)
        if answer is None or answer.status != 200:
            return problems + [f"{label}: HTTP {answer.status if answer else '(no response)'} for {base + path}"]
        problems += _check_rendered(page, label)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        page.screenshot(path=str(shot), full_page=True)
        print(f"check_docs_in_browser: {label}: screenshot {shot}")
        if word:  # last, since it opens the search overlay
            problems += _check_search(page, label, word)
    finally:
        page.close()
    return problems


def _check_rendered(page: "Page", label: str) -> List[str]:
    """The theme rendered: Material's header, navigation and content are laid out and its
    stylesheet applies (a page without CSS or with a blank body fails here)."""
    found = page.evaluate(
        """() => {
            const box = (s) => { const e = document.querySelector(s); return e ? e.getBoundingClientRect().height : 0 };
            const header = document.querySelector('.md-header');
            return {
                header: box('.md-header'),
                content: box('.md-content'),
                text: (document.querySelector('.md-content')?.innerText || '').trim().length,
                position: header ? getComputedStyle(header).position : '',
                sheets: document.styleSheets.length,
            };
        }"""
    )
    problems = []
    if not (found["header"] > 0 and found["content"] > 0 and found["text"] > 0):
        problems.append(f"{label}: the page did not render (Material's header or content missing or empty): {found}")
    elif found["position"] != "sticky":
        problems.append(f"{label}: Material's stylesheet does not apply (header position {found['position']!r})")
    return problems


def _check_search(page: "Page", label: str, word: str) -> List[str]:
    """Search works: the index loads into the worker and a word from it finds results."""
    try:
        search = page.locator(".md-search__input")
        search.click()
        search.fill(word)
        search.press("End")  # Material's search reads the query on keyup; fill() has none
        page.locator(".md-search-result__item").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    except Exception as error:  # playwright's TimeoutError, and others from a broken page
        state = page.evaluate(
            "() => ({meta: document.querySelector('.md-search-result__meta')?.innerText,"
            " value: document.querySelector('.md-search__input')?.value})"
        )
        return [f"{label}: search for {word!r} found nothing ({state}): {str(error).splitlines()[0]}"]
    return []


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "target" / "site")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "target" / "docs-screenshots")
    parser.add_argument("--page", action="append", metavar="PATH",
                        help="a page's path in the site (repeatable); the screenshot is named after it")
    options = parser.parse_args(argv)
    if not (options.site / "index.html").is_file():
        print(f"check_docs_in_browser: no site at {options.site} (run mkdocs build --strict)", file=sys.stderr)
        return 1
    pages = PAGES
    if options.page:
        pages = [(p, re.sub(r"\W+", "-", p.strip("/")) or "index") for p in options.page]
    problems = check(options.site.resolve(), pages, options.screenshots)
    if problems:
        print(f"check_docs_in_browser: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"check_docs_in_browser: {len(pages)} page(s) loaded with no console error and nothing from another origin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
