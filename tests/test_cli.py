"""The command line: exit codes, extract --json, read-only sql."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, EXPECTED

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "serve", "deploy", "extract", "entities", "sql", "compact", "status", "report"):
        assert f"│ {command} " in result.output


@pytest.mark.parametrize(
    ("pages", "docs", "shown"),
    [
        (0, None, "Data Docs:  none yet: no page has been validated"),
        (3, None, "Data Docs:  not built (see the log)"),
        (0, "/wh/data_docs/index.html", "Data Docs:  /wh/data_docs/index.html"),  # an unchanged run: earlier docs
    ],
)
def test_the_run_summary_says_why_there_are_no_data_docs(capsys, pages, docs, shown):
    from newsflow.cli import _print_summary
    from newsflow.flows.ingest import RunSummary

    _print_summary(RunSummary(run_id="r", warehouse="/wh", rows={"pages": pages}, data_docs=docs))
    assert shown in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "no/such/folder"), "source not found: no/such/folder"),
        (("run", str(EXAMPLES), "--warehouse", str(EXAMPLES / "08_empty.txt")), "is a file, not a folder"),
        (("extract", "no/such/page.txt"), "does not exist"),
        (("sql", "SELECT 1", "--warehouse", "no/such/warehouse"), "no warehouse at"),
        (("sql",), "give either a QUERY or --file FILE"),
        (("status", "--warehouse", "no/such/warehouse"), "no warehouse at"),
        (("report", "--warehouse", "no/such/warehouse"), "no report yet"),
    ],
)
def test_bad_input_is_a_usage_error_without_traceback(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_unknown_option_is_a_usage_error():
    assert runner.invoke(app, ["run", "--no-such-option"]).exit_code == 2


def test_a_broken_profile_is_a_usage_error(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "bad"\nregistered = ["(unclosed"]\n', encoding="utf-8")
    result = invoke("run", str(EXAMPLES), "--profiles", str(tmp_path))
    assert result.exit_code == 2
    assert "bad registered pattern" in result.output


def test_extract_json_prints_one_object_per_page_with_table_field_names():
    result = invoke("extract", str(EXAMPLES / "06_regional_daily.txt"), str(EXAMPLES / "07_section_list.txt"), "--json")
    assert result.exit_code == 0
    article, listing = (json.loads(line) for line in result.output.splitlines())
    assert set(article) == {"page", "article", "weather", "entities"}
    assert article["page"]["status"] == "article"
    assert article["article"]["section"] == "사회"
    assert article["article"]["registered_at"] == "2024-05-17T20:28:00+09:00"
    assert article["article"]["reporters"] == [{"name": "이재민", "email": None}]
    assert [w["city"] for w in article["weather"]] == ["서울", "인천", "수원", "강화"]
    assert listing["page"]["status"] == "not_article" and listing["article"] is None
    assert len(listing["weather"]) == 5


def newsflow(*args: str, api_url: str) -> subprocess.CompletedProcess:
    """The installed command in a child process, against the test harness's Prefect API."""
    env = {**os.environ, "PREFECT_API_URL": api_url}
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def test_entities_reads_lines_and_prints_spans(tmp_path):
    text = tmp_path / "docs.txt"
    text.write_text("이재용 삼성전자 회장이 미국 뉴욕을 찾았다.\n\n경찰은 김씨를 조사했다.\n", encoding="utf-8")
    result = invoke("entities", str(text))
    assert result.exit_code == 0
    first, empty, third = (json.loads(line) for line in result.output.splitlines())
    assert first == [  # the model's spans, in KLUE's way: a place with the country before it is one place
        {"text": "이재용", "type": "person", "start": 0, "end": 3},
        {"text": "삼성전자", "type": "organisation", "start": 4, "end": 8},
        {"text": "미국 뉴욕", "type": "location", "start": 13, "end": 18},
    ]
    assert empty == []
    assert [e["text"] for e in third] == ["경찰", "김"]
    piped = runner.invoke(app, ["entities"], input="손정의 소프트뱅크 회장\n")
    assert json.loads(piped.output)[0] == {"text": "손정의", "type": "person", "start": 0, "end": 3}


