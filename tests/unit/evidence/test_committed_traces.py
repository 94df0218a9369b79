"""The committed traces came from running the fixtures' own code: the line of each trace's innermost
repository frame is, at the deployed revision, a line that the known bad commit wrote (git blame)."""

import subprocess

import pytest

from tests.fixtures.evidence.scenarios_polyglot import POLYGLOT_SCENARIOS, committed_trace
from wave_sandbox.evidence.frames import RepositoryFiles
from wave_sandbox.evidence.traces import parse_any_traceback

FIRST_LINES = {"rust-pricing": "thread ", "go-dns-failure": "ERROR "}
# The flag's culprit is a setting; the controls have none.
CODE_CULPRITS = {"java-checkout", "go-inventory", "rust-pricing", "dotnet-payments", "node-shipping", "ruby-billing", "php-cart"}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("polyglot")
    return {fixture.name: fixture for fixture in (scenario(root / scenario.__name__) for scenario in POLYGLOT_SCENARIOS)}


@pytest.mark.parametrize("name", sorted(CODE_CULPRITS))
def test_the_innermost_repository_frame_is_a_line_the_culprit_wrote(fixtures, name):
    fixture = fixtures[name]
    listing = subprocess.run(["git", "-C", str(fixture.repo), "ls-files"], capture_output=True, text=True, check=True)
    files = RepositoryFiles(listing.stdout.split())
    parsed = parse_any_traceback(committed_trace(name, FIRST_LINES.get(name, "")).splitlines())
    path, line = next((files.map_frame_path(f.path), f.line) for f in reversed(parsed.frames) if files.map_frame_path(f.path))
    blame = subprocess.run(["git", "-C", str(fixture.repo), "blame", "--porcelain", "-L", f"{line},{line}", "HEAD", "--", path],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert blame.stdout.split()[0] == fixture.culprit


def test_every_polyglot_service_has_its_committed_trace(fixtures):
    assert len(fixtures) == 10
    for name in fixtures:
        assert parse_any_traceback(committed_trace(name, FIRST_LINES.get(name, "")).splitlines()) is not None, name
