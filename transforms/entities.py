"""Article text -> entity mentions and entity rows: people (with the title and organisation the article gives),
organisations and places.

The mentions come from the trained tagger (transforms/ner.py: a CRF over characters, trained on KLUE-NER). On
top of them, per article: a person followed by `[ORG] TITLE` (`이재용 삼성전자 회장`, `전영현 DS부문장`,
`사장 겸 CEO`) or preceded by an organisation (`삼성전자 이재용 회장`) takes that title and organisation, and short
forms (`이 회장`, `저커버그 CEO`) count for the full name within the article. The tagging is vectorised over the
batch; reading the words after a person, and the rows of each article, are Python.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import polars as pl

from newsflow.transforms.lexicon import (
    COMPANY_ENDINGS,
    LOCATION,
    ORGANISATION,
    PERSON,
    STRONG_ORG_SUFFIXES,
    SURNAMES,
    TITLE_MODIFIERS,
    Lexicon,
    Mention,
    without_overlaps,
)  # fmt: skip
from newsflow.transforms.ner import CrfWeights, tag_words

KINDS = {"PS": PERSON, "OG": ORGANISATION, "LC": LOCATION}
# texts tagged per call: the feature frame of a call is what raises a worker's peak memory
TEXTS_PER_CALL = 250
# a chain reads back from its title over at most 5 words, a modifier (전 대통령) and the title before 겸 (사장 겸 CEO)
BEFORE_TITLE, AFTER_TITLE = 6, 2
# words that only say where in a place (미국 서부 팔로 알토): left out when a compound place is split
DIRECTIONS = frozenset(
    {"동부", "서부", "남부", "북부", "중부", "남동부", "남서부", "북동부", "북서부", "중서부", "동남부", "서남부"}
)


@dataclass(frozen=True)
class EntityModel:
    """What the extractor needs: the trained tagger's weights and the word lists (features, and titles)."""

    lexicon: Lexicon
    weights: CrfWeights


class Word(NamedTuple):
    """A whitespace word near a title, as the chain reader sees it."""

    start: int
    bare: str  # without its closing particle or punctuation
    tail: str  # what was taken off
    span: Mention | None  # the tagger's span over the word's first character
    proper: bool  # MeCab finds a proper noun or latin letters in it
    person: bool  # MeCab knows it as a name
    common: bool  # one common noun MeCab knows (부친)
    verb_like: bool
    title: bool  # a title (not one the tagger took for a place: 서문시장 is a market, not a mayor)
    titled: bool  # it starts with a title (대통령직)
    known: str | None  # ORGANISATION or LOCATION when the word lists have it
    opens: bool  # nothing before it can be part of a chain: a new line, or an opening bracket in the word

    @property
    def closed(self) -> bool:
        return self.tail != ""

    @property
    def end(self) -> int:
        return self.start + len(self.bare)

    @property
    def kind(self) -> str | None:
        """The tagger's type for the word, else "proper" (MeCab: a proper noun) or None."""
        return self.span.type if self.span else ("proper" if self.proper else None)


def _name_words(before: list[Word], org: Mention | None) -> list[Word]:
    """The name at the end of the words before a title: one Korean name, or a foreign name of two words."""
    last = before[-1]
    # a Korean name before ORG TITLE, whether the tagger found it or not (강하린 새솔경제연구소 연구위원)
    korean = (last.kind == PERSON and 2 <= len(last.bare) <= 4 and last.bare[0] in SURNAMES) or (
        org is not None
        and last.span is None
        and _name_shaped(last)
        and not (last.verb_like or last.titled or _org_shaped(last))
    )
    if korean and not (len(before) >= 2 and before[-2].proper):
        return [last]
    names = before[-2:]
    # the word before a name is part of it unless it is something else: 부친 신, 23분쯤 레이디스코드, CEO 백종원
    first = names[0]
    if len(names) == 2 and (
        first.kind not in (PERSON, "proper", None)
        or first.verb_like
        or first.title
        or any(ch.isdigit() for ch in first.bare)
        or (last.kind == PERSON and first.kind is None and first.common)
        or last.opens
    ):
        names = names[1:]
    if not any(u.kind in (PERSON, "proper") for u in names) or any(len(u.bare) > 8 or u.verb_like for u in names):
        return []
    return names


