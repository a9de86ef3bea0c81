"""Every time, byline, caption and footer format of FORMATS.md, each inside a small page of our own."""

from __future__ import annotations

import pytest

from newsflow.drafting.rules import load_rules
from newsflow.transforms.pages import parse_pages
from tests.conftest import raw_page

RULES = load_rules()
BODY = "새솔시가 올해 예산안을 발표했다.\n시는 복지 예산을 늘리기로 했다."


def parse_one(text: str) -> tuple[dict, dict | None]:
    parsed = parse_pages(raw_page(text), RULES)
    article = parsed.articles.row(0, named=True) if parsed.articles.height else None
    return parsed.pages.row(0, named=True), article


def minute(stamp) -> str | None:
    return stamp.strftime("%Y-%m-%d %H:%M") if stamp else None


@pytest.mark.parametrize(
    ("header", "registered", "updated", "approved"),
    [
        ("등록 2024.06.13 17:17", "2024-06-13 17:17", None, None),
        ("입력 2024-09-19 09:56", "2024-09-19 09:56", None, None),
        ("승인 2005.06.27 00:00", None, None, "2005-06-27 00:00"),
        ("입력 :2023/02/28 20:28 수정: 2023/03/01 08:37", "2023-02-28 20:28", "2023-03-01 08:37", None),
        ("정치입력 :2023/02/28 20:28 수정: 2023/03/01 08:37", "2023-02-28 20:28", "2023-03-01 08:37", None),
        ("김다원 기자 2024. 1. 1. 13:18", "2024-01-01 13:18", None, None),
        ("2020-11-21     김다원 기자", "2020-11-21 00:00", None, None),
        ("2024-08-29 10면", "2024-08-29 00:00", None, None),
        ("2024년 2월 10일 오전 3시 30분", "2024-02-10 03:30", None, None),
        ("2024년 2월 10일 오후 3시 30분", "2024-02-10 15:30", None, None),
        ("입력 2024-09-19 09:56\n수정 2024-09-19 11:02", "2024-09-19 09:56", "2024-09-19 11:02", None),
        ("입력 2023.04.07 (19:13)", "2023-04-07 19:13", None, None),
        ("기사입력 :[ 2018-08-25 15:24 ]", "2018-08-25 15:24", None, None),
        ("송고시간 2023-04-20 13:24:13", "2023-04-20 13:24", None, None),
        ("송고시간2023-04-20 13:24", "2023-04-20 13:24", None, None),
        ("2023년 04월 07일 18시 36분", "2023-04-07 18:36", None, None),
        ("등록 2023.05.02 10:11 / 수정 2023.05.02 14:40", "2023-05-02 10:11", "2023-05-02 14:40", None),
        ("최초 입력 2023.06.01 08:00\n최종 수정 2023.06.01 09:30", "2023-06-01 08:00", "2023-06-01 09:30", None),
        ("입력 2023.07.03 오후 3:05", "2023-07-03 15:05", None, None),
        ("입력 2023.04.07. 오후 7:13", "2023-04-07 19:13", None, None),
        ("입력 2023. 4. 7. 19:13", "2023-04-07 19:13", None, None),
        ("[입력시간 : 2018-09-28 17:32]", "2018-09-28 17:32", None, None),
        ("작성일 2023-03-02 오전 12:40", "2023-03-02 00:40", None, None),
        ("입력 23.04.07 19:13 최종 업데이트 23.04.07 20:02", "2023-04-07 19:13", "2023-04-07 20:02", None),
    ],
)
def test_time_formats_become_korea_time(header, registered, updated, approved):
    page, article = parse_one(f"새솔시 예산안 발표\n{header}\n{BODY}")
    assert page["status"] == "article", page["reason"]
    got = (minute(article["registered_at"]), minute(article["updated_at"]), minute(article["approved_at"]))
    assert got == (registered, updated, approved)
    if article["registered_at"]:
        assert str(article["registered_at"].tzinfo) == "Asia/Seoul"


