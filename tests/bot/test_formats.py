"""The output formats of `pystd check`, seen the way their readers see them: a person at a
terminal, a script reading JSON, the GitHub Actions log, and a SARIF consumer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pystd.bot.formats import (
    FORMATS,
    SARIF_SCHEMA_URI,
    TEXT_NOTHING_CHECKED,
    render,
    tool_version,
)
from pystd.bot.messages import PROJECT_URL, rule_docs_url
from pystd.rules.catalogue import select_rules
from pystd.rules.engine import RuleSet, Severity
from pystd.rules.fixes import apply_fix
from pystd.rules.runner import FileResult, check_source

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
RULES = select_rules(["PYS101"])
SLEEPY = "import time\n\nasync def f():\n    time.sleep(1)\n"
FIXED = "import time\nimport asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n"
MESSAGE = "Blocking call `time.sleep` in async code stalls the event loop"


def check(path: str, source: str, rules: RuleSet = RULES) -> FileResult:
    return check_source(path, source.encode(), rules)


def out(results: list[FileResult], fmt: str, sources: dict[str, str] | None = None,
        rules: RuleSet = RULES, color: bool = False) -> str:
    known = sources or {}
    return render(results, fmt, rules=rules, read_source=known.get, color=color)


def sleepy() -> FileResult:
    result = check("app.py", SLEEPY)
    assert len(result.findings) == 1 and result.findings[0].fix is not None
    return result


def with_message(result: FileResult, message: str, path: str | None = None) -> FileResult:
    """The same finding with another message (and path), as another rule might word it."""
    finding = dataclasses.replace(result.findings[0], message=message,
                                  path=path or result.path)
    return FileResult(path or result.path, (finding,))


def test_render_offers_exactly_the_documented_formats() -> None:
    assert FORMATS == ("text", "json", "github", "sarif")
    with pytest.raises(ValueError, match="xml"):
        out([sleepy()], "xml")


# -- json --------------------------------------------------------------------------------


def test_json_items_have_exactly_the_contract_shape() -> None:
    items = json.loads(out([sleepy()], "json"))
    assert items == [
        {
            "code": "PYS101",
            "name": "blocking-call-in-async",
            "severity": "error",
            "path": "app.py",
            "line": 4,
            "end_line": 4,
            "column": 5,
            "end_column": 17,
            "message": MESSAGE,
            "fix": {
                "line": 4,
                "end_line": 4,
                "replacement": "    await asyncio.sleep(1)\n",
                "safe": False,
                "imports": ["import asyncio"],
                "import_line": 2,
            },
        }
    ]
    assert list(items[0]) == ["code", "name", "severity", "path", "line", "end_line",
                              "column", "end_column", "message", "fix"]


def test_json_fix_is_null_without_a_fix_and_has_no_imports_key_without_imports() -> None:
    no_fix = sleepy()
    no_fix = FileResult("a.py", (dataclasses.replace(no_fix.findings[0], path="a.py",
                                                     fix=None),))
    has_asyncio = check("b.py", "import asyncio\nimport time\n\nasync def f():\n    time.sleep(1)\n")
    items = json.loads(out([has_asyncio, no_fix], "json"))
    assert [i["path"] for i in items] == ["a.py", "b.py"]
    assert items[0]["fix"] is None
    assert items[1]["fix"] == {"line": 5, "end_line": 5,
                               "replacement": "    await asyncio.sleep(1)\n", "safe": False}


def test_json_round_trips_into_an_applicable_fix() -> None:
    """A script that reads the JSON can replace the lines and get the fixed code."""
    (item,) = json.loads(out([sleepy()], "json"))
    lines = SLEEPY.splitlines(keepends=True)
    fix = item["fix"]
    lines[fix["line"] - 1 : fix["end_line"]] = [fix["replacement"]]
    assert "".join(lines) == "import time\n\nasync def f():\n    await asyncio.sleep(1)\n"
    assert json.loads(json.dumps(item)) == item


def test_json_is_one_array_sorted_by_path_line_and_column() -> None:
    two = check("z.py", "import time\n\nasync def f():\n    time.sleep(1); time.sleep(2)\n")
    items = json.loads(out([two, sleepy(), check("clean.py", "x = 1\n")], "json"))
    assert [(i["path"], i["line"], i["column"]) for i in items] == [
        ("app.py", 4, 5), ("z.py", 4, 5), ("z.py", 4, 20)]
    assert json.loads(out([], "json")) == []


# -- github ------------------------------------------------------------------------------


def test_github_prints_one_error_command_per_finding() -> None:
    assert out([sleepy()], "github") == (
        "::error file=app.py,line=4,endLine=4,col=5,endColumn=17,"
        f"title=PYS101 blocking-call-in-async::{MESSAGE}"
    )


def test_github_escapes_properties_and_data_as_github_documents() -> None:
    odd = with_message(sleepy(), "100% sure\r\nsee: a, b", path="we:ird,dir/app.py")
    line = out([odd], "github")
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=we%3Aird%2Cdir/app.py,line=4,")
    # In the message only %, CR and LF are special; `:` and `,` stay readable.
    assert line.endswith("::100%25 sure%0D%0Asee: a, b")


def test_github_uses_warning_and_notice_for_lower_severities() -> None:
    warning = check("w.py", SLEEPY, select_rules(["PYS101"], severities={"PYS101": Severity.WARNING}))
    info = check("i.py", SLEEPY, select_rules(["PYS101"], severities={"PYS101": Severity.INFO}))
    lines = out([warning, info], "github").splitlines()
    assert lines[0].startswith("::notice file=i.py,")
    assert lines[1].startswith("::warning file=w.py,")


def test_github_omits_columns_on_a_multi_line_finding() -> None:
    result = sleepy()
    wide = FileResult("app.py", (dataclasses.replace(result.findings[0], end_line=5),))
    line = out([wide], "github")
    assert line.startswith("::error file=app.py,line=4,endLine=5,title=")
    assert "col=" not in line and "endColumn=" not in line


# -- text --------------------------------------------------------------------------------


def test_text_shows_location_code_message_fix_diff_and_summary() -> None:
    text = out([sleepy()], "text", {"app.py": SLEEPY})
    assert text.splitlines() == [
        f"app.py:4:5: PYS101 [error] {MESSAGE}",
        "    +import asyncio",
        "    -    time.sleep(1)",
        "    +    await asyncio.sleep(1)",
        "",
        "Found 1 finding (1 error) in 1 file, 1 fixable.",
    ]


def test_text_without_the_source_still_shows_the_new_lines() -> None:
    text = out([sleepy()], "text")
    assert "    +    await asyncio.sleep(1)" in text
    assert "    -" not in text


def test_text_summary_counts_findings_by_severity_files_and_fixes() -> None:
    warn = select_rules(["PYS101"], severities={"PYS101": Severity.WARNING})
    two = check("a.py", "import time\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n")
    one = check("b.py", SLEEPY, warn)
    no_fix = FileResult("c.py", (dataclasses.replace(sleepy().findings[0], path="c.py",
                                                     fix=None),))
    text = out([one, two, no_fix], "text")
    assert text.splitlines()[-1] == (
        "Found 4 findings (3 errors, 1 warning) in 3 files, 3 fixable."
    )
    starts = [line.split(":")[0] for line in text.splitlines() if "PYS101" in line]
    assert starts == ["a.py", "a.py", "b.py", "c.py"]


def test_text_reports_clean_files_and_lists_skipped_ones() -> None:
    clean = [check("a.py", "x = 1\n"), check("b.py", "y = 2\n")]
    assert out(clean, "text") == "All checked files are clean (2 files)."
    text = out([*clean, check_source("bin.py", b"\x00\x01", RULES)], "text")
    assert text.splitlines() == ["skipped bin.py: binary file", "",
                                 "All checked files are clean (2 files)."]
    assert out([check("empty.py", "")], "text").splitlines()[-1] == TEXT_NOTHING_CHECKED


def test_text_lists_skipped_files_after_the_findings() -> None:
    text = out([check_source("bin.py", b"\x00\x01", RULES), check("empty.py", ""), sleepy()], "text",
               {"app.py": SLEEPY})
    lines = text.splitlines()
    assert lines.index("skipped bin.py: binary file") > lines.index(
        f"app.py:4:5: PYS101 [error] {MESSAGE}")
    assert "empty.py" not in text  # empty modules are not worth a line
    assert lines[-1] == "Found 1 finding (1 error) in 1 file, 1 fixable."


def test_text_is_coloured_only_when_asked() -> None:
    plain = out([sleepy()], "text", {"app.py": SLEEPY})
    coloured = out([sleepy()], "text", {"app.py": SLEEPY}, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1mPYS101\x1b[0m" in coloured
    assert "\x1b[31m[error]\x1b[0m" in coloured


# -- sarif -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif(results: list[FileResult], validator: jsonschema.protocols.Validator,
          sources: dict[str, str] | None = None, rules: RuleSet = RULES) -> dict[str, Any]:
    log = json.loads(out(results, "sarif", sources, rules))
    validator.validate(log)
    return log


def apply_replacements(source: str, replacements: list[dict[str, Any]]) -> str:
    """What a SARIF consumer does with a fix: every region refers to the original text."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def span(region: dict[str, int]) -> tuple[int, int]:
        if "charOffset" in region:
            return region["charOffset"], region["charOffset"] + region["charLength"]
        start = starts[region["startLine"] - 1] + region.get("startColumn", 1) - 1
        end_line = region.get("endLine", region["startLine"])
        line_text = source.splitlines()[end_line - 1]
        end = starts[end_line - 1] + region.get("endColumn", len(line_text) + 1) - 1
        return start, end

    spans = sorted(((*span(r["deletedRegion"]), r["insertedContent"]["text"])
                    for r in replacements), reverse=True)
    for start, end, text in spans:
        source = source[:start] + text + source[end:]
    return source


