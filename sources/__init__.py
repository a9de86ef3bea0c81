"""Page input: list the pages of files, folders, WARC archives and URL lists, read their bytes and decode them."""