def _person(names: list[Word], end: int) -> tuple[int, int]:
    """The person's span: the tagger's, unless the chain shows it cut a name short (사티 of 사티아 나델라, 앤디 of
    앤디 재시): then the name words, if the others are no words MeCab knows and the tagger left alone."""
    tagged = next((w.span for w in reversed(names) if w.span is not None and w.span.type == PERSON), None)
    if tagged is None:
        return names[0].start, end
    if tagged.end - tagged.start == 1 or tagged.start < names[0].start or tagged.end > end:
        return tagged.start, tagged.end  # a surname alone (김), or a name longer than the words: the tagger's
    others = [w for w in names if not (tagged.start <= w.start < tagged.end)]
    if any(
        w.span is not None
        or w.titled
        or _org_shaped(w)
        or any(ch.isdigit() for ch in w.bare)
        or (w.common and w.start < tagged.start)
        for w in others
    ):
        return tagged.start, tagged.end
    return names[0].start, end


def _chain(text: str, seq: Sequence[Word], i: int) -> list[Mention]:
    """Mentions of a `NAME [전] [PLACE] [ORG] TITLE` chain ending at seq[i] (the title); [] when it is none."""
    title = seq[i].bare
    if i >= 1 and seq[i - 1].bare in TITLE_MODIFIERS and not seq[i - 1].closed and not seq[i].opens:
        title = f"{seq[i - 1].bare} {title}"  # 이명박 전 대통령: the title is 전 대통령
        i -= 1
    if i + 2 < len(seq) and seq[i + 1].bare == "겸" and seq[i + 2].title and not seq[i].closed:
        title = f"{title} 겸 {seq[i + 2].bare}"  # 사장 겸 CEO
    before: list[Word] = []
    j = i - 1
    while j >= 0 and len(before) < 5 and not seq[j + 1].opens:
        word = seq[j]
        # a particle ends the chain (이재용은 회장 ...), except a 의 that ends a name (손정의 소프트뱅크 회장)
        name_cut = word.tail == "의" and len(word.bare) == 2 and word.bare[0] in SURNAMES and j != i - 1
        if word.closed and not name_cut:
            break
        before.insert(0, word)
        j -= 1
    if not before:
        return []
    org = _unfused(before) if len(before) >= 2 else None
    if org is None and len(before) >= 2 and before[-1].kind != PERSON and before[-2].kind != ORGANISATION:
        org = _organisation(before)
    if len(before) >= 2 and before[-1].bare in TITLE_MODIFIERS:
        title = f"{before.pop().bare} {title}"  # 이상득 전 새누리당 의원
    places = []
    while len(before) >= 2 and before[-1].kind == LOCATION:
        places.insert(0, before.pop())
    if not before:  # the organisation took every word (가람 전자 회장)
        return []
    names = _name_words(before, org)
    if not names:
        return []
    ahead = before[: before.index(names[0])]  # 삼성전자 이재용 회장: the organisation may come first
    if org is None and ahead and ahead[-1].kind == ORGANISATION and ahead[-1].span is not None:
        org = ahead[-1].span
    start, end = _person(names, names[-1].end + (1 if names[-1].tail == "의" and org else 0))  # 손정의
    found = [Mention(PERSON, text[start:end], start, end, title, org.text if org else None)]
    if org is not None:
        found.append(org)
    found += [Mention(LOCATION, p.bare, p.start, p.end) for p in places]
    return found


def _organisation(before: list[Word]) -> Mention | None:
    """The organisation (or place) between a name and its title, taken off the end of `before`: what the tagger
    found there (with all its words: CJ글로벌 홀딩스), else a word MeCab or the word lists know as a name; None
    when the last word is neither (보도담당 사장)."""
    last = before[-1]
    if last.span is not None and last.span.start == last.start and last.span.end < last.end and _org_shaped(last):
        before.pop()  # 한국 of 한국복지정책연구원: the whole word is the organisation
        return Mention(ORGANISATION, last.bare, last.start, last.end)
    if last.span is not None and last.span.type in (ORGANISATION, LOCATION):
        while before and before[-1].start >= last.span.start:
            before.pop()
        span, end = last.span, min(last.span.end, last.end)
        return span._replace(text=span.text[: end - span.start], end=end)  # 메타 of 메타 CEO
    if last.span is None and (last.known or _org_shaped(last) or (last.proper and not last.common)):
        before.pop()
        return Mention(last.known or ORGANISATION, last.bare, last.start, last.end)
    return None


