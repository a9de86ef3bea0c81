"""`python -m newsflow` runs the command line."""

from newsflow.cli import app

app(prog_name="newsflow")
