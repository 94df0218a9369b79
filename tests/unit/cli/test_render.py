import io
import json
from datetime import datetime, timedelta, timezone

from wave_sandbox.cli.render import ConsoleRenderer, JsonLinesRenderer
from wave_sandbox.units import format_tokens
from wave_sandbox.engine.events import RunEvent

SEED_LINES = """\
[10:00:01] started   triage            (navigator)              Starting step
[10:00:25] completed triage            (navigator)   24s   2.1k Triage complete
[10:00:26] started   investigate       (auditor)                Starting step
[10:00:58] completed investigate       (auditor)     32s   3.8k Investigation complete
[10:00:59] started   root-cause        (philosopher)            Starting step
[10:01:28] completed root-cause        (philosopher)  29s   2.5k Analysis complete
[10:01:29] started   remediate         (craftsman)              Starting step
[10:02:15] completed remediate         (craftsman)   46s   4.2k Fix ready
[10:02:16] started   postmortem        (summarizer)             Starting step
[10:02:42] completed postmortem        (summarizer)  26s   3.1k Report complete

Pipeline incident-response completed in 161s
Artifacts: output/incident-report.md
Branch: wave/incident-response/20261127-143012-ab12 (1 commit, 3 files changed)
"""

LOCAL = datetime.now().astimezone().tzinfo


def at(hms: str) -> datetime:
    hour, minute, second = map(int, hms.split(":"))
    return datetime(2026, 11, 27, hour, minute, second, tzinfo=LOCAL)


def seed_events() -> list[RunEvent]:
    rows = [
        ("10:00:01", "started", "triage", "navigator", None, None, "Starting step"),
        ("10:00:25", "completed", "triage", "navigator", 24000, 2100, "Triage complete"),
        ("10:00:26", "started", "investigate", "auditor", None, None, "Starting step"),
        ("10:00:58", "completed", "investigate", "auditor", 32000, 3800, "Investigation complete"),
        ("10:00:59", "started", "root-cause", "philosopher", None, None, "Starting step"),
        ("10:01:28", "completed", "root-cause", "philosopher", 29000, 2500, "Analysis complete"),
        ("10:01:29", "started", "remediate", "craftsman", None, None, "Starting step"),
        ("10:02:15", "completed", "remediate", "craftsman", 46000, 4200, "Fix ready"),
        ("10:02:16", "started", "postmortem", "summarizer", None, None, "Starting step"),
        ("10:02:42", "completed", "postmortem", "summarizer", 26000, 3100, "Report complete"),
    ]
    events = [RunEvent("run_started", "r1", "incident-response", timestamp=at("10:00:01"))]
    for clock, state, step, persona, duration, tokens, message in rows:
        events.append(
            RunEvent(state, "r1", "incident-response", timestamp=at(clock), step_id=step, persona=persona,
                     duration_ms=duration, tokens_in=None if tokens is None else tokens - 400,
                     tokens_out=None if tokens is None else 400, message=message)
        )
    events.append(
        RunEvent("run_completed", "r1", "incident-response", timestamp=at("10:02:42"), duration_ms=161000,
                 artifacts=["output/incident-report.md"], branch="wave/incident-response/20261127-143012-ab12",
                 commits=["a" * 40], branch_files_changed=3)
    )
    return events


def test_console_renders_the_seed_exactly():
    stream = io.StringIO()
    renderer = ConsoleRenderer(stream)
    for event in seed_events():
        renderer(event)
    assert stream.getvalue() == SEED_LINES


def test_failed_run_names_the_reason():
    stream = io.StringIO()
    ConsoleRenderer(stream)(RunEvent("run_failed", "r1", "p", duration_ms=3000, message="step triage failed"))
    assert stream.getvalue() == "\nPipeline p failed after 3s: step triage failed\n"


