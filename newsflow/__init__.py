"""newsflow: raw Korean news pages in, validated article, entity and weather tables out.

The package's floors sit beside this folder on disk and are linked into it (`newsflow/flows -> ../flows`, ...), so
they import as `newsflow.flows`, `newsflow.transforms`, ... and install inside `newsflow/`. From the top: `cli`
(the command), `flows` (Prefect), `report` and `drafting` (which compose the stages), the stages `sources`,
`transforms`, `expectations` and `warehouse`, and the ground, `core` and `profiles`. pyproject.toml's
[tool.importlinter] holds the contract.
"""

__version__ = "0.1.0"
