"""The warehouse: a DuckLake of Parquet files and a catalog database, one module per concern.

storage (where it is, its files and reads), lake (DuckDB connections with the lake attached), locking (one writer at
a time), ledger (the pages already seen), transaction (a run's writes), checksums (of the lake's files), catalog
(tables, views, history, read-only SQL), maintenance, verify, migrate.
"""