def test_a_time_that_cannot_be_read_is_null_with_a_reason():
    page, article = parse_one(f"새솔시 예산안 발표\n입력 2024-13-45 25:61\n{BODY}")
    assert article["registered_at"] is None
    assert page["status"] == "article"
    assert "time not understood, left null: '입력 2024-13-45 25:61'" in page["reason"]


@pytest.mark.parametrize(
    ("lines", "reporters", "first_paragraph"),
    [
        (["김현호", "\u00a0\u00a0기자"], [("김현호", None)], "새솔시가 올해 예산안을 발표했다."),
        (
            ["(바르셀로나=뉴스1) 양새롬 기자 = 새솔시가 올해 예산안을 발표했다."],
            [("양새롬", None)],
            "새솔시가 올해 예산안을 발표했다.",
        ),
        (["<바르셀로나(스페인)=윤상은 기자>"], [("윤상은", None)], "새솔시가 올해 예산안을 발표했다."),
        (["[데일리임팩트 이승석 기자]"], [("이승석", None)], "새솔시가 올해 예산안을 발표했다."),
        (["[ 경기신문 / 인천 = 이재민 기자 ]"], [("이재민", None)], "새솔시가 올해 예산안을 발표했다."),
        (
            ["케이부동산뉴스 김교민 기자 | 새솔시가 올해 예산안을 발표했다."],
            [("김교민", None)],
            "새솔시가 올해 예산안을 발표했다.",
        ),
        (["김철수·이영희 기자"], [("김철수", None), ("이영희", None)], "새솔시가 올해 예산안을 발표했다."),
        (["박하늘 박하늘 기자"], [("박하늘", None)], "새솔시가 올해 예산안을 발표했다."),
        (["박하늘 선임기자"], [("박하늘", None)], "새솔시가 올해 예산안을 발표했다."),
        (["기자명 박하늘"], [("박하늘", None)], "새솔시가 올해 예산안을 발표했다."),
        (["박하늘 기자 구독"], [("박하늘", None)], "새솔시가 올해 예산안을 발표했다."),
        (
            ["(워싱턴=새벽뉴스) 윤상은 특파원 = 새솔시가 올해 예산안을 발표했다."],
            [("윤상은", None)],
            "새솔시가 올해 예산안을 발표했다.",
        ),
    ],
)
def test_bylines_give_names_without_outlet_place_or_brackets(lines, reporters, first_paragraph):
    head = "\n".join(lines)
    _page, article = parse_one(f"새솔시 예산안 발표\n등록 2024.06.13 17:17\n{head}\n{BODY}")
    assert [(r["name"], r["email"]) for r in article["reporters"]] == reporters
    assert article["body"][0] == first_paragraph
    assert not any("기자" in p for p in article["body"])


@pytest.mark.parametrize(
    ("last_line", "reporter"),
    [
        ("윤웅 기자 yoonyep@kmib.co.kr", ("윤웅", "yoonyep@kmib.co.kr")),
        ("/최재우기자 cjw900@", ("최재우", "cjw900@")),
        ("양지호 기자 (jiho@example.com)", ("양지호", "jiho@example.com")),
        ("이남경 새벽스포츠 기자(namgyeong@example.com)", ("이남경", "namgyeong@example.com")),
        ("칼럼니스트 박생강 saenggang@example.com", ("박생강", "saenggang@example.com")),
        ("정하늘 칼럼니스트 haneul@example.com", ("정하늘", "haneul@example.com")),
    ],
)
def test_a_closing_byline_keeps_the_email_beside_the_name(last_line, reporter):
    _page, article = parse_one(f"새솔시 예산안 발표\n등록 2024.06.13 17:17\n{BODY}\n{last_line}")
    assert [(r["name"], r["email"]) for r in article["reporters"]] == [reporter]
    assert article["body"] == BODY.split("\n")


