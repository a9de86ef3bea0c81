"""Generate N varied Korean news pages for benchmarks, deterministically from a seed number.

    .venv/bin/python benchmarks/generate.py OUT_DIR --pages 10000 --seed 7

The pages are newsflow's own example pages (examples/pages: every site layout of FORMATS.md, text and HTML,
written by us) made into new pages: each article gets a new headline, its URLs a page number, and its weather
widget new temperatures, so every generated article is distinct (no page is taken for a duplicate of another)
while its layout stays what the parser knows. One page in ten is a copy of a non-article example (section lists,
search results, empty, binary, truncated and mojibake pages), which lands as not_article, rejected or
duplicate, as such pages do in a real crawl. The same seed gives the same bytes.

Each article also gets 4 to 12 more body paragraphs after its last one, written as the template writes its
paragraphs (the same markup around them and line breaks between them), from sentences of our own with people,
titles, organisations and places in them. The examples' bodies are short (about 450 characters); a real
article's is not: the seed page's body is 1,660 characters and the two Korean pages of the public extraction
benchmark about 2,500. With the added paragraphs a generated article's body is 1,450 characters on average
(8 in 10 between 1,000 and 1,950), so the work that grows with the text (the analyser above all) weighs what it
does on real pages.

HTML pages also get the markup a real page carries and a browser does not show: stylesheet and script links and
meta tags in the head; inline scripts (a menu's configuration, page-view counters, ad set-up), empty ad slots,
an icon sprite, hidden form fields and a counting pixel in the body. The examples' HTML is 5 to 6 KB with about
140 tags; the Korean pages of the public extraction benchmark are 25 to 27 KB with 750 to 800 tags, 8 KB of them
scripts. A generated HTML page is 28 to 29 KB with about 700 tags, so parsing HTML weighs what it does on real
pages too; what the page shows, and so what it parses to, is unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import html
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
# sentences of our own for the added paragraphs; {person} {company} {title} are the article's main person, their
# company and title, {short} how the article calls them later (김 대표); (은) (이) (을) (과) take the particle the
# word before them needs
SENTENCES = [
    '{person} {company} {title}(은) 이날 {place}에서 열린 간담회에서 "올해 안에 새 사업의 성과를 숫자로 '
    '보여주겠다"고 말했다.',
    "{company}(은) 지난해 매출 {n}조{m}000억원, 영업이익 {k}000억원을 거뒀다고 {day}일 밝혔다.",
    "업계에서는 이번 결정이 {place} 지역 협력사들의 일감을 늘리는 계기가 될 것으로 보고 있다.",
    '{short}(은) "고객이 체감할 수 있는 변화를 만드는 것이 가장 중요하다"며 "현장의 목소리를 빠짐없이 '
    '듣겠다"고 강조했다.',
    "시장조사업체 {research}에 따르면 관련 시장 규모는 2028년까지 연평균 {pct}%씩 커질 전망이다.",
    '{other} {broker} 연구원은 "수요 회복 속도가 예상보다 더디다"며 "하반기 실적은 보수적으로 볼 필요가 '
    '있다"고 분석했다.',
    "{ministry}도 {place}(을) 중심으로 한 지원책을 다음 달 발표할 계획이다.",
    "회사 측은 신규 인력 {k}00명을 채용하고 연구개발 투자도 지난해보다 {pct}% 늘릴 방침이다.",
    "이날 {company} 주가는 전날보다 {pct}.{k}% 오른 {n}만{m}00원에 거래를 마쳤다.",
    "{company}(은) 협력사와 함께 상생 기금 {k}00억원을 조성해 중소 부품업체의 설비 투자를 돕기로 했다.",
    "이번 행사에는 {rival}, {company} 등 {k}개 기업 관계자 {n}00여 명이 참석했다.",
    "전문가들은 원자재 가격과 환율 변동이 여전히 변수로 남아 있다고 지적한다.",
    '{other} {university} 교수는 "단기 성과보다 기초 체력을 다지는 투자가 필요한 시점"이라고 말했다.',
    '{ministry} 관계자는 "업계와 협의해 제도 개선 방안을 연내 마련하겠다"고 설명했다.',
    "앞서 {rival}도 지난달 {place}에 물류 거점을 새로 열고 당일 배송 지역을 넓혔다.",
    "소비자 단체들은 가격 인상이 이어질 경우 서민 부담이 커질 수 있다며 신중한 접근을 요구했다.",
    "{company}(은) 오는 {month}월 {place}에서 시제품을 공개하고 내년 초부터 본격적인 양산에 들어간다.",
    '회사 관계자는 "해외 고객사의 주문이 꾸준히 늘고 있어 생산 설비를 추가로 확보하고 있다"고 전했다.',
    "노동조합은 인력 재배치 과정에서 고용 안정이 보장돼야 한다는 입장을 회사에 전달했다.",
    '{short}(은) 간담회 말미에 "위기일수록 기본에 충실해야 한다"며 임직원들에게 책임감을 당부했다.',
    "증권가는 {company}의 올해 영업이익이 지난해보다 {pct}% 안팎 늘어날 것으로 내다보고 있다.",
    "{rival}(과) {company}(은) 지난해부터 {place} 일대에서 공동 연구 사업을 함께 진행해 왔다.",
    "{ministry}(은) 이르면 다음 주 관계 부처 회의를 열어 세부 일정을 확정할 예정이다.",
    "다만 일부 투자자들은 대규모 설비 투자로 당분간 차입금이 늘어날 수 있다는 점을 우려하고 있다.",
    "{person} {title}(은) 취임 이후 매달 한 차례씩 {place} 생산 현장을 찾아 직원들과 점심을 함께해 왔다.",
    "{company}의 해외 매출 비중은 2년 전 {pct}%에서 올해 상반기 {n}0%대까지 높아졌다.",
    '{other} {ministry} 국장은 "지방 중소기업이 자금 조달에서 소외되지 않도록 보증 한도를 넓히겠다"고 밝혔다.',
    "이 같은 흐름은 {month}월 들어서도 이어져 주요 업체들의 수주 잔고가 {k}개월 연속 늘었다.",
    "{rival} 측은 이번 발표에 대해 \"시장 상황을 지켜본 뒤 대응 방향을 정하겠다\"며 말을 아꼈다.",
    "업계 안팎에서는 {company}(이) 연내 추가 인수합병에 나설 가능성도 거론된다.",
    "{place} 주민들은 공장 가동에 따른 교통 혼잡과 소음 문제를 해결해 달라고 요청하고 있다.",
    "{short}(은) 이어 \"협력사와 이익을 나누는 구조를 만들어야 산업 전체가 함께 클 수 있다\"고 덧붙였다.",
    "올해 들어 {company}(이) 발표한 투자 계획은 모두 {k}건, 금액으로는 {n}조원이 넘는다.",
    "{university} 연구진과 함께 개발한 신기술은 기존 제품보다 전력 소모를 {pct}% 줄인 것이 특징이다.",
    "{ministry}(은) 관련 법 개정안을 이번 회기 안에 국회에 제출할 계획이라고 밝혔다.",
    "경쟁사들도 가격 인하와 서비스 확대로 맞서고 있어 하반기 시장 점유율 다툼은 더 치열해질 전망이다.",
]  # fmt: skip
COMPANIES = [
    "한빛은행", "가람전자", "누리바이오", "새봄건설", "다온통신", "미르자동차", "온새미로항공", "보람제약",
    "도원케미칼",
]  # fmt: skip
BROKERS = ["하늬증권", "한결투자증권", "누리투자증권"]
RESEARCH = ["새길리서치", "한울시장연구소"]
MINISTRIES = ["정부", "금융위원회", "국토교통부", "산업통상자원부", "서울시", "부산시"]
UNIVERSITIES = ["한빛대", "새봄대", "가람대"]
TITLES = ["대표", "사장", "부사장", "회장", "본부장", "부문장"]
PLACES = [
    "서울 중구", "부산", "대전 유성구", "인천 송도", "광주", "울산", "세종", "경기 평택시", "충북 청주시",
    "경남 창원시",
]  # fmt: skip
FAMILY_NAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN_NAMES = [
    "민준", "서연", "지훈", "하은", "도윤", "수빈", "현우", "지민", "은서", "태호", "유진", "성민", "예린", "준호",
    "다인", "경수", "미정", "상훈", "소영", "재원",
]  # fmt: skip
PARTICLE = re.compile(r"(?<=(.))\((은|이|을|과)\)")
PARTICLE_AFTER_VOWEL = {"은": "는", "이": "가", "을": "를", "과": "와"}
ADDED_PARAGRAPHS = (4, 12)  # how many paragraphs an article gets added, at least and at most
SENTENCES_PER_PARAGRAPH = (2, 3)
WIDGET_TEMPERATURE = re.compile(r"(?m)^(\s*[•·∙ㆍ]\s*[가-힣A-Za-z ]{1,12}?)\s*-?\d+(?:\.\d+)?(℃)")
URL = re.compile(r"(https?://[^\s\"'<>?#]+)")


def _decode(data: bytes) -> tuple[str, str] | None:
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def templates() -> tuple[list[tuple[str, str, str, dict]], list[tuple[str, bytes]]]:
    """(name, text, encoding, expected fields) of each example article that decodes cleanly and has its title and
    last body paragraph as written, and the raw bytes of the rest."""
    articles, others = [], []
    for name, expected in sorted(EXPECTED.items()):
        data = (EXAMPLES / name).read_bytes()
        decoded = _decode(data)
        title, last = expected.get("title"), expected.get("body_last")
        written = decoded and title and last and title in decoded[0] and last in decoded[0]
        if expected["status"] == "article" and written and b"\x00" not in data:
            articles.append((name, decoded[0], decoded[1], expected))
        else:
            others.append((name, data))
    return articles, others


def vary(text: str, expected: dict, number: int, rng: random.Random) -> str:
    """The template with a new headline, numbered URLs, new widget temperatures and more body paragraphs; an HTML
    template also with the markup real pages carry unseen."""
    headline = f"{rng.choice(SUBJECTS)}, {rng.choice(PREDICATES)} ({number})"
    title = expected["title"]
    for written in dict.fromkeys([title, html.escape(title), json.dumps(title, ensure_ascii=False)[1:-1]]):
        text = text.replace(written, headline)  # as shown, in meta tags, in JSON-LD
    text = lengthen(text, expected["body_last"], paragraphs(rng))
    text = URL.sub(lambda m: f"{m.group(1)}-{number}", text)
    text = WIDGET_TEMPERATURE.sub(lambda m: f"{m.group(1)} {rng.randint(-12, 34)}{m.group(2)}", text)
    return weigh(text, number, rng) if "</body>" in text else text


SECTIONS = ["정치", "경제", "사회", "국제", "산업", "금융", "증권", "부동산", "IT·과학", "문화", "스포츠", "오피니언"]


def weigh(html: str, number: int, rng: random.Random) -> str:
    """`html` with unseen markup of a real page's weight (all our own): links, meta tags and a stylesheet before
    </head>; inline scripts, ad slots, an icon sprite, hidden fields and a counting pixel before </body>."""
    html = html.replace("</head>", "".join(_head_markup(rng)) + "</head>", 1)
    at = html.rindex("</body>")
    return html[:at] + "\n".join(_body_markup(number, rng)) + html[at:]


def _head_markup(rng: random.Random) -> list[str]:
    version = f"{rng.randint(2019, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    rules = "".join(
        f".box-{i}{{margin:{rng.randint(0, 24)}px 0;padding:{rng.randint(0, 16)}px;border-top:1px solid #e{i % 10}e}}"
        for i in range(rng.randint(20, 40))
    )
    return [
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="format-detection" content="telephone=no">',
        '<meta name="referrer" content="origin-when-cross-origin">',
        '<meta name="robots" content="max-image-preview:large"><meta name="theme-color" content="#1a3d7c">',
        *(f'<link rel="preconnect" href="https://{host}.example">' for host in ("static", "img", "ad", "log")),
        *(f'<link rel="stylesheet" href="/css/{name}.css?v={version}">' for name in ("reset", "layout", "article")),
        *(f'<script src="/js/{name}.js?v={version}"></script>' for name in ("lib.min", "common", "ad", "share")),
        '<link rel="icon" href="/favicon.ico"><link rel="apple-touch-icon" href="/img/touch-icon.png">',
        f"<style>{rules}</style>",
    ]


def _body_markup(number: int, rng: random.Random) -> list[str]:
    menu = [
        {"id": f"S{k:02d}", "name": name, "url": f"/news/section.html?sc=S{k:02d}",
         "sub": [{"id": f"S{k:02d}{j:02d}", "url": f"/news/section.html?sc=S{k:02d}{j:02d}"} for j in range(1, 6)]}
        for k, name in enumerate(SECTIONS, 1)
    ]  # fmt: skip
    page = f"{{articleNo: {number}, section: 'S{rng.randint(1, 12):02d}', ts: {rng.randint(10**9, 2 * 10**9)}}}"
    sizes = ["300, 250", "728, 90", "320, 100"]
    scripts = [
        f"window.siteMenu = {json.dumps(menu, ensure_ascii=False)};",
        f"var pageInfo = {page};",
        "(function (w, d) { var q = w.viewQueue = w.viewQueue || []; q.push(['view', pageInfo.articleNo]);"
        " var s = d.createElement('script'); s.async = true; s.src = '/log/view.js';"
        " d.head.appendChild(s); })(window, document);",
        *(f"adQueue.push({{slot: 'ad-{slot}', size: [{rng.choice(sizes)}], refresh: {rng.randint(0, 60)}}});"
          for slot in range(rng.randint(6, 12))),
        "document.querySelectorAll('.share button').forEach(function (b) { b.addEventListener('click',"
        " function () { share(b.dataset.channel, location.href); }); });",
    ]  # fmt: skip

    def path() -> str:
        return f'<path d="M{rng.randint(0, 24)} {rng.randint(0, 24)}l{rng.randint(1, 9)} {rng.randint(1, 9)}"/>'

    icons = "".join(
        f'<symbol id="icon-{i}" viewBox="0 0 24 24">{"".join(path() for _ in range(3))}</symbol>'
        for i in range(rng.randint(60, 90))
    )
    return [
        *(f"<script>{script}</script>" for script in scripts),
        *(f'<div class="ad-slot" id="ad-{slot}" data-unit="/{number % 97}/news/{slot}"><ins class="ad"></ins></div>'
          for slot in range(rng.randint(6, 12))),
        f'<svg xmlns="http://www.w3.org/2000/svg" style="display:none">{icons}</svg>',
        *(f'<input type="hidden" name="f{i}" value="{rng.randint(0, 99999)}">' for i in range(rng.randint(5, 15))),
        f'<img src="/log/pv.gif?no={number}" width="1" height="1" alt="">',
    ]  # fmt: skip


def lengthen(text: str, last: str, added: list[str]) -> str:
    """`text` with the `added` paragraphs after its last body paragraph `last`, each written as `last` is: the
    markup before and after it on its line, and the line breaks before its line."""
    at = text.rindex(last)
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_end - 1 : line_end] == "\r":
        line_end -= 1
    above = text[:line_start]
    breaks = above[len(above.rstrip("\r\n")) :]
    before, after = text[line_start:at], text[at + len(last) : line_end]
    return text[:line_end] + "".join(f"{breaks}{before}{paragraph}{after}" for paragraph in added) + text[line_end:]


def paragraphs(rng: random.Random) -> list[str]:
    """4 to 12 paragraphs of two or three sentences about one article's person, company and places, no sentence
    twice."""
    family = rng.choice(FAMILY_NAMES)
    title = rng.choice(TITLES)
    people = [family + rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES) + rng.choice(GIVEN_NAMES)]
    company, rival = rng.sample(COMPANIES, 2)

    def written(sentence: str) -> str:
        text = sentence.format(
            person=people[0], other=people[1], company=company, rival=rival, title=title, short=f"{family} {title}",
            place=rng.choice(PLACES), research=rng.choice(RESEARCH), broker=rng.choice(BROKERS),
            ministry=rng.choice(MINISTRIES), university=rng.choice(UNIVERSITIES), n=rng.randint(2, 9),
            m=rng.randint(1, 9), k=rng.randint(1, 9), pct=rng.randint(2, 19), day=rng.randint(1, 28),
            month=rng.randint(1, 12),
        )  # fmt: skip
        return PARTICLE.sub(lambda p: _particle(p.group(1), p.group(2)), text)

    sentences = rng.sample(SENTENCES, len(SENTENCES))  # each sentence at most once in an article
    added = []
    for _ in range(rng.randint(*ADDED_PARAGRAPHS)):
        count = rng.randint(*SENTENCES_PER_PARAGRAPH)
        added.append(" ".join(written(sentences.pop()) for _ in range(count)))
    return added


def _particle(word_end: str, particle: str) -> str:
    """은/는, 이/가, 을/를, 과/와: the first after a syllable with a final consonant, the second after one without."""
    syllable = ord(word_end) - 0xAC00
    closed = not 0 <= syllable < 11172 or syllable % 28 != 0
    return particle if closed else PARTICLE_AFTER_VOWEL[particle]


def fingerprint() -> str:
    """A digest of what the pages are made from (this script and the example pages): the same seed gives the same
    pages only while it is unchanged, so a cache of generated pages is keyed by it too."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in [*sorted(EXAMPLES.iterdir()), ROOT / "examples" / "expected.json"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


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
            name, text, encoding, expected = rng.choice(articles)
            data = vary(text, expected, number, rng).encode(encoding)
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
