"""transforms.embedded: the article of a JS-rendered page from its state blobs, on small blobs of our own writing."""

from __future__ import annotations

import json

import pytest

from newsflow.transforms.embedded import embedded_article

ARC_CONTENT = {
    "_id": "ABC123",
    "type": "story",
    "headlines": {"basic": "하늘마을 도서관, 밤 10시까지 문 연다"},
    "content_elements": [
        {"type": "text", "content": "하늘마을 <b>공공도서관</b>이 다음 달부터 평일 운영 시간을 늘린다."},
        {"type": "image", "url": "https://example.test/a.jpg", "caption": "도서관 열람실"},
        {"type": "header", "content": "주민 요청 반영", "level": 2},
        {"type": "raw_html", "content": "<div class='ad'>광고</div>"},
        {"type": "text", "content": "관장은 &quot;야간 이용객이 많다&quot;고 말했다."},
        {"type": "interstitial_link", "content": "관련 기사 보기"},
        {"type": "text", "content": "  "},
    ],
    "credits": {"by": [{"type": "author", "name": "서도윤 기자"}, {"type": "author", "name": "한별"}]},
    "first_publish_date": "2024-03-05T01:20:00.000Z",
    "display_date": "2024-03-05T02:00:00.000Z",
    "last_updated_date": "2024-03-05T03:45:10.120Z",
}
ARC_BODY = [
    "하늘마을 공공도서관이 다음 달부터 평일 운영 시간을 늘린다.",
    "주민 요청 반영",
    '관장은 "야간 이용객이 많다"고 말했다.',
]


def arc_script(content: dict) -> str:
    return (
        'window.Fusion=window.Fusion||{};Fusion.arcSite="demo";'
        f"Fusion.globalContent={json.dumps(content, ensure_ascii=False)};"
        'Fusion.globalContentConfig={"source":"content-api","query":{"id":"ABC123"}};'
    )


def test_arc_xp_story() -> None:
    scripts = ["var dataLayer = [];", arc_script(ARC_CONTENT)]
    assert embedded_article(scripts) == {
        "title": "하늘마을 도서관, 밤 10시까지 문 연다",
        "body": ARC_BODY,
        "published": "2024-03-05T01:20:00.000Z",
        "modified": "2024-03-05T03:45:10.120Z",
        "authors": ["서도윤 기자", "한별"],
        "section": None,
    }


@pytest.mark.parametrize(
    ("dates", "published"),
    [
        ({"publish_date": "2024-03-06T00:00:00Z", "display_date": "2024-03-07T00:00:00Z"}, "2024-03-06T00:00:00Z"),
        ({"display_date": "2024-03-07T00:00:00Z"}, "2024-03-07T00:00:00Z"),
        ({}, None),
    ],
)
def test_arc_xp_published_falls_back(dates: dict, published: str | None) -> None:
    content = {k: v for k, v in ARC_CONTENT.items() if not k.endswith("_date")} | dates
    article = embedded_article([arc_script(content)])
    assert article is not None
    assert (article["published"], article["modified"]) == (published, None)


NEXT_DATA = {
    "props": {
        "pageProps": {
            "site": {"title": "가온일보", "text": "가온일보 - 믿을 수 있는 지역 뉴스"},
            "article": {
                "articleId": 88123,
                "articleTitle": "바닷길 여객선 운항 재개",
                "content": "<p>기상 악화로 멈췄던 여객선이 <a href='/tag/1'>오늘</a> 다시 뜬다.</p>"
                "<p>선사는 첫 배를 오전 7시에 띄운다.<br>승객은 신분증을 챙겨야 한다.</p>"
                "<figure><img src='x.jpg'></figure>"
                "마지막 배는 오후 6시다.<br/><br/>문의는 선사로.",
                "publishedAt": 1715488200000,
                "updatedAt": "2024-05-12 14:30:00",
                "reporters": [{"reporterName": "오세린"}, {"reporterName": "강민재 기자"}, {"reporterName": ""}],
            },
            "related": [{"title": "다른 기사", "text": "짧은 요약"}],
        }
    },
    "page": "/article/[id]",
    "query": {"id": "88123"},
    "buildId": "b1",
}


