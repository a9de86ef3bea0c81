"""The run report: one self-contained HTML page per run, and its markdown for the Prefect artifact."""
