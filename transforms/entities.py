"""Article text -> entity mentions and entity rows: people (with the title and organisation the article gives),
organisations and places.

Korean morphology comes from MeCab with the mecab-ko dictionary (python-mecab-ko ships both), which marks
proper nouns as 인명 (person) or 지명 (place). On top of it: `NAME [ORG] TITLE` chains, word lists kept as data
(newsflow/data/lexicon) and short forms (`이 회장`, `저커버그 CEO`) resolved to the full name within an article.
This is per-document Python by necessity (no polars expression tokenises Korean); the rows are built in polars.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import polars as pl

PERSON, ORGANISATION, LOCATION = "person", "organisation", "location"
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
_STRONG_ORG = re.compile("(?:" + "|".join(STRONG_ORG_SUFFIXES) + ")$")
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
    def title_suffix(self) -> re.Pattern[str]:
        """A word that ends with a title of two or more letters (DS부문장, 메모리사업부장), 씨 and 기자 aside."""
        suffixes = [t for t in self.titles if len(t) >= 2 and t != "기자"]
        return re.compile("(?:" + "|".join(map(re.escape, suffixes)) + ")$") if suffixes else re.compile("(?!)")


@dataclass(frozen=True)
class Mention:
    """One mention: its type, text and character span, and for a person the title and organisation beside it."""

    type: str
    text: str
    start: int
    end: int
    title: str | None = None
    org: str | None = None


@dataclass
class Unit:
    """A run of nominal morphemes (a noun phrase piece) between spaces, punctuation and particles."""

    text: str
    start: int
    end: int
    pos: list[str] = field(default_factory=list)
    semantic: list[str] = field(default_factory=list)
    closed: bool = False  # a particle or punctuation follows: no chain runs across it
    tail: str = ""  # the particle that closed it
    kinds: dict[int, str | None] = field(default_factory=dict, repr=False)  # _kind per lexicon, computed once


@lru_cache(maxsize=1)
def _tagger():
    import mecab

    return mecab.MeCab()._tagger  # the raw C tagger: the wrapper's per-token objects cost 5x the parse


_MECAB_LINE = re.compile(r"^([^\t\n]+)\t([^,\n]+),([^,\n]+)", re.MULTILINE)


def morphemes(text: str) -> list[tuple[str, str, str, int, int]]:
    """(surface, pos, semantic class, start, end) of each morpheme, offsets in characters of `text`."""
    found, cursor = [], 0
    find = text.find
    for surface, pos, semantic in _MECAB_LINE.findall(_tagger().parse(text)):
        start = find(surface, cursor)
        if start < 0:
            continue
        cursor = start + len(surface)
        found.append((surface, pos, semantic, start, cursor))
    return found


WORD = re.compile(r"[^\s()\[\]{}<>,.!?\"'“”‘’·…/:;~=|]+")
TAIL = ("J", "VCP")  # particles and the copula come off a word; a vocative 아 (JKV) is kept: 사티아


def units(text: str) -> list[Unit]:
    """Nominal units of the text, in order: each word (between spaces and punctuation) less its particles.

    MeCab splits foreign names it does not know into odd pieces (버라이즌 -> 버/VV 라이/EC 즌); taking the word
    as the unit and only its particles off keeps such names whole."""
    morphs = morphemes(text)
    result: list[Unit] = []
    k = 0
    for word in WORD.finditer(text):
        inside = []
        while k < len(morphs) and morphs[k][3] < word.end():
            if morphs[k][3] >= word.start():
                inside.append(morphs[k])
            k += 1
        tail = ""
        while len(inside) > 1 and inside[-1][1].startswith(TAIL) and not inside[-1][1].startswith("JKV"):
            tail = inside.pop()[0] + tail
        if not inside:
            continue
        end = inside[-1][4]
        after = text[end : end + 1]
        result.append(
            Unit(
                text=text[word.start() : end],
                start=word.start(),
                end=end,
                pos=[m[1].split("+")[0] for m in inside],
                semantic=[m[2] for m in inside],
                closed=bool(tail) or (after != "" and not after.isspace()),
                tail=tail or after,
            )
        )
    return result


def _title(unit: Unit, lexicon: Lexicon) -> str | None:
    if unit.text in lexicon.titles or lexicon.title_suffix.search(unit.text):
        return unit.text
    return None


def _kind(unit: Unit, lexicon: Lexicon) -> str | None:
    """person, organisation, location, "proper" (a proper noun of unknown kind) or None."""
    key = id(lexicon)
    if key not in unit.kinds:
        unit.kinds[key] = _classify(unit, lexicon)
    return unit.kinds[key]


def _classify(unit: Unit, lexicon: Lexicon) -> str | None:
    text = unit.text
    if text in lexicon.locations:
        return LOCATION
    if text in lexicon.organisations:
        return ORGANISATION
    if text in NOT_ENTITIES:
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9&]{1,5}", text):
        return ORGANISATION
    core = [(p, s) for p, s in zip(unit.pos, unit.semantic, strict=True) if p != "JKV"]  # 사티아 = 사티 + 아
    proper = any(p == "NNP" for p, _ in core)
    if proper and all(p == "NNP" and s == "인명" for p, s in core):
        return PERSON
    if proper and "지명" in unit.semantic and not text.endswith(ORG_SUFFIXES):
        return LOCATION
    if (proper or re.match(r"[A-Z]", text)) and text.endswith(ORG_SUFFIXES):
        return ORGANISATION
    strong = _STRONG_ORG.search(text)
    if strong and strong.start() >= 2:
        return ORGANISATION
    return "proper" if proper else None


def _verb_like(unit: Unit) -> bool:
    """A predicate (올랐던, 따르면, 찾아), not a name MeCab failed to know (나델라 -> 나/NP 델/VV 라/EC)."""
    return bool({"ETM", "EP", "EF"} & set(unit.pos)) or ("EC" in unit.pos and unit.text[-1] in "아어여고면며서게지도")


def _name_units(before: list[Unit], lexicon: Lexicon) -> list[Unit]:
    """The name at the end of the units before a title: one Korean name, or a foreign name of two words."""
    if not before:
        return []
    last = before[-1]
    kind = _kind(last, lexicon)
    if kind == PERSON and 2 <= len(last.text) <= 4 and last.text[0] in SURNAMES:
        return [last]
    names = before[-2:]
    if len(names) == 2 and (_kind(names[0], lexicon) not in (PERSON, "proper", None) or _verb_like(names[0])):
        names = names[1:]
    kinds = [_kind(u, lexicon) for u in names]
    if not any(k in (PERSON, "proper") for k in kinds) or any(len(u.text) > 8 or _verb_like(u) for u in names):
        return []
    return names


def _chain(seq: list[Unit], i: int, lexicon: Lexicon) -> list[Mention]:
    """Mentions of a `NAME [PLACE] [ORG] TITLE` chain ending at units[i] (the title); [] when it is none."""
    title = seq[i].text
    if i >= 1 and seq[i - 1].text in TITLE_MODIFIERS:  # 이명박 전 대통령: the title is 전 대통령
        title = f"{seq[i - 1].text} {title}"
        i -= 1
    if i + 2 < len(seq) and seq[i + 1].text == "겸" and _title(seq[i + 2], lexicon):
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
    kinds = [_kind(u, lexicon) for u in before]
    org = None
    if len(before) >= 2 and kinds[-1] in (ORGANISATION, "proper", LOCATION, None) and kinds[-2] != ORGANISATION:
        org = before.pop()
        kinds.pop()
    places = []
    while len(before) >= 2 and kinds[-1] == LOCATION:
        places.insert(0, before.pop())
        kinds.pop()
    names = _name_units(before, lexicon)
    if not names:
        return []
    ahead = before[: before.index(names[0])]
    if org is None and ahead and _kind(ahead[-1], lexicon) == ORGANISATION:
        org = ahead[-1]  # 삼성전자 이재용 회장: the organisation may come first
    name_text = " ".join(u.text + ("의" if u.tail == "의" and u is names[-1] and org else "") for u in names)
    found = [
        Mention(PERSON, name_text, names[0].start, names[0].start + len(name_text), title, org.text if org else None)
    ]
    if org is not None:
        found.append(
            Mention(ORGANISATION if _kind(org, lexicon) != LOCATION else LOCATION, org.text, org.start, org.end)
        )
    found += [Mention(LOCATION, p.text, p.start, p.end) for p in places]
    return found


def _lexicon_spans(text: str, names: Iterable[str], kind: str) -> list[Mention]:
    """Multi-word lexicon entries (`팔로 알토`) found as written, followed by a particle, space or punctuation."""
    found = []
    for name in names:
        if " " in name:
            found += [
                Mention(kind, name, m.start(), m.end()) for m in re.finditer(re.escape(name) + r"(?![가-힣]{3})", text)
            ]
    return found


def mentions(text: str, lexicon: Lexicon) -> list[Mention]:
    """Every person, organisation and place mention in the text, in order, spans not overlapping."""
    seq = units(text)
    found: list[Mention] = []
    for i, unit in enumerate(seq):
        joined = i >= 2 and seq[i - 1].text == "겸" and _title(seq[i - 2], lexicon)
        if _title(unit, lexicon) and i > 0 and not joined:
            chain = _chain(seq, i, lexicon)
            if chain:
                found += chain
    for unit in seq:
        kind = _kind(unit, lexicon)
        if kind in (PERSON, ORGANISATION, LOCATION):
            found.append(Mention(kind, unit.text, unit.start, unit.end))
        elif re.fullmatch(r"[A-H가-힣]모?씨", unit.text) and (unit.text[0] in SURNAMES or unit.text[0] in "ABCDEFGH"):
            found.append(Mention(PERSON, unit.text[0], unit.start, unit.start + 1))  # 김씨, 박모씨, A씨
    found += _lexicon_spans(text, lexicon.locations, LOCATION) + _lexicon_spans(
        text, lexicon.organisations, ORGANISATION
    )
    return _without_overlaps(found)


def _without_overlaps(found: list[Mention]) -> list[Mention]:
    """Keep the longest mention where spans overlap (chains first: they carry the title and organisation)."""
    ranked = sorted(found, key=lambda m: (-(m.end - m.start), m.title is None, m.start))
    kept: list[Mention] = []
    for mention in ranked:
        if all(mention.end <= k.start or mention.start >= k.end for k in kept):
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


def article_entities(text: str, lexicon: Lexicon, captions: str = "") -> list[dict]:
    """Entity rows of one article text: type, text, canonical, mention_count, first_offset, title, org.
    `captions` (the photo captions) can only make a person's title fuller (퀄컴 CEO -> 퀄컴 사장 겸 CEO): counts and
    offsets are the body's."""
    found = mentions(text, lexicon)
    rows: dict[tuple[str, str], dict] = {}
    for m in found:
        key = (m.type, m.text)
        row = rows.setdefault(
            key,
            {
                "entity_type": m.type,
                "text": m.text,
                "canonical": m.text,
                "mention_count": 0,
                "first_offset": m.start,
                "person_title": None,
                "person_org": None,
            },
        )
        row["mention_count"] += 1
        row["person_title"] = row["person_title"] or m.title
        row["person_org"] = row["person_org"] or m.org
    for (kind, name), row in rows.items():
        if kind == PERSON and row["person_title"]:
            person = Mention(PERSON, name, row["first_offset"], row["first_offset"] + len(name), row["person_title"])
            row["mention_count"] += sum(text.count(form) for form in set(_short_forms(person)))
    for m in mentions(captions, lexicon) if captions else []:
        row = rows.get((PERSON, m.text))
        fuller = m.title and row and row["person_title"] and m.title != row["person_title"]
        if fuller and m.title.endswith(row["person_title"]) and (m.org or None) == row["person_org"]:
            row["person_title"] = m.title
    return list(rows.values())


