"""Prefect flows and the IO they wire: reading sources, landing tables, publishing reports."""
