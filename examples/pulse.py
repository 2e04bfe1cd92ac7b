"""Pulse on the REST session: every metric definition (``page_token`` paging), then its metrics.

Run it: ``python examples/pulse.py`` (against a FakeTableau unless TABLEAU_SERVER is set; Pulse
is a Tableau Cloud feature). With a connected app, the JWT needs
``tableau:insight_definitions_metrics:read`` (and ``tableau:insight_metrics:read`` for metrics).
"""

from __future__ import annotations

import tableau_connected_auth as tca

SCOPES = ["tableau:insight_definitions_metrics:read", "tableau:insight_metrics:read"]


def main() -> None:
    with tca.Client.from_env(scopes=SCOPES) as client:
        # cell 1: every definition, 20 per call
        definitions = list(client.pulse_paginate("definitions", page_size=20))
        print(f"{len(definitions)} metric definitions")

        # cell 2: the metrics of the first three, then the same metrics by id in one call
        for definition in definitions[:3]:
            metadata = definition["metadata"]
            metrics = list(client.pulse_paginate(f"definitions/{metadata['id']}/metrics"))
            print(f"  {metadata['name']}: {len(metrics)} metrics")
            again = client.pulse_batch_get("metrics", [m["id"] for m in metrics])
            assert sorted(m["id"] for m in again) == sorted(m["id"] for m in metrics)


if __name__ == "__main__":
    from _stand_in import tableau_or_stand_in

    with tableau_or_stand_in() as fake:
        main()
        if fake is not None:
            assert fake.stats()["sign_ins"] == 1, fake.stats()