ENTITY_ROW = pl.Struct({
    "entity_type": pl.String, "text": pl.String, "canonical": pl.String, "mention_count": pl.Int32,
    "first_offset": pl.Int32, "person_title": pl.String, "person_org": pl.String,
})  # fmt: skip


def body_text(body: pl.Expr) -> pl.Expr:
    """The text entity offsets count into: body paragraphs joined by newlines."""
    return body.list.join("\n")


def entities(articles: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame:
    """One row per (article, entity).

    Input: article_id, body (list of paragraphs), optionally captions (list of {text, credit}).
    Output columns: article_id, entity_type (person, organisation, location), text (first mention as written),
    canonical (the full name within the article), mention_count (mentions in the body, short forms of a person
    included), first_offset (character offset of the first mention in `body_text`), person_title and person_org
    (for a person: what the article calls them, and where).
    """
    captions = (
        pl.col("captions").list.eval(pl.element().struct.field("text")).list.join("\n")
        if "captions" in articles.columns
        else pl.lit("")
    )
    found = articles.select(
        "article_id",
        row=pl.struct(text=body_text(pl.col("body")), captions=captions.fill_null("")).map_elements(
            lambda a: article_entities(a["text"], lexicon, a["captions"]), return_dtype=pl.List(ENTITY_ROW)
        ),
    )
    return found.explode("row").drop_nulls("row").unnest("row") if found.height else _empty()


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"article_id": pl.String, **ENTITY_ROW.to_schema()})


def spans(texts: Sequence[str], lexicon: Lexicon) -> list[list[dict]]:
    """Per text, its mentions as {text, type, start, end} (what `newsflow entities` prints)."""
    return [
        [{"text": m.text, "type": m.type, "start": m.start, "end": m.end} for m in mentions(t, lexicon)] for t in texts
    ]
