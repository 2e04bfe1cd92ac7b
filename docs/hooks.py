"""MkDocs hooks (mkdocs.yml): tables generated from the code itself, so they cannot drift."""
