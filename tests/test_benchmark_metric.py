"""Tests of benchmarks/extraction.py's scoring: the body metric (`score`) on tiny texts and newsflow on the
benchmark's two Korean pages; the metadata helpers (titles, times across offsets, reporter sets) on values taken
from the benchmark's pages and newsflow's fixtures; and the format of the benchmark's metadata truth file."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "extraction.py"
HANGUL = re.compile("[\uac00-\ud7a3]")


def _load_script() -> ModuleType:
    """benchmarks/ is not a package: load the script from its path."""
    spec = importlib.util.spec_from_file_location("benchmark_extraction", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def test_identical_texts_score_one() -> None:
    text = "the quick brown fox jumps over the lazy dog"
    assert bench.score(text, text) == (1.0, 1.0, 1.0)


def test_whitespace_does_not_matter() -> None:
    assert bench.score("a b c d\n\ne  f", " a\tb c d e f ") == (1.0, 1.0, 1.0)


def test_disjoint_texts_score_zero() -> None:
    assert bench.score("one two three four five", "six seven eight nine ten") == (0.0, 0.0, 0.0)


def test_partial_overlap() -> None:
    # predicted shingles: abcd, bcde, cdef; truth: abcd, bcde -> shared 2: P 2/3, R 1, F1 0.8
    p, r, f1 = bench.score("a b c d e f", "a b c d e")
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(1.0)
    assert f1 == pytest.approx(0.8)


def test_shingles_are_sets() -> None:
    # predicted: abcd, bcda, cdab, dabc (abcd twice, counted once); truth: abcd
    assert bench.score("a b c d a b c d", "a b c d") == pytest.approx((0.25, 1.0, 0.4))


def test_empty_texts() -> None:
    assert bench.score("", "") == (1.0, 1.0, 1.0)
    assert bench.score(" \n ", "") == (1.0, 1.0, 1.0)
    assert bench.score("", "some true article text") == (0.0, 0.0, 0.0)
    assert bench.score("some predicted text here", "") == (0.0, 0.0, 0.0)


def test_short_texts_use_token_sets() -> None:
    assert bench.score("hello world", "hello world") == (1.0, 1.0, 1.0)
    # fewer than 4 tokens on one side: both sides as token sets; {hello, world} of 5 predicted tokens
    p, r, f1 = bench.score("hello there world foo bar", "hello world")
    assert (p, r) == pytest.approx((0.4, 1.0))
    assert f1 == pytest.approx(2 * 0.4 / 1.4)
    assert bench.score("hello", "goodbye") == (0.0, 0.0, 0.0)


def test_newsflow_on_the_korean_pages() -> None:
    data = bench.default_data_dir()
    if not (data / "ground-truth.json").is_file():
        pytest.skip(f"the article-extraction benchmark is not here ({data}): ../shared is not beside this checkout")
    korean = [page for page in bench.load_benchmark(data) if HANGUL.search(page.truth)]
    assert len(korean) == 2
    texts, _notes = bench.newsflow_texts([page.path for page in korean])
    for page in korean:
        _p, _r, f1 = bench.score(texts[page.id], page.truth)
        assert f1 > 0.8, f"{page.id} ({page.url}): F1 {f1:.3f}"


# --- metadata: titles -------------------------------------------------------------------------------------------


def test_title_quotes_ellipsis_and_whitespace() -> None:
    # latimes.com (098bb3e96c): the h1 with curly quotes against the same headline typed with ASCII ones
    assert bench.title_hit(
        "'We had some issues,' exec says on Disney+ glitches", "‘We had some issues,’ exec says on Disney+ glitches"
    )
    # mensagensreflexao.com.br (b3c19dd5f0): … against three dots, a line break and a no-break space
    assert bench.normalise_title("Só quem\n se\u00a0Ama…") == "Só quem se Ama..."
    # ″ (double prime) is a quote here; NFKC alone would make it two primes
    assert bench.normalise_title("″Meth. We’re on it.″") == '"Meth. We\'re on it."'
    assert bench.normalise_title("„Quote‟ ‚and‛") == "\"Quote\" 'and'"
    assert bench.normalise_title("ＫＯＳＰＩ　２５００선") == "KOSPI 2500선"  # NFKC: full-width letters and space


def test_title_misses() -> None:
    h1 = "Taylor Swift is allowed to play her music at the AMAs after all"
    assert not bench.title_hit("Taylor Swift's AMA row seems to be over", h1)  # bbc.com: JSON-LD headline, not the h1
    assert not bench.title_hit(
        "Opinion | Republicans Are Following Trump to Nowhere", "Republicans Are Following Trump to Nowhere"
    )
    assert not bench.title_hit(None, h1)
    assert not bench.title_hit("   ", "")


# --- metadata: times --------------------------------------------------------------------------------------------


def test_minute_across_offsets() -> None:
    # slashgear.com (06ee193de4): "Nov 19, 2019, 10:31 pm CST"
    truth = bench.truth_time("2019-11-19T22:31:00-06:00")
    assert bench.time_hit("2019-11-20T04:31:13+00:00", truth)  # the page's meta tag, seconds dropped
    assert bench.time_hit(datetime(2019, 11, 20, 13, 31, tzinfo=ZoneInfo("Asia/Seoul")), truth)  # as newsflow lands it
    assert not bench.time_hit("2019-11-20T04:31:13-06:00", truth)  # its JSON-LD: the UTC clock labelled CST
    assert not bench.time_hit("2019-11-20T04:32:00Z", truth)
    assert not bench.time_hit("2019-11-20", truth)  # a date without a time (trafilatura) never hits a time
    assert not bench.time_hit(None, truth)
    assert not bench.time_hit("not a date", truth)


def test_value_without_offset() -> None:
    # on a non-Korean page, in the truth's own offset: htmldate's wall clock
    truth = bench.truth_time("2019-11-19T22:31:00-06:00")
    assert bench.time_hit("2019-11-19 22:31", truth)
    assert not bench.time_hit("2019-11-20 04:31", truth)  # the UTC clock without its zone
    # on a Korean page, in Korea time: examples/pages/21_biz_daily.html, registered 2024-06-13 17:17
    korean = bench.truth_time("2024-06-13T17:17:00+09:00")
    assert bench.time_hit("2024-06-13 17:17", korean, korean=True)
    assert bench.time_hit("2024-06-13T08:17:00Z", korean, korean=True)
    assert not bench.time_hit("2024-06-13 08:17", korean, korean=True)


def test_date_only_truth() -> None:
    # politifact.com (b6906ca016): "Monday, November 18th, 2019 at 11:04 a.m." with no zone, read in US Eastern
    truth = bench.truth_time(None, "2019-11-18", "-05:00")
    assert truth is not None and truth.at is None
    assert bench.time_hit("2019-11-18", truth)  # trafilatura's date
    assert bench.time_hit("2019-11-18 00:00", truth)  # htmldate, no time found
    assert bench.time_hit("2019-11-19T01:00:00+09:00", truth)  # 11:00 on the 18th in New York
    # newsflow lands a date printed without a time as midnight Korea time: that is the date, not an instant
    assert bench.time_hit("2019-11-18T00:00:00+09:00", truth)
    assert not bench.time_hit("2019-11-19T00:00:00+09:00", truth)
    assert not bench.time_hit("2019-11-19T16:00:00+09:00", truth)  # 02:00 on the 19th there
    assert not bench.time_hit("2019-10-13", truth)  # the date of the statement checked, not of the article
    # zone unknown (sciencealert.com, 14cc2a0ca5): any zone on Earth
    anywhere = bench.truth_time(None, "2019-11-18", None)
    assert bench.day_hit("2019-11-19T10:00:00+09:00", anywhere)  # 01:00 UTC on the 19th: still the 18th at UTC-12
    assert not bench.day_hit("2019-11-19T22:00:00+09:00", anywhere)


def test_same_day_in_the_pages_offset() -> None:
    # nypost.com (432362af0b): "November 18, 2019 | 4:10pm" Eastern, 21:10 UTC
    truth = bench.truth_time("2019-11-18T16:10:00-05:00")
    assert bench.day_hit("2019-11-19T06:10:00+09:00", truth)
    assert bench.day_hit("2019-11-18", truth)
    assert not bench.day_hit("2019-11-19", truth)


def test_truth_time_needs_an_offset() -> None:
    with pytest.raises(ValueError):
        bench.truth_time("2019-11-18T16:10:00")
    assert bench.truth_time(None, None) is None


# --- metadata: reporters ----------------------------------------------------------------------------------------


def test_reporter_sets() -> None:
    # hosted.ap.org (82b6d780c7): "By LISA MASCARO, MARY CLARE JALONICK and ERIC TUCKER"
    truth = ["Lisa Mascaro", "Mary Clare Jalonick", "Eric Tucker"]
    assert bench.reporters_hit(["ERIC TUCKER", "LISA MASCARO", "MARY CLARE  JALONICK"], truth)  # order, case, spaces
    assert not bench.reporters_hit(["Lisa Mascaro", "Mary Clare Jalonick"], truth)  # one missing
    assert not bench.reporters_hit([*truth, "Associated Press"], truth)  # one too many
    assert bench.reporters_hit(["정 덕현"], ["정덕현"])  # entermedia.co.kr: whitespace inside a name
    assert not bench.reporters_hit(["Sarah E Needleman"], ["Sarah E. Needleman"])  # wsj.com: the dot counts
    assert bench.reporters_hit(["", " "], [])


def test_trafilatura_author_split() -> None:
    assert bench.split_authors("Tom Krisher; Ap Auto Writer") == ("Tom Krisher", "Ap Auto Writer")
    assert bench.split_authors("Kevin Johnson, Kevin McCoy") == ("Kevin Johnson", "Kevin McCoy")
    assert bench.split_authors(None) == ()


def test_field_hits() -> None:
    truth = bench.MetaTruth(
        title="NASA adds five companies to commercial lunar lander program",
        time=bench.truth_time("2019-11-18T23:50:00-05:00"),
        reporters=("Jeff Foust",),
        korean=False,
    )
    meta = bench.Meta("NASA adds five companies to commercial lunar lander program", "2019-11-19", ("Jeff Foust",))
    assert bench.field_hits(meta, truth) == {"title": True, "time": False, "date": False, "reporters": True}
    unsigned = bench.MetaTruth(title="CPD arrests six in drug investigation", time=None, reporters=(), korean=False)
    assert bench.field_hits(bench.Meta(reporters=("Staff Reports",)), unsigned) == {"title": False, "no_byline": False}
    assert bench.field_hits(bench.Meta(), unsigned)["no_byline"]


def test_fixture_truth(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "b.txt").write_text("text page", encoding="utf-8")
    expected = {
        "a.html": {
            "title": "인천시, 섬 주민 여객선 운임 1000원으로",
            "registered_at": "2024-05-17 20:28",
            "reporters": ["서하늘"],
        },
        "b.txt": {"title": "not HTML", "registered_at": None, "reporters": []},
        "missing.html": {"title": "no such file", "registered_at": None, "reporters": []},
    }
    (tmp_path / "expected.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    truths = bench.load_fixture_truth(tmp_path, tmp_path / "expected.json")
    assert list(truths) == ["a.html"]
    truth = truths["a.html"]
    assert truth.korean and truth.reporters == ("서하늘",)
    assert truth.time is not None and truth.time.at == datetime.fromisoformat("2024-05-17T11:28:00+00:00")


# --- the truth file ---------------------------------------------------------------------------------------------


def test_metadata_truth_file() -> None:
    data = json.loads(bench.TRUTH_FILE.read_text(encoding="utf-8"))
    assert data["_about"]
    pages = {key: entry for key, entry in data.items() if not key.startswith("_")}
    assert len(pages) == 181
    for key, entry in pages.items():
        assert entry["title"] and entry["title"] == entry["title"].strip(), key
        assert isinstance(entry["reporters"], list), key
        if entry["published"]:
            assert datetime.fromisoformat(entry["published"]).tzinfo is not None, key
        elif entry.get("published_date"):
            date.fromisoformat(entry["published_date"])
        else:
            assert "no date" in entry["note"], key  # a page that gives no date at all says so
    truths = bench.load_metadata_truth(bench.TRUTH_FILE)
    assert sum(truth.korean for truth in truths.values()) == 2
    data_dir = bench.default_data_dir()
    if (data_dir / "ground-truth.json").is_file():
        assert set(truths) == {page.id for page in bench.load_benchmark(data_dir)}


def test_pages_not_landed_are_listed_not_ranked() -> None:
    def row(key: str, status: str, f1: float) -> dict:
        scores = {"precision": f1, "recall": f1, "f1": f1, "tokens": 10 if f1 else 0}
        return {
            "id": key,
            "url": f"https://example.com/{key}",
            "truth_tokens": 10,
            "ledger": {"status": status, "reason": f"reason of {key}"},
            "newsflow": scores,
            "newsflow-extractor": {**scores, "f1": 0.9},
            "trafilatura": {**scores, "f1": 0.8},
        }

    rows = [row("a", "article", 0.5), row("b", "not_article", 0.0), row("c", "article", 0.2)]
    assert bench.not_landed(rows) == [
        {
            "id": "b",
            "url": "https://example.com/b",
            "status": "not_article",
            "reason": "reason of b",
            "extractor_f1": 0.9,
            "trafilatura_f1": 0.8,
        }
    ]
    assert [page["id"] for page in bench.worst_pages(rows, {}, 5)] == ["c", "a"]
