"""Unit tests of the pure transforms on small inline frames."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import newsflow.transforms.pages
from newsflow.core.schema import version_keys
from newsflow.drafting.rules import load_entity_model, load_rules
from newsflow.profiles import STATIONS
from newsflow.sources.pages import read_pages
from newsflow.transforms.articles import parse_articles
from newsflow.transforms.entities import entities
from newsflow.transforms.html import extracted_body, html_fields
from newsflow.transforms.layouts import Layout, first_match, layout_of_pages
from newsflow.transforms.lines import clean_text, page_lines
from newsflow.transforms.pages import parse_pages, rejected_by_validation
from newsflow.transforms.timestamps import iso_groups, iso_timestamp, timestamp_from_groups
from newsflow.transforms.weather import capture_dates, weather_readings
from tests.conftest import EXAMPLES, raw_page

RULES = load_rules()
MODEL = load_entity_model()
LAYOUTS = RULES.layouts


def lines_of(text: str, page_id: str = "p1") -> pl.DataFrame:
    return page_lines(
        pl.DataFrame({"page_id": [page_id], "text": [text]}).with_columns(text=clean_text(pl.col("text")))
    )


def test_clean_text_normalises_line_ends_spaces_and_split_bylines():
    text = "\ufeff제목\r\n\r\n김현호\r\n\r\n\u00a0\u00a0기자\r\n본문\u0000 끝"
    cleaned = pl.select(clean_text(pl.lit(text))).item()
    assert cleaned == "제목\n\n김현호 기자\n본문 끝"


def test_page_lines_numbers_non_blank_lines_from_zero():
    got = lines_of("  첫 줄  \n\n\n둘째   줄\n \n셋째")
    expected = pl.DataFrame(
        {"page_id": ["p1"] * 3, "line_no": [0, 1, 2], "line": ["첫 줄", "둘째 줄", "셋째"]},
        schema_overrides={"line_no": pl.Int32},
    )
    assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("• 서울 24℃", (None, "서울", 24.0)),
        ("• 흐림동두천 5.9℃", ("흐림", "동두천", 5.9)),
        ("• 구름많음강릉 10.5℃", ("구름많음", "강릉", 10.5)),
        ("• 눈철원 -3.2℃", ("눈", "철원", -3.2)),
        ("• 맑음고창 ℃", ("맑음", "고창", None)),
        ("· 부산 22℃", (None, "부산", 22.0)),
    ],
)
def test_weather_reading_from_one_widget_line(line, expected):
    got = weather_readings(lines_of(line)).row(0, named=True)
    assert (got["condition"], got["station"], got["temperature_c"]) == expected


def test_weather_skips_bare_values_and_lines_below_the_article_header():
    lines = lines_of("• 서울 24℃\n4℃\n등록 2024.06.13 17:17\n• 대전 30℃")
    header = pl.DataFrame({"page_id": ["p1"], "line_no": [2]}, schema_overrides={"line_no": pl.Int32})
    got = weather_readings(lines, before_line=header)
    assert got.select("position", "station").to_dicts() == [{"position": 0, "station": "서울"}]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2024년 09월 28일 토요일", date(2024, 9, 28)),
        ("2025.12.20 (토)", date(2025, 12, 20)),
        ("2025.12.5 - 금요일", date(2025, 12, 5)),
        ("2024년 02월 30일 금요일", None),
    ],
)
def test_capture_date_lines(line, expected):
    got = capture_dates(lines_of(line))
    assert (got["capture_date"].to_list() or [None]) == [expected]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({"y": "2024", "m": "06", "d": "13", "H": "17", "M": "17", "ampm": None}, "2024-06-13 17:17"),
        ({"y": "2024", "m": "2", "d": "10", "H": "3", "M": "30", "ampm": "오후"}, "2024-02-10 15:30"),
        ({"y": "2024", "m": "2", "d": "10", "H": "12", "M": "05", "ampm": "오전"}, "2024-02-10 00:05"),
        ({"y": "2024", "m": "13", "d": "10", "H": "3", "M": "30", "ampm": None}, None),
        ({"y": "2024", "m": "2", "d": "10", "H": "25", "M": "30", "ampm": None}, None),
    ],
)
def test_timestamps_are_korea_time_or_null(groups, expected):
    frame = pl.DataFrame([groups], schema=dict.fromkeys(groups, pl.String))
    stamp = frame.select(timestamp_from_groups(pl.struct(pl.all()))).item()
    assert (stamp.strftime("%Y-%m-%d %H:%M") if stamp else None) == expected
    if stamp:
        assert str(stamp.tzinfo) == "Asia/Seoul"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-13T17:17:45+09:00", "2024-06-13 17:17"),
        (" 2024-06-13T08:17:00Z ", "2024-06-13 17:17"),
        ("2024-06-13T10:17:00.123-05:00", "2024-06-14 00:17"),
        ("2024-06-13 17:17", "2024-06-13 17:17"),  # no offset: Korea time
        ("2024-06-13", "2024-06-13 00:00"),
        ("2024-02-30T10:00:00+09:00", None),
        ("13 June 2024", None),
        (None, None),
    ],
)
def test_iso_timestamps_from_meta_tags_are_korea_time(text, expected):
    frame = pl.DataFrame({"text": [text]}, schema={"text": pl.String}).with_columns(g=iso_groups(pl.col("text")))
    stamp = frame.select(iso_timestamp(pl.col("g"))).item()
    assert (stamp.strftime("%Y-%m-%d %H:%M") if stamp else None) == expected
    if stamp:
        assert str(stamp.tzinfo) == "Asia/Seoul"


def test_first_match_takes_the_first_pattern_and_fills_missing_groups():
    frame = pl.DataFrame({"line": ["a=1", "b=2", "c"]})
    got = frame.select(first_match(pl.col("line"), [r"^a=(?P<x>\d)$", r"^b=(?P<y>\d)$"], ["x", "y"]).alias("m")).unnest(
        "m"
    )
    assert got.to_dicts() == [{"x": "1", "y": None}, {"x": None, "y": "2"}, {"x": None, "y": None}]


def test_layout_detection_prefers_profiles_and_falls_back_to_generic():
    texts = ["2024년 09월 28일 토요일\n등록 2024.06.13 17:17", "입력 2025-12-20 09:56", "아무 페이지"]
    got = pl.DataFrame({"text": texts}).select(layout=layout_of_pages(pl.col("text"), LAYOUTS))["layout"].to_list()
    assert got == ["kr-business-daily", "kr-wire-agency", "generic"]


def test_a_bad_profile_pattern_is_refused_with_its_name():
    with pytest.raises(ValueError, match="layout broken: bad registered pattern"):
        Layout(name="broken", site="x", registered=("(unclosed",))


ARTICLE = """2024년 06월 14일 금요일
• 서울 24℃
경제 금융
새 예금 상품 출시
등록 2024.06.13 09:05
박하늘
  기자
