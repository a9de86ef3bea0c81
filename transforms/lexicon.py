"""What the entity extractors share: the mention type, the word lists (profiles/lexicon) and a few closed sets of
Korean news (surnames, the words that modify a title)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

PERSON, ORGANISATION, LOCATION = "person", "organisation", "location"
NEVER = r"[^\s\S]"  # a regex no text matches (Python's and polars')
TITLE_MODIFIERS = {"전", "현", "前", "故", "고", "신임", "초대", "당시", "차기", "명예"}
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
# endings of company names beside the strong suffixes (가람항공, 도원케미칼): the chain reader's organisations
COMPANY_ENDINGS = (
    "항공", "연합회", "상사", "물산", "케미칼", "화학", "제약", "바이오", "건설", "중공업", "산업", "에너지", "모터스",
    "자동차", "해운", "홀딩스", "캐피탈", "텔레콤", "통신", "보험", "카드", "증권", "랩스", "테크", "소프트",
)  # fmt: skip
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
    def title_prefix(self) -> str:
        """Regex of a word that starts with a title (회장이, CEO는) or ends with one of two or more letters."""
        if not self.titles:
            return NEVER
        return "^(?:" + "|".join(map(re.escape, self.titles)) + ")|" + self.title_suffix

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


def without_overlaps(*tiers: list[Mention]) -> list[Mention]:
    """Mentions whose spans do not overlap, in text order: where some do, the one of the earliest tier wins, then
    the longest, then a person with a title (it carries the title and organisation)."""
    ranked = sorted(
        ((tier, m) for tier, found in enumerate(tiers) for m in found),
        key=lambda pair: (pair[0], -(pair[1].end - pair[1].start), pair[1].title is None, pair[1].start),
    )
    found = [m for _, m in ranked]
    taken = bytearray(max((m.end for m in found), default=0))  # characters already covered by a kept mention
    kept: list[Mention] = []
    for mention in found:
        if not any(taken[mention.start : mention.end]):
            taken[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)
