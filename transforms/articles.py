"""Page lines + layouts -> one article row per page that has an article header, and why others have none."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from newsflow.transforms.layouts import Layout, any_match, first_match
from newsflow.transforms.timestamps import timestamp_from_groups

TIME_FIELDS = ("y", "m", "d", "H", "M", "ampm", "section")
BYLINE_FIELDS = ("names", "email", "rest")
CAPTION_FIELDS = ("text", "credit", "rest")  # rest: body text glued after the credit
NO_LINE = 1_000_000
# words a byline's name pattern can take in before 기자 (`홍길동 선임기자`): roles, never names
ROLE_WORDS = (
    "선임",
    "수석",
    "전문",
    "객원",
    "사진",
    "영상",
    "인턴",
    "취재",
    "기자",
    "특파원",
)  # line number past any page's end


def _doubled_half(line: pl.Expr) -> pl.Expr:
    """The first half of a line printed twice back to back (alt text + caption); the line otherwise."""
    n = line.str.len_chars()
    half = line.str.slice(0, n // 2)
    doubled = (n % 2 == 0) & (n >= 20) & (half == line.str.slice(n // 2))
    return pl.when(doubled).then(half.str.strip_chars()).otherwise(line)


def classify_lines(lines: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Lines of one layout's pages with what each line is, by that layout's patterns."""
    line = pl.col("line")
    # the matches first, as columns: every field below reads a match column instead of repeating its chain of
    # patterns, which keeps the expressions small (cheap to plan) and runs each pattern once per line
    matches = {
        "_caption": first_match(_doubled_half(line), layout.caption, CAPTION_FIELDS),
        "_byline": first_match(line, layout.byline, BYLINE_FIELDS),
        "_registered": first_match(line, layout.registered, TIME_FIELDS),
        "_approved": first_match(line, layout.approved, TIME_FIELDS),
        "_updated": first_match(line, layout.updated, TIME_FIELDS),
        "_subtitle": first_match(line, layout.subtitle, ("text",)),
    }
    caption, byline, registered, approved, updated, subtitle = (pl.col(name) for name in matches)
    return (
        lines.with_columns(**matches)
        .with_columns(
            site=pl.lit(layout.site),
            title_after=pl.lit(layout.title == "after_time"),
            title_above=pl.lit(layout.title_lines_above, dtype=pl.Int32),
            is_registered=registered.struct.field("y").is_not_null() | approved.struct.field("y").is_not_null(),
            registered_at=timestamp_from_groups(registered),
            registered_has_time=registered.struct.field("H").is_not_null(),
            approved_at=timestamp_from_groups(approved),
            time_section=registered.struct.field("section").str.strip_chars(),
            updated_at=timestamp_from_groups(updated),
            byline_names=byline.struct.field("names"),
            byline_email=byline.struct.field("email"),
            byline_rest=byline.struct.field("rest").str.strip_chars(),
            caption_text=caption.struct.field("text").str.strip_chars().replace("", None),
            caption_credit=caption.struct.field("credit").str.strip_chars(),
            caption_rest=caption.struct.field("rest").str.strip_chars(),
            subtitle_text=subtitle.struct.field("text").str.strip_chars(),
            is_marker=any_match(line, layout.header_markers),
            is_furniture=any_match(line, layout.furniture),
            is_end=any_match(line, layout.end),
        )
        .drop(*matches)
    )


def classify_by_layout(lines: pl.DataFrame, layouts: Sequence[Layout]) -> pl.DataFrame | None:
    """classify_lines for lines of pages of every layout (each page's by its own `layout`); None when no line has
    a known layout. One pass of literal-pattern expressions per layout, never per page."""
    by_name = {lay.name: lay for lay in layouts}
    parts = [
        classify_lines(group, by_name[name])
        for (name,), group in lines.partition_by("layout", as_dict=True).items()
        if name in by_name
    ]
    return pl.concat(parts, how="vertical_relaxed") if parts else None


def _first_line(condition: pl.Expr, default: int = NO_LINE) -> pl.Expr:
    """Per page: the smallest line_no where the condition holds."""
    return pl.when(condition).then(pl.col("line_no")).min().over("page_id").fill_null(default)


