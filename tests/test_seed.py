"""The seed page, the one the project was created from: every field asserted."""

from __future__ import annotations

import pytest

from tests.conftest import parse_files

WEATHER = [
    ("서울", 24),
    ("인천", 24),
    ("백령", 20),
    ("춘천", 22),
    ("강릉", 18),
    ("청주", 24),
    ("수원", 23),
    ("안동", 22),
    ("울릉도", 23),
    ("독도", 23),
    ("대전", 24),
    ("전주", 26),
    ("광주", 25),
    ("목포", 25),
    ("여수", 25),
    ("대구", 22),
    ("울산", 21),
    ("창원", 24),
    ("부산", 22),
    ("제주", 24),
]
TITLE = '"삼성답게 미래 개척하자" 돌아온 이재용, AI부터 챙겼다(종합)'
SUBTITLE = (
    "지난달 출국 후 2주 동안 미국 출장 마치고 귀국메타·아마존 등 글로벌 빅테크 CEO와 연쇄 회동"
    "줄지어 AI 논의···지난달 전 인류에 AI 혜택 약속"
)
CAPTION = (
    "미국 새너제이에 있는 삼성전자 DSA에서 이재용 삼성전자 회장이 크리스티아노 아몬 퀄컴 사장 겸 CEO와 함께 "
    "기념 사진을 촬영하는 모습."
)


@pytest.fixture(scope="module")
def seed(seed_path):
    return parse_files(seed_path)


@pytest.fixture(scope="module")
def article(seed) -> dict:
    assert seed.articles.height == 1
    return seed.articles.row(0, named=True)


def test_page_is_an_article_of_the_seed_layout(seed):
    page = seed.pages.row(0, named=True)
    assert (page["status"], page["layout"], page["encoding"]) == ("article", "kr-business-daily", "utf-8")


def test_weather_has_twenty_readings_in_page_order(seed):
    weather = seed.weather.sort("position")
    assert list(zip(weather["city"], weather["temperature_c"], strict=True)) == [
        (city, float(t)) for city, t in WEATHER
    ]
    assert weather["position"].to_list() == list(range(20))
    stations = dict(zip(weather["city"], weather["station"], strict=True))
    assert (stations["백령"], stations["울릉도"], stations["서울"], stations["독도"]) == (
        "백령도",
        "울릉도",
        "서울",
        "독도",
    )
    assert weather["condition"].null_count() == 20
    assert {str(d) for d in weather["capture_date"]} == {"2024-09-28"}


def test_header_fields(article):
    assert article["capture_date"].isoformat() == "2024-09-28"
    assert (article["section"], article["subsection"]) == ("산업", "재계")
    assert article["title"] == TITLE
    registered = article["registered_at"]
    assert registered.strftime("%Y-%m-%d %H:%M %Z") == "2024-06-13 17:17 KST"
    assert str(registered.tzinfo) == "Asia/Seoul"
    assert article["updated_at"] is None
    assert article["reporters"] == [{"name": "김현호", "email": None}]


def test_subtitle_kept_and_out_of_the_body(article):
    assert article["subtitles"] == [SUBTITLE]
    assert not any("귀국메타" in p for p in article["body"])


def test_one_caption_with_its_credit_split_off(article):
    assert article["captions"] == [{"text": CAPTION, "credit": "삼성전자"}]
    assert not any("사진=" in p or "기념 사진을 촬영하는 모습" in p for p in article["body"])


def test_body_is_the_ten_paragraphs_and_nothing_else(article):
    body = article["body"]
    assert len(body) == article["paragraph_count"] == 10
    assert body[0] == '"삼성의 강점을 살려 삼성답게 미래를 개척하자"'
    assert body[1].startswith("지난달 31일 미국 출장길에 올랐던 이재용 삼성전자 회장이")
    assert body[-1].startswith("이재용 회장은 AI 석학, 글로벌 AI 기업 CEO들과")
    assert body[-1].endswith("수시로 AI 협력을 모색하는 것으로 알려졌다.")
    furniture = {"공유", "ad", "댓글", "기자", "김현호"}
    assert not furniture & set(body)
    assert not any(TITLE in p or "등록 2024" in p for p in body)
    assert article["char_count"] == sum(len(p) for p in body)


PEOPLE = {
    "이재용": ("삼성전자", "회장"),
    "한스 베스트베리": ("버라이즌", "CEO"),
    "크리스티아노 아몬": ("퀄컴", "사장 겸 CEO"),  # the caption's fuller title
    "마크 저커버그": ("메타", "CEO"),
    "앤디 재시": ("아마존", "CEO"),
    "전영현": (None, "DS부문장"),
    "이정배": (None, "메모리사업부장"),
    "요수아 벤지오": ("몬트리올대", "교수"),
    "사티아 나델라": ("MS", "CEO"),
    "손정의": ("소프트뱅크", "회장"),
}


@pytest.fixture(scope="module")
def seed_entities(seed):
    from newsflow.drafting.rules import load_entity_model
    from newsflow.transforms.entities import entities

    return entities(seed.articles, load_entity_model())


def test_people_with_their_organisation_and_title(seed_entities):
    people = {
        r["canonical"]: (r["person_org"], r["person_title"])
        for r in seed_entities.filter(entity_type="person").to_dicts()
    }
    assert {name: people.get(name) for name in PEOPLE} == PEOPLE


def test_short_forms_count_for_the_full_name(seed, seed_entities):
    lee = seed_entities.filter(canonical="이재용").row(0, named=True)
    assert (lee["mention_count"], lee["first_offset"]) == (9, 47)  # 이재용 x3, 이 회장 x6
    assert "\n".join(seed.articles["body"][0])[47:50] == "이재용"


def test_organisations_and_places(seed_entities):
    kinds = {(r["entity_type"], r["canonical"]) for r in seed_entities.to_dicts()}
    organisations = {"삼성전자", "버라이즌", "퀄컴", "메타", "아마존", "소프트뱅크"}
    places = {"미국", "뉴욕", "새너제이", "팔로 알토", "시애틀", "캐나다"}
    assert {("organisation", o) for o in organisations} | {("location", p) for p in places} <= kinds


def test_no_weather_city_of_the_page_header_is_an_entity_by_the_header(seed_entities):
    # 서울 appears in the body once (AI 서울 정상회의); the 19 other widget cities never do
    cities = {city for city, _ in WEATHER} - {"서울"}
    assert not cities & set(seed_entities["canonical"])