def test_next_data() -> None:
    script = json.dumps(NEXT_DATA, ensure_ascii=False)
    assert embedded_article(['{"@context":"https://schema.org"}', script]) == {
        "title": "바닷길 여객선 운항 재개",
        "body": [
            "기상 악화로 멈췄던 여객선이 오늘 다시 뜬다.",
            "선사는 첫 배를 오전 7시에 띄운다. 승객은 신분증을 챙겨야 한다.",
            "마지막 배는 오후 6시다.",
            "문의는 선사로.",
        ],
        "published": "2024-05-12T04:30:00Z",
        "modified": "2024-05-12 14:30:00",
        "authors": ["오세린", "강민재 기자"],
        "section": None,
    }


INITIAL_STATE = """
window.__INITIAL_STATE__ = {
  user: {loggedIn: false, name: undefined},
  menu: [{title: '정치', text: '정치'}, {title: '경제', text: '경제'},],
  article: {
    newsTitle: '별빛시장 상인회, 주말 야시장 연다',
    subTitle: undefined,
    articleBody: '이번 주말 야시장이 열린다.\\n\\n좌판 40곳이 선다.\\n상인회는 "손님이 늘 것"이라 했다.',
    regDate: "2023-09-01 09:00:00",
    modDate: undefined,
    writer: {name: '윤하람 기자', email: 'haram@example.test'},
  },
};
window.__APP_VERSION__ = '1.2.3';
"""


def test_initial_state_js_literal() -> None:
    assert embedded_article(["console.log(1)", INITIAL_STATE]) == {
        "title": "별빛시장 상인회, 주말 야시장 연다",
        "body": [
            "이번 주말 야시장이 열린다.",
            "좌판 40곳이 선다.",
            '상인회는 "손님이 늘 것"이라 했다.',
        ],
        "published": "2023-09-01 09:00:00",
        "modified": None,
        "authors": ["윤하람 기자 (haram@example.test)"],  # the email as a byline prints it
        "section": None,
    }


@pytest.mark.parametrize(
    ("script", "title", "body", "published", "authors"),
    [
        (
            'window.__PRELOADED_STATE__ = {"news": {"detail": {"subject": "들꽃축제 개막", '
            '"contents": ["들꽃축제가 오늘 개막했다.", "<p>행사는 닷새 동안 이어진다.</p>"], '
            '"createdAt": 1693526400, "author": "남궁솔 기자, 이도하 기자"}}}',
            "들꽃축제 개막",
            ["들꽃축제가 오늘 개막했다.", "행사는 닷새 동안 이어진다."],
            "2023-09-01T00:00:00Z",
            ["남궁솔 기자, 이도하 기자"],
        ),
        (
            'window.__PRELOADED_STATE__=JSON.parse("{\\"story\\":{\\"headline\\":\\"강변 자전거길 개통\\",'
            '\\"html\\":\\"<p>강변 자전거길이 열렸다.</p>\\",\\"date\\":\\"2023-10-02\\",'
            '\\"authors\\":[\\"모아란\\",\\"모아란\\"]}}");',
            "강변 자전거길 개통",
            ["강변 자전거길이 열렸다."],
            "2023-10-02",
            ["모아란"],
        ),
        (
            "window.__NUXT__={data:[{post:{title:'산골학교 졸업식',body:{html:'<p>졸업생은 세 명이다.</p>'},"
            "published_at:'2024-02-14T10:00:00+09:00',byline:[{writerName:'차우진'}]}}],state:{}}",
            "산골학교 졸업식",
            ["졸업생은 세 명이다."],
            "2024-02-14T10:00:00+09:00",
            ["차우진"],
        ),
        (
            "window.__NUXT__=(function(a,b,c){return {data:[{article:{title:a,content:b,date:c,reporter:void 0}}],"
            'fetch:{}}}("물안개 호수 둘레길 정비","둘레길 정비가 끝났다.\\n\\n다음 주 개방한다.","2024-04-01"));',
            "물안개 호수 둘레길 정비",
            ["둘레길 정비가 끝났다.", "다음 주 개방한다."],
            "2024-04-01",
            [],
        ),
    ],
    ids=["preloaded-json", "preloaded-json-parse", "nuxt-literal", "nuxt-function"],
)
def test_state_blobs(script: str, title: str, body: list[str], published: str, authors: list[str]) -> None:
    assert embedded_article([script]) == {
        "title": title,
        "body": body,
        "published": published,
        "modified": None,
        "authors": authors,
        "section": None,
    }


