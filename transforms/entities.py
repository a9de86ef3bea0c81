"""Article body -> entity rows. A first, pattern-based extractor: `NAME ORG TITLE` chains give people with their
title and organisation, and the organisations themselves."""

from __future__ import annotations

import polars as pl

TITLES = (
    "부회장",
    "회장",
    "사장",
    "대표",
    "행장",
    "CEO",
    "교수",
    "의원",
    "장관",
    "연구위원",
    "부문장",
    "사업부장",
    "이사장",
    "총재",
    "위원장",
    "원장",
    "청장",
    "시장",
    "지사",
)
PERSON_CHAIN = (
    r"(?:^|[\s(\"'“‘])(?P<name>[가-힣]{3})\s+(?:(?P<org>[가-힣A-Za-z][가-힣A-Za-z0-9]{1,14})\s+)?"
    r"(?P<title>" + "|".join(TITLES) + r")(?:[은는이가과와도의을를에]|[^가-힣A-Za-z]|$)"
)


def body_text(body: pl.Expr) -> pl.Expr:
    """The text entity offsets count into: body paragraphs joined by newlines."""
    return body.list.join("\n")


def entities(articles: pl.DataFrame) -> pl.DataFrame:
    """One row per (article, entity).

    Input: article_id, body (list of paragraphs). Output columns: article_id, entity_type (person,
    organisation), text (first mention as written), canonical, mention_count (occurrences in the body),
    first_offset (character offset of the first mention in `body_text`), person_title, person_org.
    """
    text = articles.select("article_id", body_text=body_text(pl.col("body")))
    chains = (
        text.with_columns(chain=pl.col("body_text").str.extract_all(PERSON_CHAIN))
        .explode("chain")
        .drop_nulls("chain")
        .with_columns(c=pl.col("chain").str.extract_groups(PERSON_CHAIN))
        .unnest("c")
    )
    people = (
        chains.group_by("article_id", "name", maintain_order=True)
        .agg(
            pl.col("body_text").first(),
            person_title=pl.col("title").first(),
            person_org=pl.col("org").drop_nulls().first(),
        )
        .select(
            "article_id",
            "body_text",
            entity_type=pl.lit("person"),
            canonical="name",
            person_title="person_title",
            person_org="person_org",
        )
    )
    orgs = (
        chains.drop_nulls("org")
        .group_by("article_id", "org", maintain_order=True)
        .agg(pl.col("body_text").first())
        .select(
            "article_id",
            "body_text",
            entity_type=pl.lit("organisation"),
            canonical="org",
            person_title=pl.lit(None, pl.String),
            person_org=pl.lit(None, pl.String),
        )
    )
    found = pl.concat([people, orgs])
    before_first = pl.col("body_text").str.split(pl.col("canonical"), literal=True).list.first()
    return found.select(
        "article_id",
        "entity_type",
        text="canonical",
        canonical="canonical",
        mention_count=pl.col("body_text").str.count_matches(pl.col("canonical"), literal=True).cast(pl.Int32),
        first_offset=before_first.str.len_chars().cast(pl.Int32),
        person_title="person_title",
        person_org="person_org",
    )
