"""The run report: a self-contained HTML page per run (Jinja2 templates, inline SVG charts), the pointers to the
latest run and the latest run that validated pages, the data dictionary page, and markdown for the Prefect artifact."""
