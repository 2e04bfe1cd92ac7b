"""``python -m tableau_connected_auth``: the same as the ``tableau-auth`` command."""

from .cli import main

raise SystemExit(main())
