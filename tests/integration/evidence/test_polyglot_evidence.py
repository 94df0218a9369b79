"""The evidence pass end to end on the polyglot incidents: `wave-evidence --json` as a process on
the host, and inside the agent image (standard library only), over real repositories and the
platforms' log exports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures.evidence.common import Fixture
from tests.fixtures.evidence.scenarios_polyglot import POLYGLOT_SCENARIOS, java_kubectl, ruby_cloudwatch

CULPRIT_TO_FIRST = {"java-checkout", "go-inventory", "rust-pricing", "dotnet-payments", "node-shipping", "ruby-billing",
                    "php-cart", "node-feature-flag"}
OUTSIDE = {"node-upstream-503": "an upstream API answering with 5xx errors (labels.carrier.example)",
           "go-dns-failure": "DNS resolution failing for ledger.invalid"}


def evidence_cli(fixture: Fixture) -> dict:
    command = [sys.executable, "-m", "wave_sandbox.evidence", "--repo", str(fixture.repo), "--json",
               "--symptom", fixture.symptom, "--logs", *(str(path) for path in fixture.logs)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.parametrize("scenario", POLYGLOT_SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_cli_ranks_the_culprit_first_or_names_the_cause_outside_the_code(tmp_path, scenario):
    fixture = scenario(tmp_path)
    report = evidence_cli(fixture)
    incident = next(signature for signature in report["signatures"] if signature["kind"] == "incident")
    assert incident["language"] is not None and incident["frame"] is not None
    if fixture.name in CULPRIT_TO_FIRST:
        assert report["suspects"][0]["commit"] == fixture.culprit
        assert report["external_cause"] is None
    else:
        assert report["confident"] is False
        assert report["external_cause"]["description"] == OUTSIDE[fixture.name]
        assert report["verdict"].startswith("No recent change explains this: the errors point outside the code")


@pytest.mark.docker
def test_wave_evidence_in_the_agent_image_reads_kubectl_and_cloudwatch_logs(tmp_path, docker, agent_image):
    java, ruby = java_kubectl(tmp_path / "java"), ruby_cloudwatch(tmp_path / "ruby")
    subprocess.run(["chmod", "-R", "a+rX", str(tmp_path)], check=True)  # the image's user is not the host's
    script = (
        "git config --global --add safe.directory '*' && "
        f"wave-evidence --repo /in/java/repo --logs /in/java/logs --symptom '{java.symptom}' --json > /tmp/java.json && "
        f"wave-evidence --repo /in/ruby/repo --logs /in/ruby/logs --symptom '{ruby.symptom}' --json > /tmp/ruby.json && "
        "cat /tmp/java.json && echo '=====' && cat /tmp/ruby.json"
    )
    container = docker.containers.create(
        agent_image, ["sh", "-c", script], environment={"HOME": "/tmp"}, network_disabled=True,
        volumes={str(tmp_path): {"bind": "/in", "mode": "ro"}},
    )  # fmt: skip
    try:
        container.start()
        status = container.wait(timeout=120)["StatusCode"]
        output = container.logs(stdout=True, stderr=False).decode()
        assert status == 0, container.logs().decode()
    finally:
        container.remove(force=True)
    java_report, ruby_report = (json.loads(part) for part in output.split("=====\n"))
    assert java_report["suspects"][0]["commit"] == java.culprit and java_report["confident"] is True
    assert ruby_report["suspects"][0]["commit"] == ruby.culprit
    assert list(ruby_report["logs"]["exports"].values()) == ["json-document"]
