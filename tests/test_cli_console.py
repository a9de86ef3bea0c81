"""The command line as a console program: --version, -h, examples in every help, `-` for standard input, entity
types as people spell them, `schema`, output that pipes well, the progress bar, and what Prefect may print."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import newsflow
from newsflow.cli import app
from newsflow.cli.output import PIPED_WIDTH, Output
from newsflow.core.dictionary import TABLE_VIEWS, bundled_views_folder, readable_type, view_descriptions
from newsflow.core.schema import ARTICLES, ENTITY_TYPES, STATIONS, TABLES, entity_type
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)
VIEWS = ["article_versions", "article_entities", "entity_pairs", "person_roles", "weather_daily", "weather_readings"]
NAMES = [*TABLES, "stations", *VIEWS]
CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def newsflow_process(*args: str, env: dict[str, str] | None = None, **options) -> subprocess.CompletedProcess:
    """The command in a child process, its stdout and stderr pipes (not terminals)."""
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env or os.environ.copy(),
        **options,
    )


# --- --version, -h, examples ------------------------------------------------------------------------------------


def test_version_prints_the_package_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"newsflow {newsflow.__version__}\n" == "newsflow 0.1.0\n"


def test_the_commands_are_all_there():
    assert {"run", "extract", "entities", "sql", "schema", "status", "compact", "verify", "attach", "report"} <= set(
        COMMANDS
    )


def test_minus_h_is_help_on_the_app():
    short, long = invoke("-h"), invoke("--help")
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output
    assert "--version" in short.output and "--verbose" in short.output and "--quiet" in short.output
    assert "Examples:" in short.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_minus_h_and_shows_examples(command):
    short, long = invoke(command, "-h"), invoke(command, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output
    examples = short.output[short.output.index("Examples:") :]
    # every example line starts with a command, and the command's own is among them
    assert f"newsflow {command}" in examples


def test_run_minus_h_shows_its_examples_in_a_real_process():
    done = newsflow_process("run", "-h")
    assert done.returncode == 0, done.stderr
    examples = done.stdout[done.stdout.index("Examples:") :]
    assert "newsflow run examples/pages" in examples
    assert "newsflow run -" in examples  # standard input
    assert "--json" in examples


# --- entity types --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelt", "stored"),
    [
        ("person", "person"),
        ("people", "person"),
        ("PS", "person"),
        ("Person", "person"),
        ("organisation", "organisation"),
        ("organization", "organisation"),
        ("ORG", "organisation"),
        ("og", "organisation"),
        ("location", "location"),
        ("place", "location"),
        ("LC", "location"),
        (" Places ", "location"),
    ],
)
def test_entity_types_are_taken_as_people_spell_them(spelt, stored):
    assert entity_type(spelt) == stored
    assert stored in ENTITY_TYPES


@pytest.mark.parametrize("spelt", ["company", "", "persons of interest", "DT"])
def test_an_unknown_entity_type_names_the_valid_ones(spelt):
    with pytest.raises(ValueError, match=r"use person .* organisation .* location"):
        entity_type(spelt)


LINE = "이재용 삼성전자 회장이 미국 뉴욕을 찾았다.\n"


@pytest.mark.parametrize(
    ("types", "texts"),
    [
        (["--type", "ORGANIZATION"], ["삼성전자"]),
        (["-t", "PS"], ["이재용"]),
        (["-t", "place"], ["미국 뉴욕"]),
        (["-t", "people", "-t", "og"], ["이재용", "삼성전자"]),
        ([], ["이재용", "삼성전자", "미국 뉴욕"]),
    ],
)
def test_entities_type_filter_accepts_every_spelling(types, texts):
    result = invoke("entities", "-", *types, input=LINE)
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [span["text"] for span in found] == texts
    assert {span["type"] for span in found} <= set(ENTITY_TYPES)


def test_entities_with_an_unknown_type_exits_2_naming_the_valid_values():
    result = invoke("entities", "-", "--type", "company", input=LINE)
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "unknown entity type 'company'" in message
    assert "person (or people, PS), organisation (organization, org, OG) or location (place, LC)" in message


# --- `-` reads standard input ----------------------------------------------------------------------------------------


def test_entities_dash_reads_standard_input_as_no_argument_does():
    dash, bare = invoke("entities", "-", input=LINE + "경찰은 김씨를 조사했다.\n"), invoke("entities", input=LINE)
    assert dash.exit_code == bare.exit_code == 0
    assert len(dash.output.splitlines()) == 2
    assert dash.output.splitlines()[0] == bare.output.strip()


def test_extract_dash_parses_a_page_from_standard_input():
    page = (EXAMPLES / "06_regional_daily.txt").read_bytes()
    result = invoke("extract", "-", str(EXAMPLES / "07_section_list.txt"), "--json", input=page)
    assert result.exit_code == 0, result.output
    piped, listing = (json.loads(line) for line in result.output.splitlines())
    assert piped["page"]["source"] == "-" and piped["page"]["status"] == "article"
    assert piped["article"]["registered_at"] == "2024-05-17T20:28:00+09:00"
    assert listing["page"]["status"] == "not_article"


def test_sql_with_neither_query_nor_file_or_a_missing_file_is_a_usage_error(tmp_path):
    assert invoke("sql").exit_code == 2
    missing = invoke("sql", "-f", str(tmp_path / "none.sql"))
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_run_dash_with_nothing_on_standard_input_is_a_usage_error(tmp_path):
    result = invoke("run", "-", "--warehouse", str(tmp_path / "wh"), input="\n\n")
    assert result.exit_code == 2
    assert "reads the sources from standard input, one a line, and it listed none" in " ".join(result.output.split())


# --- schema --------------------------------------------------------------------------------------------------------


def test_schema_lists_every_table_and_view_with_its_description(tmp_path):
    result = invoke("schema", "--format", "json", "--warehouse", str(tmp_path / "none"))
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json.loads(result.output)}
    assert list(listed) == NAMES
    for table in (*TABLES.values(), STATIONS):
        assert listed[table.name] == {"name": table.name, "kind": "table", "description": table.description}
    views = view_descriptions(bundled_views_folder())
    for view in VIEWS:
        assert listed[view]["kind"] == "view"
        assert listed[view]["description"] == (TABLE_VIEWS[view] if view in TABLE_VIEWS else views[view])


def test_schema_of_a_table_gives_each_column_its_type_nullability_and_meaning(tmp_path):
    result = invoke("schema", "articles", "--format", "json", "--warehouse", str(tmp_path / "none"))
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert (described["name"], described["kind"], described["description"]) == (
        "articles",
        "table",
        ARTICLES.description,
    )
    assert described["columns"] == [
        {"name": c.name, "type": readable_type(c.dtype), "nullable": c.nullable, "meaning": c.description}
        for c in ARTICLES.columns
    ]
    assert described["columns"][10] == {
        "name": "registered_at",
        "type": "timestamp (Asia/Seoul)",
        "nullable": True,
        "meaning": "Registration (first publication) time, Korea time.",
    }


def test_schema_of_a_view_without_a_warehouse_describes_it_as_duckdb_would(tmp_path):
    result = invoke("schema", "weather_daily", "--format", "json", "--warehouse", str(tmp_path / "none"))
    assert result.exit_code == 0, result.output
    columns = {c["name"]: c for c in json.loads(result.output)["columns"]}
    assert list(columns)[:3] == ["capture_date", "station", "region"]
    assert columns["capture_date"]["type"] == "date" and columns["sites"]["type"] == "integer (64-bit)"
    versions = json.loads(invoke("schema", "article_versions", "--format", "json", "-w", str(tmp_path)).output)
    meaning = {c["name"]: c["meaning"] for c in versions["columns"]}
    assert meaning["title"] == "Headline as printed, once."
    assert meaning["is_current"] == "Whether this is the latest version, the one `articles` shows."
    assert [c["type"] for c in versions["columns"] if c["name"] == "subtitles"] == ["list of string"]


def test_schema_table_and_markdown_formats(tmp_path):
    table = invoke("schema", "stations", "-w", str(tmp_path))
    assert table.exit_code == 0
    assert re.search(r"│ latitude\s+│ float \(64-bit\)\s+│ no\s+│ Latitude in decimal degrees", table.output)
    markdown = invoke("schema", "stations", "--format", "markdown", "-w", str(tmp_path))
    lines = markdown.output.splitlines()
    assert lines[0] == "### stations"
    assert (
        "| `aliases` | string | yes | Other names weather widgets print for the station, '\\|'-separated; or null. |"
        in (lines)
    )
    listing = invoke("schema", "--format", "markdown", "-w", str(tmp_path)).output.splitlines()
    assert listing[:2] == ["| name | kind | description |", "|---|---|---|"] and len(listing) == 2 + len(NAMES)


def test_schema_of_an_unknown_name_exits_2_listing_the_valid_ones(tmp_path):
    result = invoke("schema", "article", "-w", str(tmp_path))
    assert result.exit_code == 2
    assert f"no table or view 'article'; there are: {', '.join(NAMES)}" in " ".join(result.output.split())
    assert invoke("schema", "ARTICLES", "-w", str(tmp_path)).exit_code == 0  # names are not case-sensitive


# --- output that pipes ---------------------------------------------------------------------------------------------


def test_a_wide_table_is_not_wrapped_when_stdout_is_a_pipe(tmp_path):
    done = newsflow_process("schema", "--warehouse", str(tmp_path / "none"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    description = view_descriptions(bundled_views_folder())["weather_readings"]
    [row] = [line for line in lines if line.startswith("│ weather_readings ")]
    assert description in row  # whole, on one line
    assert len(row) > 300
    assert {len(line) for line in lines if line[:1] in "┏┃┡│└"} == {len(row)}  # every line of the table as wide


def test_output_is_as_wide_as_a_line_needs_off_a_terminal_and_as_the_terminal_on_one():
    assert Output(file=io.StringIO()).width == PIPED_WIDTH

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert Output(file=Terminal(), width=100).width == 100


def test_the_progress_bar_shows_pages_speed_and_eta(monkeypatch):
    import newsflow.cli.progress as cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "errors", Console(file=screen, force_terminal=True, width=120))
    with cli._progress_bar(shown=True) as progress:
        progress(0, 10)
        progress(4, 10)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "reading pages" in shown and "4/10 pages" in shown and "pages/s" in shown and "ETA" in shown
    with cli._progress_bar(shown=False) as progress:
        assert progress is None  # the flow then reports to nobody


# --- real runs: the progress bar, Prefect's log lines, `run -` --------------------------------------------------------


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def run_env(api_url: str) -> dict[str, str]:
    """The environment of a bare command line: the test harness's Prefect API, no console level of the user's."""
    env = {k: v for k, v in os.environ.items() if k != CONSOLE_LEVEL}
    return {**env, "PREFECT_API_URL": api_url}


@pytest.mark.e2e
def test_the_progress_bar_shows_when_stderr_is_a_terminal(api_url, tmp_path):
    master, terminal = pty.openpty()
    # a machine's first Prefect import in a terminal (a new PREFECT_HOME) would print Prefect's telemetry notice
    env = {k: v for k, v in run_env(api_url).items() if k not in ("DO_NOT_TRACK", "CI")}
    env |= {"TERM": "xterm", "COLUMNS": "120", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    command = [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "-w", str(tmp_path / "wh"), "--batch-size", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    screen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end closed
                return
            if not chunk:
                return
            screen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    out, _ = process.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(screen).decode("utf-8", "replace"))
    assert process.returncode == 0, shown
    assert re.search(r"reading pages .* \d+/26 pages [\d.,]+ pages/s ETA", shown)
    assert "26/26 pages" in shown
    assert "Prefect collects anonymous usage data" not in shown and "View at http" not in shown
    assert "pages found" in out.decode()  # the summary, on stdout


@pytest.mark.e2e
def test_verbose_shows_prefects_own_log_lines(api_url, tmp_path):
    done = newsflow_process(
        "-v", "run", str(EXAMPLES / "01_biz_economy.txt"), "-w", str(tmp_path), env=run_env(api_url)
    )
    assert done.returncode == 0, done.stderr
    assert "Task run 'draft-batch-" in done.stderr and "Finished in state Completed()" in done.stderr
    assert "Beginning flow run" in done.stderr
    assert "pages/s" not in done.stderr  # stderr is a pipe: no progress bar


@pytest.mark.e2e
def test_quiet_shows_only_errors_and_run_dash_reads_sources_from_standard_input(api_url, tmp_path):
    listed = f"{EXAMPLES / '01_biz_economy.txt'}\n\n{EXAMPLES / '05_wire_agency.txt'}\n"
    done = newsflow_process("run", "-", "-q", "-w", str(tmp_path / "wh"), env=run_env(api_url), input=listed)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert re.search(r"pages found\s+│\s+2 │", done.stdout)
    pages = Warehouse.at(tmp_path / "wh").read("pages")
    assert sorted(pages["source"].to_list()) == [
        str(EXAMPLES / "01_biz_economy.txt"),
        str(EXAMPLES / "05_wire_agency.txt"),
    ]
    failed = newsflow_process("-q", "run", str(tmp_path / "missing"), "-w", str(tmp_path / "wh"), env=run_env(api_url))
    assert failed.returncode == 2 and "source not found" in failed.stderr  # errors still show


@pytest.mark.parametrize("args", [["-v", "-q", "status"], ["run", str(EXAMPLES), "-v", "-q"]])
def test_verbose_and_quiet_together_are_a_usage_error(args, tmp_path):
    result = invoke(*args, "--warehouse", str(tmp_path / "wh"))
    assert result.exit_code == 2
    assert "-v/--verbose and -q/--quiet exclude each other" in result.output
