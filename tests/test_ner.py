"""The entity tagger: the shipped model, the vectorised CRF against python-crfsuite's own tagger, training, and the
chains read around titles from the tagger's spans. Every sentence here is our own."""

from __future__ import annotations

import numpy as np
import polars as pl
import pycrfsuite
import pytest

import newsflow.transforms.ner as ner
from newsflow.drafting.rules import ModelError, load_entity_model, read_entity_model
from newsflow.profiles import ENTITY_MODEL
from newsflow.transforms.entities import _mentions, _places
from newsflow.transforms.lexicon import LOCATION, ORGANISATION, PERSON, Mention
from newsflow.transforms.ner import LABELS, CrfWeights, analyse, emissions, feature_lists, tag, viterbi
from training.entities import train
from training.klue import NEWS, bio_spans, char_labels, default_data_dir, folds, read_klue

MODEL = load_entity_model()

SENTENCES = [
    "김서연 가람전자 부사장은 15일 부산에서 열린 행사에서 새 공장 계획을 밝혔다.",
    "한빛은행은 이날 서울 중구 본점에서 주주총회를 열었다.",
    "박도윤 누리대 교수 연구팀은 제주와 강릉의 기온 자료를 분석했다.",
    "미국 보스턴에 본사를 둔 오로라테크는 지난해 매출이 두 배로 늘었다고 발표했다.",
    "경찰은 최모(41)씨를 사기 혐의로 불구속 입건했다고 17일 밝혔다.",
    "윤지호 감독이 이끄는 청솔FC는 광주 원정에서 2대 1로 이겼다.",
    "정부는 세종시에서 관계 부처 회의를 열고 대책을 논의했다.",
    "다니엘 허드슨 노바랩스 CEO는 도쿄와 싱가포르를 차례로 방문한다.",
]


def test_the_shipped_model_loads_is_small_and_says_whose_data_it_learned_from():
    assert set(MODEL.weights.labels) == set(LABELS)
    assert len(MODEL.weights.attributes) > 1000 and MODEL.weights.state.shape[1] == len(LABELS)
    assert ENTITY_MODEL.stat().st_size < 5_000_000
    readme = (ENTITY_MODEL.parent / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "KLUE" in readme


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="make model"):
        read_entity_model(tmp_path / "none.crfsuite")


def test_the_vectorised_tagger_gives_python_crfsuites_labels():
    crfsuite = pycrfsuite.Tagger()
    crfsuite.open(str(ENTITY_MODEL))
    expected = [bio_spans(crfsuite.tag(features)) for features in feature_lists(SENTENCES, MODEL.lexicon)]
    assert tag(SENTENCES, MODEL.lexicon, MODEL.weights) == expected
    assert sum(map(len, expected)) >= 15  # the sentences have entities, and the model finds most of them


@pytest.mark.skipif(
    not (default_data_dir() / NEWS).is_file(), reason="../shared/data/klue-ner is not beside the project"
)
def test_on_klue_news_sentences_the_vectorised_tagger_gives_python_crfsuites_labels():
    texts = [text for text, _ in read_klue(default_data_dir() / NEWS)[:500]]
    crfsuite = pycrfsuite.Tagger()
    crfsuite.open(str(ENTITY_MODEL))
    expected = [bio_spans(crfsuite.tag(features)) for features in feature_lists(texts, MODEL.lexicon)]
    assert tag(texts, MODEL.lexicon, MODEL.weights) == expected


def test_each_line_is_tagged_on_its_own_and_offsets_count_the_newlines():
    text = "\n".join(SENTENCES[:3])
    got = tag([text], MODEL.lexicon, MODEL.weights)[0]
    at = 0
    expected = []
    for line, found in zip(SENTENCES[:3], tag(SENTENCES[:3], MODEL.lexicon, MODEL.weights), strict=True):
        expected += [(start + at, end + at, kind) for start, end, kind in found]
        at += len(line) + 1
    assert got == expected