def test_sarif_is_valid_against_the_official_schema(sarif_validator) -> None:
    log = sarif([sleepy(), check("empty.py", ""), check("ok.py", "x = 1\n")], sarif_validator,
                {"app.py": SLEEPY}, select_rules())
    assert log["$schema"] == SARIF_SCHEMA_URI
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    sarif([], sarif_validator)


def test_sarif_describes_the_tool_and_every_selected_rule(sarif_validator) -> None:
    rules = select_rules()
    driver = sarif([], sarif_validator, rules=rules)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "pystd"
    assert driver["informationUri"] == PROJECT_URL
    assert driver["version"] == tool_version()
    assert [r["id"] for r in driver["rules"]] == [cls.code for cls in rules]
    (rule,) = [r for r in driver["rules"] if r["id"] == "PYS101"]
    pys101 = next(cls for cls in rules if cls.code == "PYS101")
    assert rule["name"] == "blocking-call-in-async"
    assert rule["helpUri"] == rule_docs_url("PYS101", "blocking-call-in-async")
    assert rule["help"]["markdown"] == pys101.docs.strip()
    assert rule["shortDescription"]["text"].startswith("Blocking call")
    assert rule["fullDescription"]["text"].startswith("Flags calls that block the thread")
    assert rule["defaultConfiguration"] == {"level": "error"}


