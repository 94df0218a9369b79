"""The run report of the demo run, as a browser shows it, and a hostile run's report, as text."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from tests.integration.conftest import PROJECT, git, run_cli
from tests.integration.report.browser import dump_dom, needs_chromium, screenshot

pytestmark = pytest.mark.docker

STEPS = ["triage", "investigate", "root-cause", "remediate", "postmortem"]
COMPLETED_GREEN = (0x2E, 0x9D, 0x4B)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("report")
    repo = base / "orders-service"
    subprocess.run([str(PROJECT / "examples" / "make_demo_repo.sh"), str(repo)], check=True, capture_output=True)
    done = run_cli("run", "incident-response", "500 errors spiking on /api/orders endpoint since 14:30 UTC",
                   "--repo", str(repo), "--model", f"scripted:{PROJECT / 'examples' / 'incident-response.script.yaml'}",
                   "--output", "output", cwd=base, timeout=300)
    assert done.returncode == 0, done.stderr
    run_id = re.search(r"^Branch: wave/incident-response/(\S+) ", done.stdout, re.MULTILINE).group(1)
    return {"repo": repo, "run_id": run_id, "folder": repo / ".wave" / "runs" / run_id, "done": done}


class Timeline(HTMLParser):
    """The step labels inside #timeline, read from the DOM Chromium rendered."""

    def __init__(self):
        super().__init__()
        self.depth, self.in_name, self.names = 0, False, []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.depth or attributes.get("id") == "timeline":
            self.depth += 1
        self.in_name = bool(self.depth) and attributes.get("class") == "name"

    def handle_endtag(self, tag):
        self.depth = max(0, self.depth - 1) if self.depth else 0
        self.in_name = False

    def handle_data(self, data):
        if self.in_name:
            self.names.append(data.split(" (")[0])


def test_every_run_writes_its_report_and_says_where(demo):
    assert (demo["folder"] / "report.md").is_file() and (demo["folder"] / "report.html").is_file()
    assert f"Report: orders-service/.wave/runs/{demo['run_id']}/report.html" in demo["done"].stderr.splitlines()
    markdown = (demo["folder"] / "report.md").read_text()
    assert all(f"## Step {step}" in markdown for step in STEPS)
    assert "## Review branch" in markdown and "diff --git a/orders/history.py" in markdown


@needs_chromium
def test_the_rendered_page_has_the_five_steps_on_its_timeline_and_the_branch_diff(demo):
    dom = dump_dom(demo["folder"] / "report.html")
    timeline = Timeline()
    timeline.feed(dom)
    assert timeline.names == STEPS
    branch = dom[dom.index('<section id="branch">'):]
    assert "diff --git a/orders/history.py b/orders/history.py" in branch
    assert '<span class="add">' in branch and "LIMIT" in branch
    assert '<section id="evidence">' in dom and "42c379b82845" in dom  # the evidence pass's first suspect


@needs_chromium
def test_the_timeline_is_drawn(demo, tmp_path):
    """The screenshot is not blank where the timeline is: each step's lane holds the completed colour."""
    image = Image.open(screenshot(demo["folder"] / "report.html", tmp_path / "report.png")).convert("RGB")
    width, height = image.size
    green_rows = {y for y in range(0, height // 2) for x in range(250, width - 200, 7)
                  if _near(image.getpixel((x, y)), COMPLETED_GREEN)}
    lanes = _runs_of(sorted(green_rows))
    assert len(lanes) == len(STEPS), lanes


def _near(pixel, colour, tolerance=24):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def _runs_of(rows: list[int]) -> list[tuple[int, int]]:
    runs = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


HOSTILE_SUMMARY = "<script>document.title='pwned'</script>\x1b]0;owned\x07 \u202egnp.exe"
HOSTILE_MARKDOWN = (
    "# Findings\n\n<script>document.title='pwned'</script>\n\n<img src=x onerror=\"document.title='img'\">\n\n"
    "[click](javascript:document.title='link') ![beacon](http://203.0.113.9/beacon.png)\n"
)


@pytest.fixture
def hostile_run(tmp_path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "one")
    folder = repo / ".wave" / "runs" / "20260101-000000-beef"
    (folder / "steps" / "scan" / "artifacts").mkdir(parents=True)
    (folder / "steps" / "scan" / "artifacts" / "findings.md").write_text(HOSTILE_MARKDOWN)
    (folder / "run.json").write_text(json.dumps({
        "run_id": "20260101-000000-beef", "pipeline": "p<b>x</b>", "status": "completed",
        "started_at": "2026-01-01T00:00:00+00:00", "duration_ms": 2000, "input": "in",
        "steps": {"scan": {"status": "completed", "persona": "auditor", "summary": HOSTILE_SUMMARY,
                           "started_at": "2026-01-01T00:00:00+00:00", "duration_ms": 1500}},
    }))
    return repo, folder


def test_a_hostile_summary_and_artifact_are_text_in_both_reports(hostile_run):
    repo, folder = hostile_run
    done = run_cli("report", "latest", "--repo", str(repo), cwd=repo)
    assert done.returncode == 0, done.stderr
    page = (folder / "report.html").read_text()
    assert "<script" not in page.lower() and "<img" not in page.lower() and "\x1b" not in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;\\x1b]0;owned\\x07 \\u202egnp.exe" in page
    assert 'href="javascript:' not in page and "http://203.0.113.9" not in page.split("</head>")[0]
    markdown = (folder / "report.md").read_text()
    assert "\\<script\\>" in markdown and "\x1b" not in markdown and "\u202e" not in markdown


@needs_chromium
def test_a_hostile_report_runs_nothing_in_the_browser(hostile_run):
    repo, folder = hostile_run
    assert run_cli("report", "latest", "--repo", str(repo), cwd=repo).returncode == 0
    dom = dump_dom(folder / "report.html")
    assert "<title>Run 20260101-000000-beef: p&lt;b&gt;x&lt;/b&gt;</title>" in dom  # no script changed it
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom  # shown, as text