@pytest.mark.parametrize(
    ("caption_line", "caption"),
    [
        ("시청 전경. 사진=새솔시 제공시청 전경. 사진=새솔시 제공", ("시청 전경.", "새솔시")),
        ("시청 앞 광장 모습 (사진=공동취재단)", ("시청 앞 광장 모습", "공동취재단")),
        ("새 휴대폰 화면 사진=샘모바일 갈무리", ("새 휴대폰 화면", "샘모바일 갈무리")),
        ("▲ 시청 앞 광장 모습 <인천시 제공>", ("시청 앞 광장 모습", "인천시")),
        ("시민들이 줄을 서 있다. ⓒ News1 홍유진 기자", ("시민들이 줄을 서 있다.", "News1 홍유진 기자")),
    ],
)
def test_captions_are_split_from_their_credit_and_kept_out_of_the_body(caption_line, caption):
    _page, article = parse_one(f"새솔시 예산안 발표\n등록 2024.06.13 17:17\n{caption_line}\n{caption_line}\n{BODY}")
    assert [(c["text"], c["credit"]) for c in article["captions"]] == [caption]
    assert article["body"] == BODY.split("\n")


def test_a_credit_glued_to_the_next_sentence_is_cut_off_it():
    glued = "시민들이 줄을 서 있다. ⓒ News1 홍유진 기자새솔시가 올해 예산안을 발표했다."
    _page, article = parse_one(f"새솔시 예산안 발표\n등록 2024.06.13 17:17\n{glued}\n시는 복지 예산을 늘리기로 했다.")
    assert [(c["text"], c["credit"]) for c in article["captions"]] == [("시민들이 줄을 서 있다.", "News1 홍유진 기자")]
    assert article["body"] == BODY.split("\n")


@pytest.mark.parametrize(
    "footer",
    [
        "Copyright ⓒ 뉴스1. All rights reserved. 무단 전재 및 재배포, AI학습 이용금지.",
        "Copyright ⓒ 서울신문 All rights reserved. 무단 전재-재배포, AI 학습 및 활용 금지",
        "저작권자 © 기호일보 - 아침을 여는 신문 무단전재 및 재배포 금지",
        "<저작권자 © 강남포스트, 무단 전재 및 재배포 금지>",
    ],
)
def test_copyright_footers_and_what_follows_never_reach_the_body(footer):
    furniture = "좋아요\n공유하기\n북마크\n스크랩\n기사 전체 보기"
    _page, article = parse_one(
        f"새솔시 예산안 발표\n등록 2024.06.13 17:17\n{BODY}\n{footer}\n{furniture}\n관련 기사 제목"
    )
    assert article["body"] == BODY.split("\n")


def test_weather_in_a_body_is_not_a_widget_and_bare_values_are_skipped():
    text = (
        "2024년 06월 14일 금요일\n• 서울 24℃\n4℃\n새솔시 예산안 발표\n등록 2024.06.13 17:17\n"
        "• 부산 30℃\n그래프 기상청 제공\n" + BODY
    )
    parsed = parse_pages(raw_page(text), RULES)
    assert parsed.weather.select("city", "temperature_c").rows() == [("서울", 24.0)]


def test_a_time_line_at_the_top_of_a_page_is_never_its_own_title():
    page, _article = parse_one(f"등록 2024.06.13 17:17\n{BODY}")
    assert page["status"] == "rejected"
    assert page["reason"].startswith("article header without a title")


def test_a_date_alone_takes_the_time_the_page_prints_on_that_date():
    """Never midnight when the page has a time: a print-edition date line, and the time printed further down."""
    _page, article = parse_one(f"새솔시 예산안 발표\n2024-08-29 10면\n{BODY}\n2024.08.29 14:05 최종 편집")
    assert minute(article["registered_at"]) == "2024-08-29 14:05"
    _page, article = parse_one(f"새솔시 예산안 발표\n2024-08-29 10면\n{BODY}\n2024.08.30 09:00 최종 편집")
    assert minute(article["registered_at"]) == "2024-08-29 00:00"  # another day's time is not this date's