공유
금리 우대 조건 단순화연말까지 한정 판매
행사장 모습. 사진=가나은행 제공행사장 모습. 사진=가나은행 제공
가나은행이 새 예금 상품을 내놓았다.
최민수 가나은행 행장은 "고객 편의를 높였다"고 말했다.
ad
댓글"""


def test_parse_articles_splits_header_subtitle_caption_and_body():
    lines = lines_of(ARTICLE).with_columns(layout=pl.lit("kr-business-daily"))
    got = parse_articles(lines, LAYOUTS).row(0, named=True)
    assert (got["section"], got["subsection"], got["title"]) == ("경제", "금융", "새 예금 상품 출시")
    assert got["registered_at"].strftime("%Y-%m-%d %H:%M") == "2024-06-13 09:05"
    assert got["reporters"] == [{"name": "박하늘", "email": None}]
    assert got["subtitles"] == ["금리 우대 조건 단순화연말까지 한정 판매"]
    assert got["captions"] == [{"text": "행사장 모습.", "credit": "가나은행"}]
    assert got["body"] == [
        "가나은행이 새 예금 상품을 내놓았다.",
        '최민수 가나은행 행장은 "고객 편의를 높였다"고 말했다.',
    ]


def test_parse_pages_gives_every_page_a_status_and_reason():
    raw = pl.concat(
        [
            raw_page(ARTICLE, "a"),
            raw_page(ARTICLE, "b").with_columns(content_hash=pl.lit("aaaaaaaa")),  # same bytes as a
            raw_page("2024년 06월 14일 금요일\n• 서울 24℃\n경제 전체기사\n기사 하나", "c"),
            raw_page(ARTICLE.split("공유")[0], "d"),
        ]
    )
    got = parse_pages(raw, RULES)
    statuses = dict(zip(got.pages["page_id"], got.pages["status"], strict=True))
    assert statuses == {"a": "article", "b": "duplicate", "c": "not_article", "d": "rejected"}
    assert got.pages.filter(page_id="b")["reason"].item() == "same bytes as page a"
    assert got.articles["page_id"].to_list() == ["a"]
    assert sorted(got.weather["page_id"].to_list()) == [
        "a",
        "c",
        "d",
    ]  # not_article and rejected keep weather


def known_from(parsed) -> pl.DataFrame:
    """What the warehouse would know after landing `parsed`."""
    return parsed.articles.select("page_id", "article_id", version_key=version_keys()).with_columns(
        content_hash=pl.lit("old")
    )


def test_a_later_version_of_a_known_article_lands_as_an_article():
    first = parse_pages(raw_page(ARTICLE, "a"), RULES)
    updated = ARTICLE.replace("등록 2024.06.13 09:05", "등록 2024.06.13 09:05\n수정 2024.06.13 11:20")
    again = parse_pages(raw_page(updated, "b"), RULES, known_from(first))
    assert again.pages.select("status", "reason").row(0) == (
        "article",
        "parsed with layout kr-business-daily; a new version of an article already landed",
    )
    assert again.articles["article_id"].to_list() == first.articles["article_id"].to_list()
    assert again.articles["updated_at"].item().strftime("%H:%M") == "11:20"


def test_parse_pages_marks_an_article_already_in_the_warehouse_as_duplicate():
    first = parse_pages(raw_page(ARTICLE, "a"), RULES)
    known = known_from(first)
    again = parse_pages(raw_page(ARTICLE + "\n", "z"), RULES, known)
    assert again.pages.select("status", "reason").row(0) == ("duplicate", "same article as page a")
    assert again.articles.is_empty()


def test_entities_from_name_org_title_chains():
    articles = pl.DataFrame(
        {"article_id": ["x"], "body": [["최민수 가나은행 행장이 말했다.", "최민수 행장은 웃었다."]]}
    )
    got = entities(articles, MODEL).sort("entity_type")
    assert got.select(
        "entity_type", "canonical", "mention_count", "first_offset", "person_title", "person_org"
    ).rows() == [
        ("organisation", "가나은행", 1, 4, None, None),
        ("person", "최민수", 2, 0, "행장", "가나은행"),
    ]


def test_a_page_whose_article_was_quarantined_becomes_rejected_with_the_expectations():
    pages = pl.DataFrame({"page_id": ["a", "b"], "status": ["article", "article"], "reason": ["ok", "ok"]})
    quarantined = pl.DataFrame(
        {
            "row": ['{"article_id": "x", "page_id": "b"}'],
            "failed_expectations": [["expect_column_values_to_not_be_null(title)", "expect_x(y)"]],
        }
    )
    got = rejected_by_validation(pages, quarantined)
    assert got.rows() == [
        ("a", "article", "ok"),
        ("b", "rejected", "article row quarantined: expect_column_values_to_not_be_null(title), expect_x(y)"),
    ]


def test_a_truncated_copy_never_hides_the_full_article():
    raw = pl.concat([raw_page(ARTICLE.split("공유")[0], "a-truncated"), raw_page(ARTICLE, "b-full")])
    got = parse_pages(raw, RULES)
    assert dict(zip(got.pages["page_id"], got.pages["status"], strict=True)) == {
        "a-truncated": "rejected",
        "b-full": "article",
    }
    assert got.articles["page_id"].to_list() == ["b-full"]


def test_english_widget_city_over_its_temperature_is_one_reading():
    lines = lines_of("Seoul\n12.5°C\nMin 8°C / Max 15°C\nWind 2.1 m/s\nHumidity 45%\nToday\n3°C\nBusan\n-1℃")
    got = weather_readings(lines, stations=RULES.stations)
    assert got.select("city", "station", "temperature_c").rows() == [("Seoul", "서울", 12.5), ("Busan", "부산", -1.0)]


def test_the_station_table_resolves_every_widget_city_to_one_station_in_korea():
    stations = RULES.stations
    assert stations["name"].is_unique().all()
    for city, station in [
        ("백령", "백령도"),
        ("강진", "강진군"),
        ("경주", "경주시"),
        ("울릉도", "울릉도"),
        ("Seoul", "서울"),
    ]:
        assert stations.filter(name=city)["station"].item() == station
    table = pl.read_csv(STATIONS)
    assert table["latitude"].is_between(33.0, 38.7).all() and table["longitude"].is_between(124.5, 132.0).all()
    assert table.height >= 90 and table["station"].is_unique().all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("네이버·카카오 등 플랫폼 기업이 투자했다.", [("organisation", "네이버"), ("organisation", "카카오")]),
        ("삼성전자는 MS와 손잡았다.", [("organisation", "삼성전자"), ("organisation", "MS")]),
        (
            "마크 저커버그 메타 CEO가 팔로 알토에서 말했다.",
            [("person", "마크 저커버그"), ("organisation", "메타"), ("location", "팔로 알토")],
        ),
        ("이명박 전 대통령이 말했다.", [("person", "이명박")]),
        ("최현우 도원케미칼 대표가 말했다.", [("person", "최현우"), ("organisation", "도원케미칼")]),
        ("경찰은 김씨를 조사했다.", [("organisation", "경찰"), ("person", "김")]),
    ],
)
def test_entity_mentions(text, expected):
    from newsflow.transforms.entities import mentions

    assert [(m.type, m.text) for m in mentions(text, MODEL)] == expected


def test_a_person_keeps_title_and_organisation_and_short_forms_count():
    from newsflow.transforms.entities import article_entities

    rows = article_entities("요수아 벤지오 캐나다 몬트리올대 교수가 왔다. 벤지오 교수는 웃었다.", MODEL)
    person = next(r for r in rows if r["entity_type"] == "person")
    assert (person["canonical"], person["person_org"], person["person_title"], person["mention_count"]) == (
        "요수아 벤지오",
        "몬트리올대",
        "교수",
        2,
    )
    assert ("location", "캐나다") in {(r["entity_type"], r["canonical"]) for r in rows}


def test_an_organisation_before_the_name_is_the_persons_organisation():
    from newsflow.transforms.entities import article_entities

    rows = article_entities("삼성전자 이재용 회장이 왔다. 이재용은 회장이 되었다.", MODEL)
    assert [
        (r["canonical"], r["person_org"], r["person_title"], r["mention_count"])
        for r in rows
        if r["entity_type"] == "person"
    ] == [("이재용", "삼성전자", "회장", 2)]


def test_html_fields_and_the_extracted_body_of_one_page():
    page = (
        "<!doctype html><html><head><title>t</title>"
        '<meta property="og:title" content="가람전자, 해외 공장 착공">'
        '<meta property="article:published_time" content="2024-03-05T09:30:00+09:00"></head><body>'
        "<nav><ul><li>경제</li><li>사회</li></ul></nav><article><h1>가람전자, 해외 공장 착공</h1>"
        "<p>가람전자가 해외 공장 착공식을 열었다고 5일 밝혔다. 회사는 새 공장에서 내년부터 부품을 만든다.</p>"
        "<p>공장은 연간 부품 백만 개를 만들 수 있는 규모로, 가람전자는 현지 인력 300명을 뽑기로 했다.</p>"
        "</article><!-- 광고 --><p>\x01Copyright 누리일보</p></body></html>"
    )
    fields = html_fields(page)
    assert fields["meta_title"] == "가람전자, 해외 공장 착공"
    assert fields["meta_published"] == "2024-03-05T09:30:00+09:00"
    assert extracted_body(page) == [  # headline and footer: html_bodies drops them by the layout's rules
        "가람전자, 해외 공장 착공",
        "가람전자가 해외 공장 착공식을 열었다고 5일 밝혔다. 회사는 새 공장에서 내년부터 부품을 만든다.",
        "공장은 연간 부품 백만 개를 만들 수 있는 규모로, 가람전자는 현지 인력 300명을 뽑기로 했다.",
        "Copyright 누리일보",
    ]
    lines = [line.strip() for line in fields["visible_text"].splitlines()]
    assert "• 경제" in lines and "Copyright 누리일보" in lines  # list bullets kept, control characters gone
    # a fragment is read as a whole document: no indentation from a wrapper element
    fragment = html_fields("<!-- c --><p>첫 문단</p><p>둘째 문단</p>")["visible_text"]
    assert [line for line in fragment.splitlines() if line] == ["첫 문단", "둘째 문단"]


def test_html_metadata_prefers_json_ld_then_the_first_meta_tag_with_content():
    page = (
        '<html><head><meta property="og:title"><meta name="og:title" content=" 누리일보 단독 "><link rel="canonical">'
        '<link rel="canonical" href="https://nuri.example/1"><meta property="article:section" content="경제">'
        '<script type="application/ld+json">{"@graph": [{"@type": "WebSite"}, {"@type": ["NewsArticle"], '
        '"datePublished": "2024-03-05T09:30:00+09:00", "author": [{"name": " 한가람 "}, "박누리"]}]}</script>'
        "</head><body><p>본문</p></body></html>"
    )
    fields = html_fields(page)
    assert (fields["meta_title"], fields["meta_url"], fields["meta_section"]) == (
        "누리일보 단독", "https://nuri.example/1", "경제",
    )  # fmt: skip
    assert (fields["meta_published"], fields["meta_authors"], fields["meta_is_article"]) == (
        "2024-03-05T09:30:00+09:00", [{"name": "한가람", "email": None}, {"name": "박누리", "email": None}], True,
    )  # fmt: skip


def test_the_visible_text_is_what_a_browser_shows():
    page = (
        "<html><head><title>제목 - 누리일보</title></head><body>"
        '<div class="info"><span class="section">사회</span><span>입력 :2024/05/17 20:28</span></div>'
        '<figure><img src="a.jpg" alt="대체 문구"><figcaption>공장 전경. (사진=누리일보 DB)</figcaption></figure>'
        "<ul><li>• 맑음서울 24.1℃</li><li><ul><li>안쪽 항목</li></ul></li></ul>"
        '<button type="button">공유하기</button><noscript>스크립트를 켜 주세요</noscript></body></html>'
    )
    lines = [line.strip() for line in html_fields(page)["visible_text"].splitlines() if line]
    # inline elements run on (the section name glued to 입력, as FORMATS.md shows); a figure's caption but not its
    # image's alt text; bullets kept; no <title>, buttons or <noscript>
    assert lines == ["사회입력 :2024/05/17 20:28", "공장 전경. (사진=누리일보 DB)", "• • 맑음서울 24.1℃", "• 안쪽 항목"]


def counted_extractor(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The og:url of each page the body extractor runs on from now on, in order (filled as it runs)."""
    urls: list[str] = []

    def counting(document: str) -> list[str]:
        urls.append(pl.select(pl.lit(document).str.extract(r'og:url" content="([^"]+)"')).item())
        return extracted_body(document)

    monkeypatch.setattr(newsflow.transforms.pages, "extracted_body", counting)
    return urls