@pytest.mark.e2e
def test_run_strict_exits_3_when_pages_are_rejected(api_url, tmp_path):
    result = newsflow("run", str(EXAMPLES), "--warehouse", str(tmp_path / "wh"), "--strict", api_url=api_url)
    assert result.returncode == 3, result.stderr
    assert "pages rejected" in result.stdout
    assert "--strict: pages were rejected or rows quarantined" in result.stderr


@pytest.mark.e2e
def test_a_crashing_stage_exits_1_and_leaves_the_warehouse_as_it_was(api_url, tmp_path):
    warehouse = tmp_path / "wh"
    first = newsflow("run", str(EXAMPLES / "01_biz_economy.txt"), "--warehouse", str(warehouse), api_url=api_url)
    assert first.returncode == 0, first.stderr
    store = Warehouse.at(warehouse)
    entities = store.root / "data" / "landed" / "entities"
    shutil.rmtree(entities, ignore_errors=True)  # the first run's few entities are inline in the catalog
    entities.write_text("in the way")  # the entities' data files cannot be written: landing fails half-way
    result = newsflow("run", str(EXAMPLES), "--warehouse", str(warehouse), api_url=api_url)
    assert result.returncode == 1
    assert "the run failed, the warehouse is unchanged" in " ".join(result.stderr.split())
    assert [store.read(table).height for table in ("pages", "articles", "entities", "runs")] == [1, 1, 7, 1]


@pytest.mark.e2e
def test_run_lists_its_sources_once_and_its_flow_takes_that_listing(api_url, tmp_path, monkeypatch):
    import newsflow.flows.ingest
    import newsflow.sources.pages

    listed, discover = [], newsflow.sources.pages.discover

    def watched(sources):
        listed.append(list(sources))
        return discover(sources)

    for module in (newsflow.sources.pages, newsflow.flows.ingest):
        monkeypatch.setattr(module, "discover", watched)
    monkeypatch.setenv("PREFECT_API_URL", api_url)
    result = invoke("run", str(EXAMPLES), "--warehouse", str(tmp_path / "wh"), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert listed == [[str(EXAMPLES)]]  # by the command, as it checked its inputs; not again by the flow
    assert Warehouse.at(tmp_path / "wh").read("pages").height == len(EXPECTED)
    assert "validation passed; 0 rows quarantined" in result.output
    again = invoke("run", str(EXAMPLES), "--warehouse", str(tmp_path / "wh"), "--workers", "1")
    assert again.exit_code == 0, again.output
    assert f"nothing new: {len(EXPECTED)} pages seen, all already ingested; nothing validated" in again.output
    assert "validation passed" not in again.output


@pytest.mark.e2e
def test_sql_is_read_only(api_url, tmp_path):
    warehouse = str(tmp_path / "wh")
    assert (
        newsflow("run", str(EXAMPLES / "01_biz_economy.txt"), "--warehouse", warehouse, api_url=api_url).returncode == 0
    )
    result = invoke("sql", "DROP VIEW pages", "--warehouse", warehouse)
    assert result.exit_code == 2
    assert "a DROP statement" in result.output and "is refused" in result.output
    ok = invoke("sql", "SELECT title FROM articles", "--warehouse", warehouse, "--format", "json")
    assert json.loads(ok.output) == [{"title": "한빛은행, 소상공인 대출금리 최대 1.5%p 낮춘다…하반기 3조원 공급"}]


def test_report_says_there_are_no_data_docs_until_a_run_validates_pages(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "latest.html").write_text("<html></html>", encoding="utf-8")
    result = invoke("report", "--warehouse", str(tmp_path))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "Data Docs:            none yet: a run that validates pages builds them" in lines
    assert "latest run with data: none yet: no run has landed pages" in lines
