"""The JSON shape of the issue, the console summary, and both command lines (wave-evidence, wave-sandbox evidence)."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.unit.evidence.helpers import HOUR, MINUTE, ONSET, History, every, log_lines, traceback_text, write_file
from wave_sandbox.cli import evidence_cmd  # noqa: F401  (registers `evidence` until app.py lists it)
from wave_sandbox.cli.app import app, register_commands
from wave_sandbox.evidence.cli import main as wave_evidence_main

FRAMES = [("/app/shop/api.py", 5, "checkout", "return price(cart)"), ("/app/shop/pricing.py", 3, "price", 'return totals[cart["currency"]]')]
PRICING = 'def price(cart):\n    totals = {"EUR": 1, "USD": 1}\n    return totals[cart["currency"]]\n'


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    history = History()
    history.add("shop/__init__.py", "").add("shop/pricing.py", PRICING)
    history.add("shop/api.py", "from shop.pricing import price\n\n\ndef checkout(cart):\n    return price(cart)\n")
    history.commit(ONSET - 20 * 24 * HOUR, "dana", "Shop")
    history.replace("shop/pricing.py", '{"EUR": 1, "USD": 1}', '{"EUR": 1}')
    history.commit(ONSET - 5 * HOUR, "ravi", "Euros only", tag="culprit")
    history.add("README.md", "# shop\n")
    history.commit(ONSET - 1 * HOUR, "lee", "README")
    ids = history.build(root / "repo")
    events = [(moment, "INFO", "ok", None) for moment in every(ONSET - 2 * HOUR, ONSET + 20 * MINUTE, 30)]
    events += [(moment, "ERROR", "checkout failed", traceback_text(FRAMES, "KeyError: 'USD'")) for moment in every(ONSET + 3, ONSET + 20 * MINUTE, 40)]
    write_file(root / "logs" / "app.log", log_lines(events))
    write_file(root / "logs" / "stray.txt", "no time on this line\n")
    return root, ids


def run_wave_evidence(capsys, *arguments):
    status = wave_evidence_main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_has_the_shape_the_issue_asks_for(service, capsys):
    root, ids = service
    status, out, _ = run_wave_evidence(capsys, "--repo", str(root / "repo"), "--logs", str(root / "logs"), "--symptom", "USD checkouts failing since 14:30 UTC", "--json")
    assert status == 0
    report = json.loads(out)
    assert {"onset", "signatures", "window", "suspects", "confident"} <= report.keys()
    assert {"start", "end", "evidence"} <= report["onset"].keys()
    assert report["onset"]["start"] == "2026-02-10T14:30:03.000Z"
    assert all(isinstance(line, str) and ":" in line for line in report["onset"]["evidence"])
    assert set(report["window"]) == {"since", "until", "commits"} and report["window"]["commits"] == 2 + 1
    first = report["suspects"][0]
    assert {"commit", "rank", "score", "reasons", "files"} <= first.keys()
    assert (first["commit"], first["rank"], first["files"]) == (ids["culprit"], 1, ["shop/pricing.py"])
    assert all(isinstance(reason, str) for reason in first["reasons"])
    assert report["confident"] is True
    assert report["signatures"][0]["kind"] == "incident" and report["signatures"][0]["exception"] == "KeyError"
    assert report["logs"]["untimed_lines"] == 1


def test_the_console_summary_has_onset_signatures_suspects_and_the_lines_without_time(service, capsys):
    root, ids = service
    status, out, _ = run_wave_evidence(capsys, "--repo", str(root / "repo"), "--logs", str(root / "logs" / "app.log"), str(root / "logs" / "stray.txt"))
    assert status == 0
    assert "Onset: 2026-02-10 14:30:03 UTC" in out
    assert "incident" in out and "KeyError at shop/pricing.py:3 in price" in out
    assert f"1. {ids['culprit'][:7]}" in out and "changed price() in shop/pricing.py" in out
    assert f"no time: {root / 'logs' / 'stray.txt'}:1: no time on this line" in out
    assert "Verdict:" in out


def test_wave_evidence_refuses_a_folder_that_is_no_repository(tmp_path, capsys):
    status, out, err = run_wave_evidence(capsys, "--repo", str(tmp_path))
    assert status == 2 and out == ""
    assert "is not a git repository" in err


def test_python_dash_m_runs_it_as_the_image_does(service):
    root, _ = service
    completed = subprocess.run(
        [sys.executable, "-m", "wave_sandbox.evidence", "--repo", str(root / "repo"), "--logs", str(root / "logs"), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["confident"] is True


def test_wave_sandbox_evidence_takes_several_paths_after_logs(service):
    root, ids = service
    register_commands()
    result = CliRunner().invoke(app, ["evidence", "--repo", str(root / "repo"), "--logs", str(root / "logs" / "app.log"), str(root / "logs" / "stray.txt"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["suspects"][0]["commit"] == ids["culprit"]
    assert len(report["logs"]["files"]) == 2


def test_wave_sandbox_evidence_turns_a_bad_repository_into_a_configuration_error(tmp_path):
    from wave_sandbox.errors import ConfigurationError

    register_commands()
    result = CliRunner().invoke(app, ["evidence", "--repo", str(tmp_path)])
    assert isinstance(result.exception, ConfigurationError)
    assert "is not a git repository" in str(result.exception)
