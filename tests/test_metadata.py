"""The page's own statements about its article (newsflow.transforms.metadata) and the HTML helpers built on them, each
read from small pages of our own in the shapes outlets publish."""

from __future__ import annotations

import polars as pl
import pytest
from resiliparse.parse.html import HTMLTree

from newsflow.drafting.rules import load_rules
from newsflow.transforms.html import extracted_body, html_fields, is_html, valid_section
from newsflow.transforms.metadata import (
    guessed_time,
    iso_time,
    lenient_json,
    page_metadata,
    registered_domain,
    reporters,
    shown_headline,
    strip_site_suffix,
)
from newsflow.transforms.pages import parse_pages
from tests.conftest import raw_page

URL = "https://a.example/1"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": "줄\n바꿈\t탭"}', {"a": "줄\n바꿈\t탭"}),  # raw control characters in a string
        ('{\n  // 기사 정보\n  "url": "https://a.example/1", /* 주석 */ "b": [1, 2,],\n}', {"url": URL, "b": [1, 2]}),
        ('<!-- {"a": 1} -->', {"a": 1}),
        ('{"a": 1};', {"a": 1}),
        ("{not json", None),
    ],
)  # fmt: skip
def test_json_ld_is_read_leniently(text, value):
    assert lenient_json(text) == value


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2023-04-07T19:13:00+09:00", "2023-04-07T19:13:00+09:00"),
        ("2023-04-07", "2023-04-07"),
        ("01:38:07 PM IST Nov 20, 2019", "2019-11-20T13:38:07+05:30"),
        ("01:38:07 PM KST Apr 20, 2023", "2023-04-20T13:38:07+09:00"),
        ("2023.04.07 19:13", "2023-04-07T19:13:00"),
        ("2023/04/07", "2023-04-07"),
        (1683680400000, "2023-05-10T01:00:00+00:00"),
        ("어제", None),
        ("", None),
    ],
)
def test_metadata_times_become_iso_8601(value, iso):
    assert iso_time(value) == iso


@pytest.mark.parametrize(
    ("title", "names", "clean"),
    [
        ("갑천 벚꽃길 밤 10시까지 개방 - 다온신문", ["다온신문"], "갑천 벚꽃길 밤 10시까지 개방"),
        ("갑천 벚꽃길 밤 10시까지 개방 | 가람방송 뉴스", [], "갑천 벚꽃길 밤 10시까지 개방"),
        ("엘제이-류화영 진흙탕 싸움 - Entermedia", [], "엘제이-류화영 진흙탕 싸움"),
        ("수출 8% 반등 - 반도체가 이끌었다", ["한울일보"], "수출 8% 반등 - 반도체가 이끌었다"),
        ("시내버스 노선 전면 개편 < 사회 < 기사본문 - 한울신문", [], "시내버스 노선 전면 개편"),
        ("시내버스 노선 전면 개편 ｜ 한울경제", [], "시내버스 노선 전면 개편"),
        ("시내버스 노선 전면 개편 │ 한울일보", [], "시내버스 노선 전면 개편"),
    ],
)
def test_a_site_suffix_is_cut_off_a_title_and_nothing_else(title, names, clean):
    assert strip_site_suffix(title, names) == clean


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (["한지우 기자"], [("한지우", None)]),
        (["이남경 가람스포츠 기자(namgyeong@garam.example)"], [("이남경", "namgyeong@garam.example")]),
        (["김도현·박소율 기자"], [("김도현", None), ("박소율", None)]),
        (["오세린", "오세린 기자"], [("오세린", None)]),
        (["[푸른뉴스 정하늘 기자]"], []),  # a bracketed byline is the outlet's furniture, not an author field
        (["By Jane Roe"], [("Jane Roe", None)]),
        (["온라인뉴스팀"], []),
    ],
)
def test_author_fields_give_reporters_without_title_outlet_or_email(values, found):
    assert [(r["name"], r["email"]) for r in reporters(values)] == found


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://news.kbs.co.kr/news/view.do?ncd=1", "kbs.co.kr"),
        ("http://www.yna.co.kr/view/AKR2023", "yna.co.kr"),
        ("https://imnews.imbc.com/news/2023/1.html", "imbc.com"),
        ("https://www.hanul-ilbo.example/news/articleView.html?idxno=1", "hanul-ilbo.example"),
        ("not a url", None),
    ],
)
def test_the_site_key_is_the_registered_domain(url, domain):
    assert registered_domain(url) == domain


