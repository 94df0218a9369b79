"""The evidence pass on the fixture repositories (tests/fixtures/evidence), against "newest commit
first". Prints the table (pytest -s shows it); `python -m tests.fixtures.evidence.scoring` does the same."""

import pytest

from tests.fixtures.evidence import build_fixtures
from tests.fixtures.evidence.scoring import render_scores, score_fixture


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    fixtures = build_fixtures(tmp_path_factory.mktemp("evidence-fixtures"))
    assert len(fixtures) >= 8
    results = [score_fixture(fixture) for fixture in fixtures]
    print("\n" + render_scores(results))
    return results


def test_the_culprit_ranks_first_far_more_often_than_with_newest_commit_first(scores):
    with_culprit = [score for score in scores if score.culprit]
    assert len(with_culprit) >= 8
    top1 = sum(score.rank == 1 for score in with_culprit)
    naive_top1 = sum(score.naive_rank == 1 for score in with_culprit)
    assert top1 >= len(with_culprit) - 2
    assert top1 > naive_top1
    assert all(score.rank is not None and score.rank <= 3 for score in with_culprit)


def test_when_the_pass_is_confident_it_names_the_culprit(scores):
    assert all(score.rank == 1 for score in scores if score.culprit and score.confident)


def test_it_is_not_confident_when_no_change_caused_the_incident(scores):
    without = [score for score in scores if not score.culprit]
    assert without and not any(score.confident for score in without)
    assert all(score.verdict.startswith("No recent change explains this") for score in without)


POLYGLOT_CULPRITS = {"java-checkout", "go-inventory", "rust-pricing", "dotnet-payments", "node-shipping", "ruby-billing",
                     "php-cart", "node-feature-flag"}
OUTSIDE_THE_CODE = {"node-upstream-503": ("upstream-5xx", "labels.carrier.example"), "go-dns-failure": ("dns", "ledger.invalid")}


def test_every_non_python_culprit_ranks_first_where_newest_first_never_does(scores):
    polyglot = [score for score in scores if score.name in POLYGLOT_CULPRITS]
    assert len(polyglot) == len(POLYGLOT_CULPRITS)
    assert [score.name for score in polyglot if score.rank != 1] == []
    assert [score.name for score in polyglot if score.naive_rank == 1] == []


def test_outside_the_code_controls_name_the_cause_and_put_no_commit_forward(scores):
    controls = {score.name: score for score in scores if score.name in OUTSIDE_THE_CODE}
    assert controls.keys() == OUTSIDE_THE_CODE.keys()
    for name, (kind, target) in OUTSIDE_THE_CODE.items():
        score = controls[name]
        assert not score.confident
        assert (score.external_cause["kind"], score.external_cause["target"]) == (kind, target)
        assert score.external_cause["description"] in score.verdict
        assert "is the likely cause" not in score.verdict


def test_a_feature_flag_at_the_onset_ranks_above_code_commits_that_did_not_touch_the_failing_frames(scores):
    flag = next(score for score in scores if score.name == "node-feature-flag")
    assert flag.rank == 1 and flag.naive_rank == 3
    assert flag.verdict.startswith("No change to the code explains this;") and "configuration-only change" in flag.verdict


def test_the_fields_the_personas_cite_are_in_the_report(tmp_path):
    from pathlib import Path

    import wave_sandbox.personas
    from tests.fixtures.evidence.scenarios_polyglot import go_dns
    from wave_sandbox.evidence import EvidenceRequest, collect_evidence, evidence_to_json

    fixture = go_dns(tmp_path)
    report = evidence_to_json(collect_evidence(EvidenceRequest(fixture.repo, [str(p) for p in fixture.logs], fixture.symptom)))
    prompts = Path(wave_sandbox.personas.__file__).parent
    navigator, auditor = (prompts / "navigator.md").read_text(), (prompts / "auditor.md").read_text()
    for field in ("external_cause", "description", "language", "frame", "logs.exports"):
        assert f"`{field}`" in navigator
    assert "`external_cause`" in auditor and "`description`" in auditor
    assert report["external_cause"]["description"] and report["logs"]["exports"]
    assert {"language", "frame"} <= report["signatures"][0].keys()
