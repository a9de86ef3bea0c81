"""The entity extractor's building blocks: morpheme offsets, the rule baseline's units, chains read around titles,
and the stage across worker processes."""

from __future__ import annotations

import polars as pl
import pytest

import newsflow.transforms.entities
from newsflow.drafting.rules import load_entity_model, load_lexicon
from newsflow.drafting.workers import MIN_PARALLEL, Workers
from newsflow.transforms.entities import article_entities, entities, mention_lists
from newsflow.transforms.entity_rules import unit_frame
from newsflow.transforms.morphemes import morpheme_frame
from tests.conftest import parse_files

LEXICON = load_lexicon()
MODEL = load_entity_model()


@pytest.mark.parametrize(
    "text",
    [
        "삼성전자  이재용 회장은\n버라이즌에 갔다.",
        "사티아 나델라\tMS CEO, AT&T·메타\u00a0등",
        "구분자\x1e와\x1f가 든 글",  # MeCab's output separators inside the text must not shift offsets
        "  앞에 빈칸이 있는 글   ",
    ],
)
def test_every_morpheme_offset_points_at_its_surface(text):
    morphs = morpheme_frame([text, "둘째 글"])
    first = morphs.filter(doc=0)
    for surface, start, end in first.select("surface", "start", "end").iter_rows():
        assert text[start:end] == surface.translate({0x1E: " ", 0x1F: " "})
    assert first["end"].max() == len(text.rstrip())
    assert morphs.filter(doc=1)["start"].min() == 0  # offsets start again in each text


def test_units_lose_their_particles_and_know_what_closed_them():
    units = unit_frame(["삼성전자는 MS와 손잡았다. 손정의 소프트뱅크 회장", "회장"], LEXICON)
    rows = units.select("doc", "text", "kind", "title", "closed", "tail", "index").rows()
    assert rows[:2] == [
        (0, "삼성전자", "organisation", False, True, "는", 0),
        (0, "MS", "organisation", False, True, "와", 1),
    ]
    assert (0, "손정", "person", False, True, "의", 3) in rows  # MeCab reads 손정의 as 손정 + 의
    assert (0, "소프트뱅크", "organisation", False, False, " ", 4) in rows
    assert rows[-2] == (0, "회장", None, True, False, "", 5)
    assert rows[-1] == (1, "회장", None, True, False, "", 0)


def test_a_unit_takes_every_kept_morpheme_and_its_tail_all_the_stripped_ones():
    units = unit_frame(["김서연 가람전자 부사장에게서도 연락이 왔다고 했다"], LEXICON)
    rows = units.select("text", "start", "end", "kind", "title", "verb_like", "closed", "tail").rows()
    assert rows[:2] == [
        ("김서연", 0, 3, "person", False, False, False, " "),
        ("가람전자", 4, 8, "organisation", False, False, False, " "),
    ]
    assert rows[2] == ("부사장", 9, 12, None, True, False, True, "에게서도")  # three particles in a row come off
    assert rows[4] == ("왔다고", 21, 24, None, False, True, False, " ")  # endings stay: a predicate, not a name


def test_texts_in_several_calls_find_what_one_call_finds(monkeypatch, seed_path):
    seed = parse_files(seed_path)
    texts = [*seed.articles["body"].list.join("\n"), "박서진 한빛은행 행장은 말했다.", "", "이 회장"] * 3
    whole = mention_lists(texts, MODEL)
    monkeypatch.setattr(newsflow.transforms.entities, "TEXTS_PER_CALL", 2)
    assert mention_lists(texts, MODEL) == whole
    assert len(whole) == len(texts) and sum(map(len, whole)) > 30


def test_worker_processes_find_what_one_process_finds(seed_path):
    seed = parse_files(seed_path)
    articles = pl.concat([seed.articles.with_columns(article_id=pl.lit(f"copy-{i}")) for i in range(MIN_PARALLEL + 6)])
    with Workers(2) as workers:
        got = workers.entities(articles)
    expected = entities(articles, MODEL)
    assert got.height == expected.height > 0
    assert got.equals(expected)


def test_a_surname_alone_is_the_person_of_the_article_with_that_surname():
    rows = article_entities("박서진 한빛은행 행장은 말했다. 박 행장은 웃었다.", MODEL)
    people = [(r["canonical"], r["mention_count"], r["person_title"]) for r in rows if r["entity_type"] == "person"]
    assert people == [("박서진", 2, "행장")]