def test_html_pages_of_layouts_with_rules_for_the_body_skip_the_extractor_and_land_the_same_rows(monkeypatch):
    html = sorted(EXAMPLES.glob("*.html"))
    extracted = counted_extractor(monkeypatch)
    by_rules = parse_pages(read_pages([str(p) for p in html]), RULES)
    # only the page no kr-* profile fits (generic: bodies by the extractor) is extracted
    assert extracted == ["https://www.saebyeok-biz.example/news/articleView.html?idxno=31877"]
    generic = by_rules.pages.filter(pl.col("layout") == "generic")["source"].to_list()
    assert [Path(source).name for source in generic] == ["25_online_business.html"]

    extracted.clear()
    extractor_only = tuple(dataclasses.replace(layout, html_body="extractor") for layout in RULES.layouts)
    all_extracted = dataclasses.replace(RULES, layouts=extractor_only)
    by_extractor = parse_pages(read_pages([str(p) for p in html]), all_extracted)
    assert len(extracted) == len(html) == 6
    assert_frame_equal(by_rules.articles, by_extractor.articles)
    assert by_rules.articles.height == 6 and by_rules.articles["paragraph_count"].min() >= 3


def test_html_pages_that_are_no_articles_skip_the_extractor(monkeypatch):
    page = (
        '<!doctype html><html><head><meta property="og:url" content="https://list.example/reporter/77">'
        '<meta property="og:type" content="website"></head><body><h1>한누리 기자</h1><p>기자별 뉴스보기</p><ul>'
        + "".join(f"<li><a href='/news/{n}'>가람전자 공장 {n}차 공사</a> 2024.05.{n:02d}</li>" for n in range(1, 9))
        + "</ul></body></html>"
    )
    extracted = counted_extractor(monkeypatch)
    parsed = parse_pages(raw_page(page), RULES)
    assert extracted == []  # nothing would keep its body
    assert parsed.articles.is_empty()
    assert parsed.pages.select("status", "reason").row(0) == ("not_article", "not an article: reporter page")


def test_an_html_page_whose_rules_find_no_body_takes_the_extractors_body(monkeypatch):
    page = (EXAMPLES / "21_biz_daily.html").read_text(encoding="utf-8")
    extracted = counted_extractor(monkeypatch)
    headless = page.replace("등록 2024.06.13 17:17", "")  # the rules find no header; the JSON-LD says article
    parsed = parse_pages(raw_page(headless), RULES)
    assert len(extracted) == 1
    row = parsed.articles.row(0, named=True)
    assert (parsed.pages["layout"].item(), parsed.pages["status"].item()) == ("kr-business-daily", "article")
    assert row["body"][0].startswith("도원케미칼이 충북 청주시 오창읍에 1조2000억원을 들여")
    assert str(row["registered_at"]) == "2024-06-13 17:17:00+09:00"  # the JSON-LD datePublished
