"""Listing every workbook of a site, page by page: ``client.paginate`` vs TSC's ``Pager`` vs the
loop people write with requests + ElementTree.

    python benchmarks/bench_paging.py [--workbooks 2000] [--rounds 7]

All three read the same FakeTableau on 127.0.0.1 with one session each (signed in before
timing), XML answers, at page sizes 100 and 1000. Rounds are interleaved and the order rotates,
so machine noise hits all alike; each figure is the median over rounds and each ratio the
median of the per-round ratios. Nothing asserts time: it prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import time
import xml.etree.ElementTree as ET
from typing import Callable, Dict, List

import requests
import tableauserverclient as TSC

import tableau_connected_auth as tca
from tableau_connected_auth.testing import FakeTableau

NS = {"t": "http://tableau.com/api"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workbooks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with FakeTableau() as fake:
        fake.add_workbooks(args.workbooks - len(fake.content_ids()["workbooks"]))
        expected = len(fake.content_ids()["workbooks"])
        client = fake.client()
        session = client.session()

        server = TSC.Server(fake.url, use_server_version=True)
        server.auth.sign_in(TSC.JWTAuth(fake.connected_app.jwt(fake.username, scopes=["tableau:content:read"]),
                                        site_id=fake.site))
        http = requests.Session()
        http.headers["X-Tableau-Auth"] = session.token

        def ours(size: int) -> int:
            return sum(1 for _ in client.paginate("workbooks", page_size=size))

        def tsc(size: int) -> int:
            return sum(1 for _ in TSC.Pager(server.workbooks, TSC.RequestOptions(pagesize=size)))

        def hand_loop(size: int) -> int:
            n, page = 0, 1
            while True:
                r = http.get(session.url("workbooks"), params={"pageSize": size, "pageNumber": page})
                r.raise_for_status()
                root = ET.fromstring(r.content)
                n += len(root.findall("t:workbooks/t:workbook", NS))
                total = int(root.find("t:pagination", NS).get("totalAvailable"))  # type: ignore[union-attr]
                if page * size >= total:
                    return n
                page += 1

        contenders: Dict[str, Callable[[int], int]] = {"ours": ours, "TSC Pager": tsc, "requests + ET": hand_loop}
        print(f"{expected} workbooks, XML, {args.rounds} interleaved rounds (median ms; ratio to ours)")
        for size in (100, 1000):
            times: Dict[str, List[float]] = {name: [] for name in contenders}
            names = list(contenders)
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    start = time.perf_counter()
                    got = contenders[name](size)
                    times[name].append(time.perf_counter() - start)
                    assert got == expected, (name, got, expected)
            print(f"page_size={size}")
            for name in names:
                ratio = statistics.median(t / o for t, o in zip(times[name], times["ours"]))
                print(f"  {name:>14}: {statistics.median(times[name]) * 1000:8.1f} ms   x{ratio:.2f}")


if __name__ == "__main__":
    main()