def test_sections_that_are_no_sections_are_null():
    values = [
        "사회",
        "상세페이지",
        "본문 영역",
        "society",
        "news_politics",
        "iMBC 연예",
        "가람TV 연예",
        "IT·과학",
        None,
    ]
    got = pl.select(valid_section(pl.Series(values, dtype=pl.String))).to_series().to_list()
    assert got == ["사회", None, None, None, None, None, None, "IT·과학", None]


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<!DOCTYPE html><html><body>x</body></html>", True),
        ("\ufeff\n  <!doctype html><html></html>", True),
        ("<script>var a = 1;</script>\n<!DOCTYPE html><html></html>", True),
        ("<!-- 광고 -->\n\n<!-- 끝 -->\n<html lang='ko'>", True),
        ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', True),
        ("<바르셀로나(스페인)=윤상은 기자>\n본문", False),
        ("2024년 09월 28일 토요일\n• 서울 24℃", False),
    ],
)
def test_html_is_recognised_by_its_content_near_the_start(text, html):
    assert pl.select(is_html(pl.lit(text))).item() is html


def test_json_ld_in_several_blocks_graph_and_a_person_list():
    page = (
        '<html><head><script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": ['
        '{"@type": "ListItem", "position": 2, "name": "경제"}, {"@type": "ListItem", "position": 1, "name": "홈"}]}'
        '</script><script type="application/ld+json">{"@graph": [{"@type": "WebSite", "name": "한결경제"}, '
        '{"@type": "NewsArticle", "headline": "예금금리 &quot;4%대&quot; 복귀",'
        ' "datePublished": "2023-05-02T10:11:00+09:00",'
        ' "author": [{"@type": "Person", "name": "배서연 기자"}, {"@type": "Organization", "name": "한결경제"}],'
        ' "publisher": {"@type": "Organization", "name": "한결경제"}}]}</script></head>'
        '<body><h1>예금금리 "4%대" 복귀</h1></body></html>'
    )
    meta = page_metadata(HTMLTree.parse(page))
    assert meta["meta_title"] == '예금금리 "4%대" 복귀'
    assert meta["meta_published"] == "2023-05-02T10:11:00+09:00"
    assert meta["meta_authors"] == [{"name": "배서연", "email": None}]
    assert (meta["meta_site_name"], meta["meta_breadcrumb"], meta["meta_is_article"]) == (
        "한결경제",
        ["홈", "경제"],
        True,
    )


def test_the_visible_headline_wins_over_a_metadata_title_that_differs_only_in_look():
    page = (
        '<html><head><meta property="og:title" content="스쿨존 &quot;우회전 일시정지&quot; 석 달 | 가람방송 뉴스">'
        '<meta property="og:type" content="ARTICLE"></head><body><h1>스쿨존 “우회전 일시정지” 석 달</h1></body></html>'
    )
    fields = html_fields(page)
    assert (fields["meta_title"], fields["meta_is_article"]) == ("스쿨존 “우회전 일시정지” 석 달", True)


def test_microdata_time_element_and_meta_tags_are_read_in_order_of_trust():
    microdata = (
        '<html><body><article itemscope itemtype="https://schema.org/NewsArticle"><h1 itemprop="headline">청자 특별전'
        '</h1><time itemprop="datePublished" datetime="2023-08-17T09:40:00+09:00">8월 17일</time><span itemprop='
        '"author" itemscope><span itemprop="name">문가온 기자</span></span></article></body></html>'
    )
    meta = page_metadata(HTMLTree.parse(microdata))
    assert (meta["meta_title"], meta["meta_published"]) == ("청자 특별전", "2023-08-17T09:40:00+09:00")
    assert meta["meta_authors"] == [{"name": "문가온", "email": None}]
    time_only = (
        '<html><body><h1>제목</h1><time datetime="2023-10-02">어제</time><time datetime="2023-10-02T07:10:00+09:00">'
    )
    assert page_metadata(HTMLTree.parse(time_only))["meta_published"] == "2023-10-02T07:10:00+09:00"
    portal = '<html lang="ko"><body><span data-date-time="2023-10-02 07:10:00">2023.10.02. 오전 7:10</span>'
    assert page_metadata(HTMLTree.parse(portal))["meta_published"] == "2023-10-02 07:10:00"  # Korea time
    foreign = '<html lang="en"><body><time datetime="2019-11-19 19:31:39">Nov 19</time></body></html>'
    assert page_metadata(HTMLTree.parse(foreign))["meta_published"] == "2019-11-19 19:31:39Z"  # UTC, not Korea
    tag = '<html><head><meta property="article:published_time" content="2023-10-02T07:10:00+09:00"></head></html>'
    assert page_metadata(HTMLTree.parse(tag))["meta_published"] == "2023-10-02T07:10:00+09:00"


def test_htmldate_is_the_last_resort_for_a_time():
    page = (
        "<html><head><title>제목</title></head><body><h1>제목</h1><p>2023년 11월 3일 게재</p>"
        '<p>본문입니다.</p><div class="date">2023-11-03 14:20</div></body></html>'
    )
    assert guessed_time(page) is not None and guessed_time(page).startswith("2023-11-03")


