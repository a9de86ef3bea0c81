"""The warehouse: Parquet tables in a folder, landed atomically, and the DuckDB catalog of views over them."""