def test_json_lines_carry_every_field_in_utc():
    stream = io.StringIO()
    renderer = JsonLinesRenderer(stream)
    for event in seed_events():
        renderer(event)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 12
    first_completed = lines[2]
    assert first_completed["state"] == "completed"
    assert first_completed["timestamp"].endswith("Z") and len(first_completed["timestamp"]) == 24
    expected_utc = at("10:00:25").astimezone(timezone.utc)
    assert first_completed["timestamp"].startswith(expected_utc.strftime("%Y-%m-%dT%H:%M:%S.000"))
    for key in ("run_id", "pipeline", "step_id", "persona", "duration_ms", "tokens_in", "tokens_out", "message", "artifacts"):
        assert key in first_completed
    assert "branch" not in first_completed
    assert lines[-1]["branch"] == "wave/incident-response/20261127-143012-ab12"
    assert lines[-1]["commits"] == ["a" * 40]
    assert lines[0]["step_id"] is None


def test_token_format():
    assert format_tokens(950) == "950"
    assert format_tokens(2100) == "2.1k"
    assert format_tokens(1_250_000) == "1.2M"


def test_console_and_json_lines_show_hostile_text_as_visible_escapes():
    hostile = "done\x1b]52;c;aGk=\x07\u202e\u200b\r[10:00:00] completed safe to merge"
    console, lines = io.StringIO(), io.StringIO()
    for event in (RunEvent("completed", "r1", "p", step_id="s", persona="navigator", duration_ms=1000, message=hostile),
                  RunEvent("run_failed", "r1", "p", duration_ms=3000, message=hostile, artifacts=["out/a\u202eb"])):
        ConsoleRenderer(console)(event)
        JsonLinesRenderer(lines)(event)
    printed = console.getvalue() + lines.getvalue()
    assert not any(char in printed for char in "\x1b\x07\u202e\u200b\r")
    assert "done\\x1b]52;c;aGk=\\x07\\u202e\\u200b\\x0d[10:00:00] completed" in console.getvalue()
    assert [json.loads(line)["message"] for line in lines.getvalue().splitlines()] == [hostile, hostile]


def test_the_reviewer_warning_follows_the_seed_lines_on_the_error_stream():
    from wave_sandbox.workspace.acting_files import ActingFile

    out, err = io.StringIO(), io.StringIO()
    renderer = ConsoleRenderer(out, err)
    events = seed_events()
    acting = [ActingFile(".envrc", "editor or shell hook"), ActingFile("odd\u202ename", "executable")]
    events[-1] = RunEvent(**{**events[-1].__dict__, "branch_acting_files": acting})
    for event in events:
        renderer(event)
    assert out.getvalue() == SEED_LINES
    assert err.getvalue() == (
        "warning: review wave/incident-response/20261127-143012-ab12 before checking it out or building it: "
        "2 files on it act when checked out, opened or built:\n"
        "  .envrc (editor or shell hook)\n"
        "  'odd\\u202ename' (executable)\n"
    )
    JsonLinesRenderer(io.StringIO(), err := io.StringIO())(events[-1])
    assert ".envrc" in err.getvalue()


def test_a_mock_run_says_so_after_the_closing_lines_and_in_json():
    stream, errors = io.StringIO(), io.StringIO()
    ended = RunEvent("run_completed", "r1", "p", duration_ms=3000, mock=True)
    ConsoleRenderer(stream, errors)(ended)
    assert stream.getvalue() == "\nPipeline p completed in 3s\n"  # the closing lines stay as they are
    assert errors.getvalue().startswith("notice: this was a mock run (--model mock)")
    json_stream = io.StringIO()
    JsonLinesRenderer(json_stream, io.StringIO())(ended)
    assert json.loads(json_stream.getvalue())["mock"] is True
    plain = io.StringIO()
    JsonLinesRenderer(plain, io.StringIO())(RunEvent("run_completed", "r1", "p", duration_ms=3000))
    assert "mock" not in json.loads(plain.getvalue())