def test_viterbi_finds_the_best_path_not_the_best_label_of_each_character():
    labels = ("O", "B-PS", "I-PS")
    # I-PS may only follow B-PS or I-PS
    moves = np.array([[0, 0, -100], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    scores = np.array(
        [
            [1.0, 0.9, 0.0],  # greedy: O, then I-PS (forbidden after O); best path: B-PS, I-PS
            [0.0, 0.0, 2.0],
            [5.0, 0.0, 0.0],  # a second sequence of one character
        ],
        dtype=np.float32,
    )
    best = viterbi(scores, np.array([0, 2]), np.array([2, 1]), moves)
    assert [labels[k] for k in best] == ["B-PS", "I-PS", "O"]
    assert viterbi(np.zeros((0, 3), np.float32), np.array([], int), np.array([], int), moves).size == 0


def test_emissions_add_the_weights_of_each_characters_features():
    weights = CrfWeights.of(
        ("O", "B-PS", "I-PS"),
        {("c0=김", "B-PS"): 2.0, ("c0=김", "O"): -1.0, ("n1=서", "B-PS"): 0.5, ("c0=서", "I-PS"): 1.5},
        {("B-PS", "I-PS"): 1.0},
    )
    frame = pl.DataFrame({"doc": [0, 0], "i": [0, 1], "c": ["김", "서"], "c0": ["김", "서"], "n1": ["서", None]})
    assert emissions(frame, weights).tolist() == [[-1.0, 2.5, 0.0], [0.0, 0.0, 1.5]]
    assert weights.templates == {"c0", "n1"}
    assert weights.transitions[1, 2] == 1.0


def test_words_know_their_bare_form_and_what_mecab_makes_of_them():
    _, words = analyse(["김서연 가람전자 부사장에게서도 연락이 왔다고 했다", "CEO는"], MODEL.lexicon)
    rows = words.select("doc", "start", "end", "bare", "title", "verb_like").rows()
    assert rows[:3] == [(0, 0, 3, "김서연", False, False), (0, 4, 8, "가람전자", False, False),
                        (0, 9, 16, "부사장", True, False)]  # fmt: skip
    assert rows[4] == (0, 21, 24, "왔다고", False, True)
    assert rows[-1] == (1, 0, 4, "CEO", True, False)
    assert words.filter(bare="김서연")["person"].item()


def _chain_mentions(text: str, tagged: list[tuple[int, int, str]]) -> list[tuple]:
    _, words = analyse([text], MODEL.lexicon)
    rows = words.select(
        "start", "w", "bare", "proper", "person", "common", "verb_like", "title", "titled", "so", "sl"
    ).rows()
    return [(m.type, m.text, m.title, m.org) for m in _mentions(text, tagged, rows)]


def test_a_person_before_an_organisation_and_a_title_takes_both():
    text = "이번 행사에는 김서연 가람전자 부사장이 참석했다."
    got = _chain_mentions(text, [(8, 11, "PS"), (12, 16, "OG")])
    assert got == [(PERSON, "김서연", "부사장", "가람전자"), (ORGANISATION, "가람전자", None, None)]


def test_a_foreign_name_of_two_words_a_modifier_and_a_title_with_gyeom():
    text = "다니엘 허드슨 노바랩스 사장 겸 CEO와 박도윤 전 장관이 만났다."
    got = _chain_mentions(text, [(4, 7, "PS"), (8, 12, "OG"), (23, 26, "PS")])
    assert got == [
        (PERSON, "다니엘 허드슨", "사장 겸 CEO", "노바랩스"),
        (ORGANISATION, "노바랩스", None, None),
        (PERSON, "박도윤", "전 장관", None),
    ]


@pytest.mark.parametrize("kind", ["PS", "OG"])
def test_a_name_and_an_organisation_the_tagger_ran_together_are_a_person_and_their_organisation(kind):
    text = "오민혁 회장과 한도윤 가람전자 사장이 만났다."
    got = _chain_mentions(text, [(0, 3, "PS"), (8, 16, kind)])
    assert got == [
        (PERSON, "오민혁", "회장", None),
        (PERSON, "한도윤", "사장", "가람전자"),
        (ORGANISATION, "가람전자", None, None),
    ]


def test_a_company_the_tagger_took_for_a_person_or_left_out_is_the_organisation():
    text = "최현우 도원케미칼 대표와 윤태식 가람항공 본부장이 왔다."
    got = _chain_mentions(text, [(0, 3, "PS"), (4, 9, "PS"), (14, 17, "PS")])
    assert got == [
        (PERSON, "최현우", "대표", "도원케미칼"),
        (ORGANISATION, "도원케미칼", None, None),
        (PERSON, "윤태식", "본부장", "가람항공"),
        (ORGANISATION, "가람항공", None, None),
    ]


def test_a_common_noun_before_a_name_is_not_part_of_it():
    text = "부친 신 회장에게까지 알렸다."
    assert _chain_mentions(text, [(3, 4, "PS")]) == [(PERSON, "신", "회장", None)]


def test_an_organisation_before_the_name_and_a_particle_that_ends_the_chain():
    text = "가람전자 김서연 부사장은 웃었다. 김서연은 부사장이 되었다."
    got = _chain_mentions(text, [(0, 4, "OG"), (5, 8, "PS"), (19, 22, "PS")])
    assert got == [
        (ORGANISATION, "가람전자", None, None),
        (PERSON, "김서연", "부사장", "가람전자"),
        (PERSON, "김서연", None, None),
    ]


def test_an_organisation_of_every_word_before_the_title_makes_no_person():
    assert _chain_mentions("가람 전자 회장이 왔다.", [(0, 5, "OG")]) == [(ORGANISATION, "가람 전자", None, None)]


def test_a_chain_never_runs_across_a_line():
    text = "가람전자\n김서연 부사장"
    assert _chain_mentions(text, [(0, 4, "OG"), (5, 8, "PS")]) == [
        (ORGANISATION, "가람전자", None, None),
        (PERSON, "김서연", "부사장", None),
    ]


def test_a_place_of_known_places_is_each_of_them():
    assert _places(Mention(LOCATION, "미국 보스턴", 10, 16), MODEL.lexicon) == [
        Mention(LOCATION, "미국", 10, 12),
        Mention(LOCATION, "보스턴", 13, 16),
    ]
    assert _places(Mention(LOCATION, "미국 서부 팔로 알토", 0, 11), MODEL.lexicon) == [
        Mention(LOCATION, "미국", 0, 2),
        Mention(LOCATION, "팔로 알토", 6, 11),
    ]
    unknown = Mention(LOCATION, "서울 누리호텔", 0, 7)
    assert _places(unknown, MODEL.lexicon) == [unknown]


def test_training_is_deterministic_and_learns_its_sentences(tmp_path):
    sentences = [
        ("김서연 가람전자 부사장이 왔다.", [(0, 3, "PS"), (4, 8, "OG")]),
        ("한빛은행은 부산에 지점을 열었다.", [(0, 4, "OG"), (6, 8, "LC")]),
        ("박도윤 교수는 제주에서 일한다.", [(0, 3, "PS"), (7, 9, "LC"), (12, 14, "DT")]),
    ]
    params = {"max_iterations": 40}
    first = train(sentences, tmp_path / "a.crfsuite", MODEL.lexicon, params)
    second = train(sentences, tmp_path / "b.crfsuite", MODEL.lexicon, params)
    assert first.read_bytes() == second.read_bytes()
    model = read_entity_model(first)
    assert tag([text for text, _ in sentences], model.lexicon, model.weights) == [
        [s for s in spans if s[2] != "DT"] for _, spans in sentences
    ]


def test_a_model_without_morpheme_features_never_runs_mecab(tmp_path, monkeypatch):
    sentences = [("김서연 가람전자 부사장이 왔다.", [(0, 3, "PS"), (4, 8, "OG")])]
    templates = [t for t in ner.TEMPLATES if t not in ner.MORPHEME_TEMPLATES]
    model = read_entity_model(train(sentences, tmp_path / "m.crfsuite", MODEL.lexicon, {"max_iterations": 20},
                                    templates))  # fmt: skip
    assert not model.weights.templates & ner.MORPHEME_TEMPLATES

    def no_mecab(texts):
        raise AssertionError("MeCab ran")

    monkeypatch.setattr(ner, "morpheme_frame", no_mecab)
    assert tag(["김서연 가람전자 부사장이 왔다."], model.lexicon, model.weights) == [[(0, 3, "PS"), (4, 8, "OG")]]


@pytest.mark.skipif(
    not (default_data_dir() / NEWS).is_file(), reason="../shared/data/klue-ner is not beside the project"
)
def test_make_model_trains_the_shipped_model_again(tmp_path):
    """What `make model` does (about a minute): the same data and code give the shipped model. Compared by what it
    tags, so that a libm whose last bit differs on another machine does not fail it."""
    from training.entities import training_sentences

    path = train(training_sentences(default_data_dir()), tmp_path / "again.crfsuite", MODEL.lexicon)
    again = read_entity_model(path)
    texts = [text for text, _ in read_klue(default_data_dir() / NEWS)[:300]]
    same = sum(
        a == b
        for a, b in zip(tag(texts, again.lexicon, again.weights), tag(texts, MODEL.lexicon, MODEL.weights), strict=True)
    )
    assert same >= 0.99 * len(texts)
    assert abs(path.stat().st_size - ENTITY_MODEL.stat().st_size) <= 0.02 * ENTITY_MODEL.stat().st_size


def test_character_labels_and_folds():
    assert char_labels("김 씨가 3일", [(0, 1, "PS"), (5, 7, "DT")]) == ["B-PS"] + ["O"] * 6
    assert char_labels("뉴 욕", [(0, 3, "LC")]) == ["B-LC", "I-LC", "I-LC"]
    assert folds(7, 3) == [[0, 3, 6], [1, 4], [2, 5]]
