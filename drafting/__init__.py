"""A batch of pages read (newsflow.sources) and drafted into tables (newsflow.transforms) in worker processes, with
the parse rules the layout profiles give."""