def _line_roles(classified: pl.DataFrame) -> pl.DataFrame:
    """Adds, per page, where the header, lead (subtitles), body and end are, and each line's role."""
    n = pl.col("line_no")
    is_time = pl.col("is_registered") | pl.col("updated_at").is_not_null()
    is_caption = pl.col("caption_text").is_not_null() | pl.col("caption_credit").is_not_null()
    caption_only = is_caption & (pl.col("caption_rest").fill_null("") == "")
    byline_only = pl.col("byline_names").is_not_null() & pl.col("byline_rest").fill_null("").eq("")
    frame = classified.with_columns(
        anchor=_first_line(pl.col("is_registered")),
        is_time=is_time,
        is_caption=is_caption,
        caption_only=caption_only,
        byline_only=byline_only,
    )
    frame = frame.with_columns(
        time_end=pl.when(pl.col("is_time") & n.is_between(pl.col("anchor"), pl.col("anchor") + 2))
        .then(n)
        .max()
        .over("page_id")
    )
    frame = frame.with_columns(
        title_line=pl.when(pl.col("title_after"))
        .then(pl.col("time_end") + 1)
        .when(pl.col("anchor") >= pl.col("title_above"))
        .then(pl.col("anchor") - pl.col("title_above"))
        .otherwise(pl.col("anchor") - 1)  # too near the top for the usual gap: the line right above, if any
    )
    header_like = pl.col("is_time") | pl.col("byline_only") | pl.col("is_marker") | (n == pl.col("title_line"))
    frame = frame.with_columns(header_end=_first_line((n > pl.col("anchor")) & ~header_like) - 1)
    lead_like = (
        pl.col("subtitle_text").is_not_null() | pl.col("caption_only") | pl.col("byline_only") | pl.col("is_furniture")
    )
    frame = frame.with_columns(
        body_start=_first_line((n > pl.col("header_end")) & ~lead_like),
        end_line=_first_line(pl.col("is_end") & (n > pl.col("header_end"))),
    )
    after_header = (n > pl.col("header_end")) & (n < pl.col("end_line"))
    between_title_and_time = ~pl.col("title_after") & (n > pl.col("title_line")) & (n < pl.col("anchor"))
    return frame.with_columns(
        is_subtitle=(
            after_header & (n < pl.col("body_start")) & pl.col("subtitle_text").is_not_null() & ~pl.col("is_caption")
        )
        | between_title_and_time,
        in_body=after_header
        & (n >= pl.col("body_start"))
        & ~pl.col("is_furniture")
        & ~pl.col("caption_only")
        & ~pl.col("byline_only")
        & ~pl.col("is_time"),
        in_article=(n >= pl.col("anchor")) & (n < pl.col("end_line")),
    )


BREADCRUMB_ROOTS = ("홈", "HOME", "Home", "뉴스", "전체", "")


def _breadcrumb(line: pl.Expr) -> pl.Expr:
    """The words of a short `SECTION SUBSECTION` or `뉴스 > SECTION > SUB` line without its root; null for lines
    too long to be a breadcrumb."""
    parts = pl.when(line.str.contains(">")).then(line.str.split(">")).otherwise(line.str.split(" "))
    parts = parts.list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(~pl.element().is_in(BREADCRUMB_ROOTS))
    )
    short = parts.list.len().is_between(1, 3) & (line.str.len_chars() <= 30) & ~line.str.contains(r"[0-9.,!?\"'“”]")
    return pl.when(short).then(parts)


def bylined_reporters(classified: pl.DataFrame) -> pl.DataFrame:
    """page_id -> reporters: list of {name, email} of the byline lines among classified lines (classify_lines),
    each name once, in order of first appearance, with the first email printed beside it."""
    return (
        classified.filter(pl.col("byline_names").is_not_null())
        .select(
            "page_id",
            "line_no",
            "byline_email",
            name=pl.col("byline_names").str.replace_all(r"[ ,·]+", " ").str.split(" "),
        )
        .sort("page_id", "line_no")
        .explode("name")
        .with_row_index("order")  # names in reading order, also within one line
        .filter(pl.col("name").str.len_chars() >= 2, ~pl.col("name").is_in(ROLE_WORDS))
        .group_by("page_id", "name")
        .agg(pl.col("order").min(), email=pl.col("byline_email").drop_nulls().first())
        .sort("page_id", "order")
        .group_by("page_id", maintain_order=True)
        .agg(reporters=pl.struct("name", "email"))
    )