def _unfused(before: list[Word]) -> Mention | None:
    """The tagger sometimes runs a Korean name and the organisation after it into one span (`한도윤 가람전자` as a
    person, `오민혁 누리상인연합회` as an organisation): then the last word is the organisation, taken off the end of
    `before`, and the name words before it become a person's."""
    last = before[-1]
    if last.span is not None and last.span.type == PERSON and last.span.start == last.start and _org_shaped(last):
        before.pop()  # 최현우 도원케미칼 대표: the tagger took the company for a second person
        return Mention(ORGANISATION, last.bare, last.start, last.end)
    fused = [w for w in before[:-1] if last.span is not None and w.span == last.span]
    if not fused or not all(map(_name_shaped, fused)) or not (last.span.type == ORGANISATION or _org_shaped(last)):
        return None
    person = Mention(PERSON, "", fused[0].start, fused[-1].end)
    before[-len(fused) - 1 :] = [w._replace(span=person) for w in fused]
    return Mention(last.known or ORGANISATION, last.bare, last.start, last.end)


# endings of organisations' names: the word lists' strong suffixes and those of company names (가람항공, 도원케미칼)
_ORG_END = re.compile("(?:" + "|".join((*STRONG_ORG_SUFFIXES, *COMPANY_ENDINGS)) + ")$")


def _name_shaped(word: Word) -> bool:
    """A Korean name: two to four Hangul letters, a surname first, MeCab's name or no noun it knows."""
    bare = word.bare
    return 2 <= len(bare) <= 4 and bare[0] in SURNAMES and bare.isalpha() and (word.person or not word.common)


def _org_shaped(word: Word) -> bool:
    """An organisation's name by its ending (가람전자, 가람항공) or the word lists."""
    return word.known == ORGANISATION or (len(word.bare) >= 3 and _ORG_END.search(word.bare) is not None)


def _chains(text: str, seq: Sequence[Word]) -> tuple[list[Mention], list[tuple[int, int]]]:
    """The chains of every title among the words (all words within reach of a title are there), and the titles'
    spans."""
    found: list[Mention] = []
    titles: list[tuple[int, int]] = []
    for i, word in enumerate(seq):
        if word.title and i > 0 and not (i >= 2 and seq[i - 1].bare == "겸" and seq[i - 2].title):
            chain = _chain(text, seq, i)
            found += chain
            titles += [(word.start, word.end)] if chain else []
    return found, titles


_OPENING = re.compile(
    r"^.*[(\[{·‧・/]|^[-'\"‘“<《〈「『]+"
)  # what may open a word: 형사1부(정호건, 이부영·노회찬, '이영돈


def _word(text: str, start: int, w: str, bare: str, spans: list[Mention], at: list[int], *flags) -> Word:
    proper, person, common, verb_like, title, titled, in_organisations, in_locations = flags
    opens = start > 0 and text[start - 1] == "\n"
    opening = _OPENING.match(bare)
    if opening and opening.end() < len(bare):  # the word starts after the bracket, dot or quote
        cut = opening.end()
        start, bare, opens = start + cut, bare[cut:], True
        w = w[cut:]
    k = bisect.bisect_right(at, start) - 1
    span = spans[k] if k >= 0 and spans[k].start <= start < spans[k].end else None
    known = ORGANISATION if in_organisations else LOCATION if in_locations else None
    # a word that starts an organisation or place the tagger found (서문시장), or that it took into a name before it
    # (채 총장), is no title; one it ran an organisation into (메타 CEO) still is
    title = title and not (span and (span.start < start) == (span.type == PERSON))
    return Word(start, bare, w[len(bare) :], span, proper, person, common, verb_like, title, titled, known, opens)


def _mentions(text: str, tagged: list[tuple[int, int, str]], words: list[tuple]) -> list[Mention]:
    """The tagged spans as mentions, with the chains read from the words around titles; where they overlap, a
    chain's mentions win (they carry the title and organisation), then the longer."""
    spans = [Mention(KINDS[kind], text[start:end], start, end) for start, end, kind in tagged]
    at = [m.start for m in spans]
    seq = [_word(text, start, w, bare, spans, at, *flags) for start, w, bare, *flags in words]
    chains, titles = _chains(text, seq)
    # a title is no entity: what the tagger found in one that heads a chain goes (메모리 of 메모리사업부장)
    spans = [m for m in spans if not any(m.start < end and start < m.end for start, end in titles)]
    return without_overlaps(chains, spans)


def _near_titles() -> pl.Expr:
    """Words that can take part in a chain: the words around each title."""
    title = pl.col("title")
    near = pl.any_horizontal(
        title, *(title.shift(-k) for k in range(1, BEFORE_TITLE + 1)), *(title.shift(k) for k in (1, AFTER_TITLE))
    )
    return near.fill_null(False)


