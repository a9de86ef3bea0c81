"""Generate N varied Korean news pages for benchmarks, deterministically from a seed number.

    .venv/bin/python benchmarks/generate.py OUT_DIR --pages 10000 --seed 7

The pages are newsflow's own example pages (examples/pages: every site layout of FORMATS.md, text and HTML,
written by us) made into new pages: each article gets a new headline, its URLs a page number, and its weather
widget new temperatures, so every generated article is distinct (no page is taken for a duplicate of another)
while its layout stays what the parser knows. One page in ten is a copy of a non-article example (section lists,
search results, empty, binary, truncated and mojibake pages), which lands as not_article, rejected or
duplicate, as such pages do in a real crawl. The same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "pages"
EXPECTED = json.loads((ROOT / "examples" / "expected.json").read_text(encoding="utf-8"))
OTHER_SHARE = 0.1

SUBJECTS = [
    "한빛은행", "가람전자", "누리바이오", "새봄건설", "다온통신", "미르자동차", "온새미로항공", "하늬증권", "보람제약",
    "정부", "금융위원회", "국토교통부", "서울시", "부산시", "중소기업계", "반도체업계", "조선업계", "유통업계",
]  # fmt: skip
PREDICATES = [
    "하반기 투자 두 배로 늘린다", "신규 서비스 공개…이용자 확대 노려", "수출 실적 사상 최대", "인력 채용 확대",
    "친환경 설비에 1조원 투입", "해외 공장 착공", "금리 인하 검토", "지역 상권 지원책 발표", "신제품 출시 앞당겨",
    "연구개발 조직 개편", "물가 안정 대책 내놔", "공급망 점검 나서", "주택 공급 계획 확정", "안전 점검 강화",
]  # fmt: skip
WIDGET_TEMPERATURE = re.compile(r"(?m)^(\s*[•·∙ㆍ]\s*[가-힣A-Za-z ]{1,12}?)\s*-?\d+(?:\.\d+)?(℃)")
URL = re.compile(r"(https?://[^\s\"'<>?#]+)")


def _decode(data: bytes) -> tuple[str, str] | None:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def templates() -> tuple[list[tuple[str, str, str, str]], list[tuple[str, bytes]]]:
    """(name, text, encoding, title) of each example article that decodes cleanly, and the raw bytes of the rest."""
    articles, others = [], []
    for name, expected in sorted(EXPECTED.items()):
        data = (EXAMPLES / name).read_bytes()
        decoded = _decode(data)
        title = expected.get("title")
        if expected["status"] == "article" and decoded and title and title in decoded[0] and b"\x00" not in data:
            articles.append((name, decoded[0], decoded[1], title))
        else:
            others.append((name, data))
    return articles, others


def vary(text: str, title: str, number: int, rng: random.Random) -> str:
    """The template with a new headline, numbered URLs and new widget temperatures."""
    headline = f"{rng.choice(SUBJECTS)}, {rng.choice(PREDICATES)} ({number})"
    text = text.replace(title, headline)
    text = URL.sub(lambda m: f"{m.group(1)}-{number}", text)
    return WIDGET_TEMPERATURE.sub(lambda m: f"{m.group(1)} {rng.randint(-12, 34)}{m.group(2)}", text)


def generate(out: Path, pages: int, seed: int) -> list[Path]:
    """Write `pages` pages into `out` (created if missing); returns their paths."""
    rng = random.Random(seed)
    articles, others = templates()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(pages):
        if rng.random() < OTHER_SHARE:
            name, data = rng.choice(others)
        else:
            name, text, encoding, title = rng.choice(articles)
            data = vary(text, title, number, rng).encode(encoding)
        path = out / f"{number:07d}_{name}"
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the pages into")
    parser.add_argument("--pages", type=int, default=10_000, help="how many pages [10000]")
    parser.add_argument("--seed", type=int, default=7, help="the same seed gives the same pages [7]")
    args = parser.parse_args(argv)
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    paths = generate(args.out, args.pages, args.seed)
    print(f"{len(paths)} pages in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
