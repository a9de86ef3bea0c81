"""Pure transforms: polars DataFrames in, DataFrames out. No Prefect, no IO."""
