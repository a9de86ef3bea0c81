"""The benchmark's page generator (benchmarks/generate.py): every layout it varies still parses to what its
example page says, with the added paragraphs at the end of the body, and the bodies it makes are as long as real
articles'."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from statistics import mean

import pytest
from typer.testing import CliRunner

from benchmarks import generate as gen
from newsflow.cli import app

ARTICLES, OTHERS = gen.templates()
ADDED = ["첫째 문단은 새로 붙인 문단이다. 한빛대 교수도 그렇게 말했다.", '둘째 문단도 "따옴표"를 담아 붙였다.']


def extracted(paths: list[Path]) -> dict[str, dict]:
    """file name -> what `newsflow extract --json` makes of it."""
    result = CliRunner().invoke(app, ["extract", *map(str, paths), "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    return {Path(r["page"]["source"]).name: r for r in records}


def test_every_article_layout_is_a_template() -> None:
    """Only pages the generator cannot vary (mojibake, NUL bytes) and non-articles are copied as they are."""
    names = {name for name, *_ in ARTICLES}
    assert len(names) == 15
    assert all(gen.EXPECTED[name]["status"] != "article" or "mojibake" in name or "nul" in name for name, _ in OTHERS)


def test_added_paragraphs_end_the_body_in_every_layout(tmp_path: Path) -> None:
    paths = []
    for name, text, encoding, expected in ARTICLES:
        path = tmp_path / name
        path.write_bytes(gen.lengthen(text, expected["body_last"], ADDED).encode(encoding))
        paths.append(path)
    records = extracted(paths)
    for name, _, _, expected in ARTICLES:
        record = records[name]
        assert record["page"]["status"] == "article", name
        article = record["article"]
        body = article["body"]
        assert len(body) == expected["body_count"] + len(ADDED), name
        assert body[0] == expected["body_first"], name
        assert body[-3:] == [expected["body_last"], *ADDED], name
        assert article["title"] == expected["title"], name
        assert [r["name"] for r in article["reporters"]] == expected["reporters"], name


def test_varied_pages_keep_their_layout_with_a_new_headline(tmp_path: Path) -> None:
    rng = random.Random(5)
    paths, headlines = [], {}
    for number, (name, text, encoding, expected) in enumerate(ARTICLES):
        page = gen.vary(text, expected, number, rng)
        path = tmp_path / f"{number:02d}_{name}"
        path.write_bytes(page.encode(encoding))
        paths.append(path)
        headlines[path.name] = next(line.strip() for line in page.splitlines() if f"({number})" in line)
    for name, record in extracted(paths).items():
        assert record["page"]["status"] == "article", name
        assert record["article"]["title"] in headlines[name], name
        assert record["article"]["title"].endswith(f"({int(name[:2])})"), name


def test_bodies_are_as_long_as_real_articles(tmp_path: Path) -> None:
    """The seed page's body is 1,660 characters; generated bodies are about 1,450 on average, none of a varied
    layout under 800."""
    paths = gen.generate(tmp_path, 120, seed=3)
    records = extracted(paths)
    varied = [r["article"] for r in records.values() if r["article"] and "(" in r["article"]["title"]]
    lengths = [sum(len(p) for p in a["body"]) + len(a["body"]) - 1 for a in varied]
    assert len(varied) > 90
    assert 1_250 <= mean(lengths) <= 1_650
    assert min(lengths) >= 800


def test_html_pages_weigh_what_real_ones_do_and_show_the_same(tmp_path: Path) -> None:
    """The unseen markup brings an HTML page to a real page's size (the public benchmark's Korean pages: 25 to 27
    KB, 750 to 800 tags) and changes nothing that lands: page, article and readings are the same without it."""
    html = [(name, text, encoding) for name, text, encoding, _ in ARTICLES if "</body>" in text]
    assert len(html) == 6
    paths: dict[str, list[Path]] = {"light": [], "weighed": []}  # apart: one run takes the second for a duplicate
    for number, (name, text, encoding) in enumerate(html):
        weighed = gen.weigh(text, number, random.Random(number))
        assert 20_000 <= len(weighed.encode(encoding)) <= 32_000, name  # 28 to 29 KB with the added paragraphs
        assert 500 <= weighed.count("<") <= 900, name
        for kind, page in (("light", text), ("weighed", weighed)):
            (tmp_path / kind).mkdir(exist_ok=True)
            paths[kind].append(tmp_path / kind / name)
            paths[kind][-1].write_bytes(page.encode(encoding))
    light, weighed = extracted(paths["light"]), extracted(paths["weighed"])
    for name, *_ in html:
        for record in (light[name], weighed[name]):
            for key in ("source", "size_bytes", "content_hash"):
                record["page"].pop(key)
        page_ids = weighed[name]["page"]["page_id"], light[name]["page"]["page_id"]  # the hash of the bytes
        assert json.loads(json.dumps(weighed[name]).replace(*page_ids)) == light[name], name
        assert light[name]["page"]["status"] == "article" and light[name]["weather"], name


def test_paragraphs_use_each_sentence_once_with_the_right_particles() -> None:
    assert gen.ADDED_PARAGRAPHS[1] * gen.SENTENCES_PER_PARAGRAPH[1] <= len(gen.SENTENCES)
    for seed in range(30):
        added = gen.paragraphs(random.Random(seed))
        assert gen.ADDED_PARAGRAPHS[0] <= len(added) <= gen.ADDED_PARAGRAPHS[1]
        text = " ".join(added)
        assert "(은)" not in text and "(이)" not in text and "{" not in text
        for sentence in gen.SENTENCES:  # its longest fixed part is there at most once
            fixed = max(re.split(r"\{\w+\}(?:\(\w\))?", sentence), key=len)
            assert text.count(fixed) <= 1, fixed


@pytest.mark.parametrize(
    ("written", "said"),
    [("김 대표(은)", "김 대표는"), ("새봄건설(은)", "새봄건설은"), ("한빛대(과)", "한빛대와"),
     ("보람제약(이)", "보람제약이"), ("세종(을)", "세종을"), ("서울 중구(을)", "서울 중구를"),
     ("가람전자(이)", "가람전자가")],
)  # fmt: skip
def test_particles_follow_the_last_syllable(written: str, said: str) -> None:
    assert gen.PARTICLE.sub(lambda p: gen._particle(p.group(1), p.group(2)), written) == said


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in gen.generate(tmp_path / "a", 30, seed=9)]
    again = [p.read_bytes() for p in gen.generate(tmp_path / "b", 30, seed=9)]
    other = [p.read_bytes() for p in gen.generate(tmp_path / "c", 30, seed=10)]
    assert first == again
    assert first != other