def mention_lists(texts: Sequence[str], model: EntityModel) -> list[list[Mention]]:
    """Per text, every person, organisation and place mention in order, spans not overlapping."""
    found: list[list[Mention]] = []
    for start in range(0, len(texts), TEXTS_PER_CALL):
        chunk = texts[start : start + TEXTS_PER_CALL]
        tagged, words = tag_words(chunk, model.lexicon, model.weights)
        per_text: list[list[tuple]] = [[] for _ in chunk]
        near = words.filter(_near_titles()).select(
            "doc", "start", "w", "bare", "proper", "person", "common", "verb_like", "title", "titled", "so", "sl"
        )
        for doc, *word in near.iter_rows():
            per_text[doc].append(word)
        found += [_mentions(*args) for args in zip(chunk, tagged, per_text, strict=True)]
    return found


def mentions(text: str, model: EntityModel) -> list[Mention]:
    """Every person, organisation and place mention in the text, in order, spans not overlapping."""
    return mention_lists([text], model)[0]


def _for_rows(found: list[Mention], lexicon: Lexicon) -> list[Mention]:
    """The mentions as the entity rows count them: a compound place as each of its places (`_places`), and a
    surname with a title the tagger took as one name (`윤 본부장`, KLUE's way) as that surname with that title,
    which the article's full name then takes in (`_merge_surnames`)."""
    rows = []
    for mention in found:
        surname, _, title = mention.text.partition(" ")
        if mention.type == PERSON and len(surname) == 1 and title in lexicon.title_set and mention.title is None:
            rows.append(Mention(PERSON, surname, mention.start, mention.start + 1, title))
        else:
            rows += _places(mention, lexicon)
    return rows


def _places(mention: Mention, lexicon: Lexicon) -> list[Mention]:
    """A place of several words that are each a known place (미국 뉴욕, 미국 서부 팔로 알토) as those places."""
    if mention.type != LOCATION or " " not in mention.text:
        return [mention]
    parts = [(m.start(), m.group()) for m in re.finditer(r"\S+", mention.text)]
    known = {m.start(): m.group() for m in lexicon.written_as.finditer(mention.text)}
    places: list[Mention] = []
    k = 0
    while k < len(parts):
        at, word = parts[k]
        if at in known:
            name = known[at]
            places.append(Mention(LOCATION, name, mention.start + at, mention.start + at + len(name)))
            k += name.count(" ") + 1
        elif word in lexicon.locations:
            places.append(Mention(LOCATION, word, mention.start + at, mention.start + at + len(word)))
            k += 1
        elif word in DIRECTIONS:
            k += 1
        else:
            return [mention]
    return places


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


def article_entities(text: str, model: EntityModel, captions: str = "") -> list[dict]:
    """Entity rows of one article text (see `entities`); `captions` can only make a person's title fuller."""
    body, in_captions = mention_lists([text, captions], model)
    return _entity_rows(text, _for_rows(body, model.lexicon), in_captions)


ENTITY_ROW = pl.Struct({
    "entity_type": pl.String, "text": pl.String, "canonical": pl.String, "mention_count": pl.Int32,
    "first_offset": pl.Int32, "person_title": pl.String, "person_org": pl.String,
})  # fmt: skip


def body_text(body: pl.Expr) -> pl.Expr:
    """The text entity offsets count into: body paragraphs joined by newlines."""
    return body.list.join("\n")


def entities(articles: pl.DataFrame, model: EntityModel) -> pl.DataFrame:
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
    found = mention_lists(bodies + in_captions, model)
    rows = [
        {"article_id": article_id, "page_id": page_id, **row}
        for article_id, page_id, text, body, caption in zip(
            texts["article_id"], texts["page_id"], bodies, found[: len(bodies)], found[len(bodies) :], strict=True
        )
        for row in _entity_rows(text, _for_rows(body, model.lexicon), caption)
    ]
    return pl.DataFrame(rows, schema={"article_id": pl.String, "page_id": pl.String, **ENTITY_ROW.to_schema()})


def spans(texts: Sequence[str], model: EntityModel) -> list[list[dict]]:
    """Per text, its mentions as {text, type, start, end} (what `newsflow entities` prints)."""
    return [
        [{"text": m.text, "type": m.type, "start": m.start, "end": m.end} for m in found]
        for found in mention_lists(texts, model)
    ]