@pytest.mark.parametrize(
    ("heading", "title", "shown"),
    [
        ("스쿨존 “우회전 일시정지” 석 달", '스쿨존 "우회전 일시정지" 석 달', True),
        ("[단독] 가람전자, 해외 공장 착공", "가람전자, 해외 공장 착공", True),
        ("가람전자, 해외 공장 착공(종합)", "가람전자, 해외 공장 착공", True),
        ("가람전자, 해외 공장 착공…내년부터 부품 생산", "가람전자, 해외 공장 착공…", True),
        ("한울일보", "가람전자, 해외 공장 착공", False),
        ("가람전자, 해외 공장 착공 관련 기사 모음과 독자 의견 게시판", "가람전자, 해외 공장 착공", False),
    ],
)
def test_the_visible_headline_is_the_metadata_title_as_printed(heading, title, shown):
    assert shown_headline(heading, title, title) is shown


@pytest.mark.parametrize(
    ("heading", "title", "shown"),
    [
        ("Sweden drops Assange rape investigation", "Julian Assange: Sweden drops rape investigation", True),
        ("가람전자, 베트남에 해외 공장 착공", "가람전자 해외 공장 착공…베트남 첫 생산기지", True),
        ("Why My Friend Became a Grocery Store", "Chasing Instagram Analytics, People Are Becoming Stores", False),
    ],
)
def test_the_h1_is_the_metadata_headline_reworded_a_little(heading, title, shown):
    assert shown_headline(heading, title, title, fuzzy=True) is shown
    assert not shown_headline(heading, title, title, fuzzy=False) or heading in title


PARAGRAPHS = "".join(
    f"<p>{sentence}</p>"
    for sentence in (
        "새솔시가 내년 예산안을 12조원 규모로 편성했다고 3일 밝혔다. 올해보다 4.2% 늘어난 규모다.",
        "시는 노인 일자리 사업에 올해보다 800억원 많은 예산을 배정했고, 시내버스 노선 개편에도 1200억원을 쓰기로 했다.",
        "시의회는 다음 달 본회의에서 예산안을 심의한다. 일부 의원들은 재정 건전성을 우려하는 목소리를 내고 있다.",
        '한 시의원은 "세입 전망이 낙관적인 만큼 지방채 발행 계획을 다시 따져봐야 한다"고 말했다.',
    )
)


def test_an_article_with_no_metadata_and_no_label_takes_its_time_from_htmldate_and_says_so():
    page = (
        '<!DOCTYPE html><html lang="ko"><head><title>새솔시 내년 예산 12조원 편성 - 새솔일보</title></head><body>'
        f'<h1>새솔시 내년 예산 12조원 편성</h1><div class="date">2023-11-03 14:20</div>{PARAGRAPHS}</body></html>'
    )
    parsed = parse_pages(raw_page(page), load_rules())
    page_row, article = parsed.pages.row(0, named=True), parsed.articles.row(0, named=True)
    assert page_row["status"] == "article"
    assert article["title"] == "새솔시 내년 예산 12조원 편성"
    assert article["registered_at"].strftime("%Y-%m-%d %H:%M") == "2023-11-03 14:20"
    assert "registration time guessed by htmldate" in page_row["reason"]
    assert "no byline found" in page_row["reason"] and "no section found" in page_row["reason"]


def test_a_body_split_into_containers_of_one_class_is_extracted_whole():
    """The story, an ad rail, the story again, each half in a container of the same class (as wired.com lays
    out long stories): trafilatura alone keeps the first half."""

    def paragraphs(mark: str, count: int) -> str:
        sentence = "는 새 공장 착공식을 열었다고 밝혔다. 회사는 내년부터 부품을 만든다."
        return "".join(f"<p>{' '.join(f'{mark}{i}{sentence}' for i in range(3))} ({k})</p>" for k in range(count))

    rail = (
        '<div class="rail"><div class="ad">광고</div><ul>'
        + "".join(f'<li><a href="/a{i}">관련 기사 {i}</a></li>' for i in range(8))
        + "</ul></div>"
    )
    half = '<div class="grid"><div class="grid--item body article__body">{}</div>' + rail + "</div>"
    page = (
        "<html><head><title>t</title></head><body><main><article><h1>가람전자 해외 공장 착공</h1>"
        + half.format(paragraphs("가", 4)) + half.format(paragraphs("나", 6))
        + "</article></main><footer>Copyright</footer></body></html>"
    )  # fmt: skip
    body = extracted_body(page)
    assert len(body) == 10 and body[0].startswith("가0") and body[-1].endswith("(5)")