def test_sarif_result_points_at_the_finding(sarif_validator) -> None:
    run = sarif([sleepy()], sarif_validator, {"app.py": SLEEPY})["runs"][0]
    (result,) = run["results"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == "PYS101"
    assert result["level"] == "error"
    assert result["message"] == {"text": MESSAGE}
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    # SARIF's endColumn is the column after the region: `time.sleep(1)` is columns 5..17.
    assert location["region"] == {"startLine": 4, "startColumn": 5, "endLine": 4,
                                  "endColumn": 18}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_sarif_fix_applied_by_a_consumer_gives_the_fixed_file(sarif_validator,
                                                              newline: str) -> None:
    source = SLEEPY.replace("\n", newline)
    result = check("app.py", source)
    log = sarif([result], sarif_validator, {"app.py": source})
    (fix,) = log["runs"][0]["results"][0]["fixes"]
    assert "PYS101" in fix["description"]["text"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    texts = [r["insertedContent"]["text"] for r in change["replacements"]]
    assert texts == [f"import asyncio{newline}", f"    await asyncio.sleep(1){newline}"]
    fixed = apply_replacements(source, change["replacements"])
    assert fixed == apply_fix(source, result.findings[0].fix)
    assert fixed.replace(newline, "\n").replace("\r", "") == FIXED


def test_sarif_fix_without_the_source_uses_whole_line_regions(sarif_validator) -> None:
    log = sarif([sleepy()], sarif_validator)  # read_source finds nothing
    (change,) = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
    line_fix = change["replacements"][-1]
    assert line_fix["deletedRegion"] == {"startLine": 4, "startColumn": 1, "endLine": 4}
    assert line_fix["insertedContent"] == {"text": "    await asyncio.sleep(1)"}
    assert apply_replacements(SLEEPY, change["replacements"]) == FIXED


def test_sarif_levels_follow_the_configured_severity(sarif_validator) -> None:
    for severity, level in [(Severity.WARNING, "warning"), (Severity.INFO, "note")]:
        rules = select_rules(["PYS101"], severities={"PYS101": severity})
        run = sarif([check("app.py", SLEEPY, rules)], sarif_validator, rules=rules)["runs"][0]
        assert run["results"][0]["level"] == level
        assert run["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"] == level


def test_sarif_lists_skipped_files_as_notifications(sarif_validator) -> None:
    run = sarif([check("empty.py", ""), sleepy()], sarif_validator)["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "note",
            "message": {"text": "skipped: empty file"},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": "empty.py", "uriBaseId": "%SRCROOT%"}}}],
        }
    ]


def test_sarif_uris_are_relative_and_percent_encoded(sarif_validator) -> None:
    odd = with_message(sleepy(), MESSAGE, path="my dir/a#b.py")
    location = sarif([odd], sarif_validator)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "my%20dir/a%23b.py"