def test_longest_body_wins() -> None:
    state = {
        "teaser": {"title": "짧은 기사", "body": "한 줄."},
        "main": {"title": "긴 기사", "body": "첫 문단이 길다.\n둘째 문단도 있다."},
        "untitled": {"body": "제목 없는 아주 아주 아주 아주 아주 아주 긴 본문은 기사가 아니다."},
    }
    article = embedded_article([f"window.__INITIAL_STATE__={json.dumps(state, ensure_ascii=False)};"])
    assert article is not None
    assert (article["title"], article["body"]) == ("긴 기사", ["첫 문단이 길다.", "둘째 문단도 있다."])


def test_chartbeat_authors_only() -> None:
    scripts = [
        "var _sf_async_config = _sf_async_config || {};\n_sf_async_config.uid = 12345;\n"
        "_sf_async_config.authors = '정다온,  류시현 ,';\n_sf_async_config.sections = '사회';"
    ]
    assert embedded_article(scripts) == {
        "title": None,
        "body": [],
        "published": None,
        "modified": None,
        "authors": ["정다온", "류시현"],
        "section": None,
    }


def test_chartbeat_authors_fill_an_article_without_any() -> None:
    content = {k: v for k, v in ARC_CONTENT.items() if k != "credits"}
    article = embedded_article([arc_script(content), '_sf_async_config.authors = "정다온";'])
    assert article is not None
    assert (article["body"], article["authors"]) == (ARC_BODY, ["정다온"])


def test_blob_authors_win_over_chartbeat() -> None:
    article = embedded_article(["_sf_async_config.authors = '정다온';", arc_script(ARC_CONTENT)])
    assert article is not None
    assert article["authors"] == ["서도윤 기자", "한별"]


@pytest.mark.parametrize(
    "scripts",
    [
        [],
        ["", "var a = 1;", "gtag('config', 'G-XXXX');"],
        ['{"@context": "https://schema.org", "@type": "NewsArticle"}'],
        ['Fusion.globalContent={"headlines":{"basic":"잘린 제목'],
        ["Fusion.globalContent=null;"],
        ["Fusion.globalContent={};Fusion.globalContentConfig={};"],
        ['{"props": {"pageProps": {"article": {"title": "제목", "content": '],
        ['{"props": {"pageProps": {}}, "page": "/"}'],
        ["window.__INITIAL_STATE__ = {article: {title: '제목', body: '본문"],
        ["window.__INITIAL_STATE__ = undefined;"],
        ["window.__INITIAL_STATE__ = {article: {title: '', body: '본문만 있다'}};"],
        ["window.__PRELOADED_STATE__ = JSON.parse('broken');"],
        ['window.__PRELOADED_STATE__ = JSON.parse("{not json");'],
        ["window.__NUXT__=(function(a){return {x:"],
        ["if (window.__NEXT_DATA__) { init(); }"],
        ["_sf_async_config.authors = '';"],
        ["_sf_async_config.authors = undefined;"],
    ],
    ids=lambda scripts: "|".join(s[:30] for s in scripts) or "none",
)
def test_no_article(scripts: list[str]) -> None:
    assert embedded_article(scripts) is None


def test_malformed_blob_does_not_hide_a_later_one() -> None:
    scripts = ["window.__INITIAL_STATE__ = {article: {title: '제목', body: '본문", arc_script(ARC_CONTENT)]
    article = embedded_article(scripts)
    assert article is not None
    assert article["title"] == "하늘마을 도서관, 밤 10시까지 문 연다"


def test_deep_nesting_is_bounded() -> None:
    state: dict = {"title": "깊은 곳", "body": "찾지 않는다."}
    for _ in range(40):
        state = {"child": state}
    assert embedded_article([f"window.__INITIAL_STATE__={json.dumps(state, ensure_ascii=False)};"]) is None
