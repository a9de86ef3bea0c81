"""Page text -> one row per non-blank line: the unit every parsing rule works on."""

from __future__ import annotations

import polars as pl

# A reporter's name alone on a line followed by a line holding only 기자 (the seed's byline) becomes one line.
_SPLIT_BYLINE = r"(?m)^[ \t]*([가-힣]{2,4}(?:[ ,·][가-힣]{2,4})*)[ \t]*\n(?:[ \t]*\n)*[ \t]*기자[ \t]*$"


def clean_text(text: pl.Expr) -> pl.Expr:
    """Text with one kind of line end and space: no BOM, NUL, zero-width or non-breaking characters."""
    return (
        text.str.replace_all("\r\n?", "\n")
        .str.replace_all("[\ufeff\u0000\u200b\u200c\u200d\u2060]", "")
        .str.replace_all("[\u00a0\u2002\u2003\u2009\u3000\t]", " ")
        .str.replace_all("(?m)^ +| +$", "")
        .str.replace_all(_SPLIT_BYLINE, "$1 기자")
    )


def page_lines(pages: pl.DataFrame) -> pl.DataFrame:
    """One row per non-blank line of each page.

    Input columns: page_id, text (already through `clean_text`). Output: page_id, line_no (0-based, counting
    non-blank lines only, so the previous line of a page is always line_no - 1) and line (stripped, inner runs
    of spaces collapsed).
    """
    return (
        pages.select("page_id", line=pl.col("text").str.split("\n"))
        .explode("line")
        .with_columns(pl.col("line").str.replace_all(" {2,}", " ").str.strip_chars())
        .filter(pl.col("line").str.len_chars() > 0)
        .with_columns(line_no=pl.int_range(pl.len(), dtype=pl.Int32).over("page_id"))
        .select("page_id", "line_no", "line")
    )
