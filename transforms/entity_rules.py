"""The rule-based entity extractor: MeCab's proper nouns, `NAME [ORG] TITLE` chains read back from a title, and
the word lists, as hard rules. The trained tagger (transforms/ner.py) replaced it in the pipeline; it is kept as
the baseline benchmarks/entities.py measures the model against, in the same run.

MeCab is called once per text; its morphemes become one polars frame for the batch, in which words, particles
and each word's kind are found by expressions. Only reading a chain back from a title is Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import polars as pl

from newsflow.transforms.lexicon import (
    LOCATION,
    ORG_SUFFIXES,
    ORGANISATION,
    PERSON,
    STRONG_ORG_SUFFIXES,
    SURNAMES,
    TITLE_MODIFIERS,
    Lexicon,
    Mention,
    without_overlaps,
)  # fmt: skip
from newsflow.transforms.morphemes import morpheme_frame, run_ends, run_starts

NOT_ENTITIES = {"CEO", "CFO", "CTO", "COO", "AI", "TV", "PC", "IT", "ICT", "SW", "S", "W", "OS", "PF", "GDP", "VS"}


class Unit(NamedTuple):
    """A run of nominal morphemes (a word between spaces and punctuation, less its particles), classified."""

    text: str
    start: int
    end: int
    kind: str | None  # person, organisation, location, "proper" (a proper noun of unknown kind) or None
    title: bool  # a title or role (회장, DS부문장)
    verb_like: bool  # a predicate (올랐던, 따르면), not a name MeCab failed to know
    closed: bool  # a particle or punctuation follows: no chain runs across it
    tail: str  # the particle or the character that closed it
    index: int  # its place among the units of its text


PUNCTUATION = r"^[\s()\[\]{}<>,.!?\"'“”‘’·…/:;~=|]+$"  # a morpheme of these only ends a word
TAIL = r"^(?:J|VCP)"  # particles and the copula come off a word; a vocative 아 (JKV) is kept: 사티아


def unit_frame(texts: Sequence[str], lexicon: Lexicon) -> pl.DataFrame:
    """The units of each text in order (the columns of `Unit`, plus doc).

    MeCab splits foreign names it does not know into odd pieces (버라이즌 -> 버/VV 라이/EC 즌); taking the word
    as the unit and only its particles off keeps such names whole."""
    pos, surface, space = pl.col("pos"), pl.col("surface"), pl.col("space")
    in_doc = ~run_ends("doc")  # a next row of the same text follows
    # a word is what lies between whitespace and punctuation; particles at its end (all but its first morpheme)
    # are stripped: a morpheme is stripped when no other kind of morpheme follows it in the word
    other = (~pos.str.contains(TAIL) | pos.str.starts_with("JKV")).cast(pl.UInt32)
    others_after = pl.col("other").cum_sum(reverse=True)
    morphs = (
        morpheme_frame(texts)
        .with_columns(
            punctuation=surface.str.contains(PUNCTUATION),
            next_space=pl.when(in_doc).then(space.shift(-1)),
            next_char=pl.when(in_doc).then(
                pl.when(space.shift(-1) > 0).then(pl.lit(" ")).otherwise(surface.shift(-1).str.slice(0, 1))
            ),
        )
        .with_columns(
            word=(run_starts("doc") | (space > 0) | pl.col("punctuation") | pl.col("punctuation").shift(1))
            .fill_null(True)
            .cum_sum()
        )
        .filter(~pl.col("punctuation"))
        .with_columns(other=other)
        .with_columns(
            stripped=~run_starts("word")
            & (others_after == pl.when(run_ends("word")).then(others_after - pl.col("other")).backward_fill())
        )
    )
    # a word's morphemes are a run of rows: its kept ones (never none: the first is never stripped) and then the
    # stripped ones. What a unit takes from them is masked per row first, so the aggregations are plain ones; the
    # surfaces are gathered as lists and joined after (three times cheaper than joining strings in the aggregation)
    kept, stripped = ~pl.col("stripped"), pl.col("stripped")
    person = (pos.eq("NNP") & pl.col("semantic").eq("인명")) | pos.eq("JKV")
    units = (
        morphs.with_columns(
            pl.col("word").set_sorted(),  # a running count
            kept_surface=pl.when(kept).then(surface),
            tail_surface=pl.when(stripped).then(surface),
            kept_end=pl.when(kept).then(pl.col("end")),
            proper=kept & pos.eq("NNP"),
            not_person=kept & ~person,
            place=kept & pl.col("semantic").eq("지명"),
            ending=kept & pos.is_in(["ETM", "EP", "EF"]),
            connective=kept & pos.eq("EC"),
        )
        .group_by("word", maintain_order=True)
        .agg(
            doc=pl.col("doc").first(),
            text="kept_surface",
            start=pl.col("start").first(),
            end=pl.col("kept_end").max(),
            tail="tail_surface",
            next_space=pl.col("next_space").last(),
            next_char=pl.col("next_char").last(),
            proper=pl.col("proper").any(),
            person=~pl.col("not_person").any(),
            place=pl.col("place").any(),
            ending=pl.col("ending").any(),
            connective=pl.col("connective").any(),
        )
        .with_columns(pl.col("text", "tail").list.join(""))
    )
    return units.select(
        "doc",
        "text",
        "start",
        "end",
        kind=_kind(lexicon),
        title=pl.col("text").is_in(lexicon.title_set) | pl.col("text").str.contains(lexicon.title_suffix),
        verb_like=pl.col("ending") | (pl.col("connective") & pl.col("text").str.contains("[아어여고면며서게지도]$")),
        closed=(pl.col("tail") != "") | pl.col("next_space").eq(0).fill_null(False),
        tail=pl.when(pl.col("tail") != "").then("tail").otherwise(pl.col("next_char").fill_null("")),
        index=pl.int_range(pl.len(), dtype=pl.Int32)
        - pl.when(run_starts("doc")).then(pl.int_range(pl.len())).forward_fill(),
    )


def _kind(lexicon: Lexicon) -> pl.Expr:
    """person, organisation, location, "proper" (a proper noun of unknown kind) or null, per unit."""
    text, proper = pl.col("text"), pl.col("proper")
    org_suffix = text.str.contains("(?:" + "|".join(ORG_SUFFIXES) + ")$")
    return (
        pl.when(text.is_in(lexicon.locations))
        .then(pl.lit(LOCATION))
        .when(text.is_in(lexicon.organisations))
        .then(pl.lit(ORGANISATION))
        .when(text.is_in(NOT_ENTITIES))
        .then(None)
        .when(text.str.contains(r"^[A-Z][A-Z0-9&]{1,5}$"))
        .then(pl.lit(ORGANISATION))
        .when(proper & pl.col("person"))
        .then(pl.lit(PERSON))
        .when(proper & pl.col("place") & ~org_suffix)
        .then(pl.lit(LOCATION))
        .when((proper | text.str.contains("^[A-Z]")) & org_suffix)
        .then(pl.lit(ORGANISATION))
        .when(text.str.contains("^.{2,}(?:" + "|".join(STRONG_ORG_SUFFIXES) + ")$"))
        .then(pl.lit(ORGANISATION))
        .when(proper)
        .then(pl.lit("proper"))
        .otherwise(None)
    )


def _name_units(before: list[Unit]) -> list[Unit]:
    """The name at the end of the units before a title: one Korean name, or a foreign name of two words."""
    if not before:
        return []
    last = before[-1]
    if last.kind == PERSON and 2 <= len(last.text) <= 4 and last.text[0] in SURNAMES:
        return [last]
    names = before[-2:]
    if len(names) == 2 and (names[0].kind not in (PERSON, "proper", None) or names[0].verb_like):
        names = names[1:]
    if not any(u.kind in (PERSON, "proper") for u in names) or any(len(u.text) > 8 or u.verb_like for u in names):
        return []
    return names


def _chain(seq: Sequence[Unit], i: int) -> list[Mention]:
    """Mentions of a `NAME [PLACE] [ORG] TITLE` chain ending at seq[i] (the title); [] when it is none."""
    title = seq[i].text
    if i >= 1 and seq[i - 1].text in TITLE_MODIFIERS:  # 이명박 전 대통령: the title is 전 대통령
        title = f"{seq[i - 1].text} {title}"
        i -= 1
    if i + 2 < len(seq) and seq[i + 1].text == "겸" and seq[i + 2].title:
        title = f"{title} 겸 {seq[i + 2].text}"  # 사장 겸 CEO
    before: list[Unit] = []
    j = i - 1
    while j >= 0 and len(before) < 5:
        unit = seq[j]
        # a particle ends the chain (이재용은 회장 ...), except MeCab's 의 cut off a name (손정 + 의 소프트뱅크 회장)
        name_cut = unit.tail == "의" and len(unit.text) == 2 and unit.text[0] in SURNAMES and j != i - 1
        if unit.closed and not name_cut:
            break
        before.insert(0, unit)
        j -= 1
    if not before:
        return []
    org = None
    if (
        len(before) >= 2
        and before[-1].kind in (ORGANISATION, "proper", LOCATION, None)
        and before[-2].kind != ORGANISATION
    ):
        org = before.pop()
    places = []
    while len(before) >= 2 and before[-1].kind == LOCATION:
        places.insert(0, before.pop())
    names = _name_units(before)
    if not names:
        return []
    ahead = before[: before.index(names[0])]
    if org is None and ahead and ahead[-1].kind == ORGANISATION:
        org = ahead[-1]  # 삼성전자 이재용 회장: the organisation may come first
    name_text = " ".join(u.text + ("의" if u.tail == "의" and u is names[-1] and org else "") for u in names)
    found = [
        Mention(PERSON, name_text, names[0].start, names[0].start + len(name_text), title, org.text if org else None)
    ]
    if org is not None:
        found.append(Mention(LOCATION if org.kind == LOCATION else ORGANISATION, org.text, org.start, org.end))
    found += [Mention(LOCATION, p.text, p.start, p.end) for p in places]
    return found


_SSI = r"^[A-H가-힣]모?씨$"  # 김씨, 박모씨, A씨: the surname (or letter) is the person
_SSI_WORD, _SSI_HEADS = re.compile(_SSI), frozenset(SURNAMES | set("ABCDEFGH"))
# a chain reads back from its title over at most 5 units, a modifier (전 대통령) and the title before 겸 (사장 겸 CEO)
BEFORE_TITLE, AFTER_TITLE = 6, 2


def _wanted(lexicon: Lexicon) -> pl.Expr:
    """Units that can be or take part in a mention: entities, 씨 forms, and the units around each title."""
    title = pl.col("title")
    near_title = pl.any_horizontal(
        title, *(title.shift(-k) for k in range(1, BEFORE_TITLE + 1)), *(title.shift(k) for k in (1, AFTER_TITLE))
    )
    ssi = pl.col("text").str.contains(_SSI) & pl.col("text").str.slice(0, 1).is_in(list(_SSI_HEADS))
    return pl.col("kind").is_in([PERSON, ORGANISATION, LOCATION]) | ssi | near_title.fill_null(False)


def _mentions_of(text: str, seq: Sequence[Unit], lexicon: Lexicon) -> list[Mention]:
    """Every person, organisation and place mention of one text, given its wanted units; spans not overlapping.
    All units within reach of a title are there, so a title's neighbours are its neighbours in `seq`."""
    found: list[Mention] = []
    for i, unit in enumerate(seq):
        if unit.title and unit.index > 0:
            window = seq[i - min(BEFORE_TITLE, unit.index) : i + AFTER_TITLE + 1]
            at = min(BEFORE_TITLE, unit.index)
            if not (at >= 2 and window[at - 1].text == "겸" and window[at - 2].title):
                found += _chain(window, at)
        if unit.kind in (PERSON, ORGANISATION, LOCATION):
            found.append(Mention(unit.kind, unit.text, unit.start, unit.end))
        elif unit.text.endswith("씨") and _SSI_WORD.match(unit.text) and unit.text[0] in _SSI_HEADS:
            found.append(Mention(PERSON, unit.text[0], unit.start, unit.start + 1))
    for match in lexicon.written_as.finditer(text):  # multi-word entries (팔로 알토), found as written
        found.append(Mention(lexicon.kind_of(match.group()), match.group(), match.start(), match.end()))
    return without_overlaps(found)


TEXTS_PER_CALL = 250


def mention_lists(texts: Sequence[str], lexicon: Lexicon) -> list[list[Mention]]:
    """Per text, every person, organisation and place mention in order, spans not overlapping."""
    return [
        found
        for start in range(0, len(texts), TEXTS_PER_CALL)
        for found in _mention_lists(texts[start : start + TEXTS_PER_CALL], lexicon)
    ]


def _mention_lists(texts: Sequence[str], lexicon: Lexicon) -> list[list[Mention]]:
    frame = unit_frame(texts, lexicon).filter(_wanted(lexicon))
    per_text: list[list[Unit]] = [[] for _ in texts]
    for doc, *unit in frame.iter_rows():
        per_text[doc].append(Unit._make(unit))
    return [_mentions_of(text, units, lexicon) for text, units in zip(texts, per_text, strict=True)]
