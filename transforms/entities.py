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
    "지사",
)  # not 시장: mayor or market
# Korean names: a common surname and one to two syllables. Foreign names and names without a title wait for a
# real extractor (morphology and gazetteers).
SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도"
    "소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감음빈동온호범좌팽승간상시갈단견당화창"
)
# An organisation token (and a name) does not end like a verb or a particle.
NOT_ORG_END = "에은는을를의와과로서한며고도만"
NOT_NAME_END = NOT_ORG_END.replace("의", "")  # 손정의
PERSON_CHAIN = (
    r"(?:^|[\s(\"'“‘])(?P<name>[" + SURNAMES + r"][가-힣]?[가-힣--" + NOT_NAME_END + r"])\s+"
    r"(?:(?P<org>[가-힣A-Za-z][가-힣A-Za-z0-9]{0,13}[^\s" + NOT_ORG_END + r"])\s+)?"
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