def _captions(roles: pl.DataFrame) -> pl.DataFrame:
    """page_id -> captions: list of {text, credit}, each caption once."""
    return (
        roles.filter(pl.col("in_article") & pl.col("is_caption") & (pl.col("line_no") > pl.col("header_end")))
        .select("page_id", "line_no", text="caption_text", credit="caption_credit")
        .unique(["page_id", "text", "credit"], keep="first")
        .sort("page_id", "line_no")
        .group_by("page_id", maintain_order=True)
        .agg(captions=pl.struct("text", "credit"))
    )


def parse_articles(lines: pl.DataFrame, layouts: Sequence[Layout]) -> pl.DataFrame:
    """One row per page whose layout finds a registration-time line.

    Input: page lines (page_id, line_no, line) with a `layout` column naming each page's layout.
    Output columns: page_id, site, header_line (line_no of the registration time), section, subsection, title,
    subtitles, registered_at, registered_line (the line it was read from), registered_has_time (whether that line
    gives a time of day, not just a date), approved_at, updated_at, reporters,
    captions, body (paragraphs), paragraph_count, char_count. A page with a header but no title or body still
    gets a row (title or body empty) so the ledger can say why it is not an article.
    """
    classified = classify_by_layout(lines, layouts)
    if classified is None:
        return pl.DataFrame()
    roles = _line_roles(classified).filter(pl.col("anchor") < NO_LINE).sort("page_id", "line_no")
    n = pl.col("line_no")
    heads = roles.group_by("page_id", maintain_order=True).agg(
        site=pl.col("site").first(),
        header_line=pl.col("anchor").first(),
        title=pl.col("line").filter(n == pl.col("title_line")).first(),
        crumb=_breadcrumb(pl.col("line").filter(n == pl.col("title_line") - 1).first()),
        time_section=pl.col("time_section").filter(n == pl.col("anchor")).first(),
        title_after=pl.col("title_after").first(),
        registered_at=pl.col("registered_at").filter(n == pl.col("anchor")).first(),
        registered_line=pl.col("line").filter(n == pl.col("anchor")).first(),
        registered_has_time=pl.col("registered_has_time").filter(n == pl.col("anchor")).first(),
        approved_at=pl.col("approved_at")
        .filter(n.is_between(pl.col("anchor"), pl.col("time_end")))
        .drop_nulls()
        .first(),
        updated_at=pl.col("updated_at").filter(n.is_between(pl.col("anchor"), pl.col("time_end"))).drop_nulls().first(),
        subtitles=pl.coalesce("subtitle_text", "line").filter("is_subtitle"),
        body=pl.coalesce(
            pl.col("byline_rest").replace("", None), pl.col("caption_rest").replace("", None), "line"
        ).filter("in_body"),
    )
    crumb = pl.when(~pl.col("title_after")).then(pl.col("crumb"))
    return (
        heads.join(bylined_reporters(roles.filter("in_article")), on="page_id", how="left")
        .join(_captions(roles), on="page_id", how="left")
        .with_columns(
            section=pl.coalesce(pl.col("time_section").replace("", None), crumb.list.get(0, null_on_oob=True)),
            subsection=crumb.list.get(1, null_on_oob=True),
            reporters=pl.col("reporters").fill_null([]),
            captions=pl.col("captions").fill_null([]),
            paragraph_count=pl.col("body").list.len().cast(pl.Int32),
            char_count=pl.col("body").list.eval(pl.element().str.len_chars()).list.sum().cast(pl.Int32),
        )
        .drop("crumb", "time_section", "title_after")
        .sort("page_id")
    )
