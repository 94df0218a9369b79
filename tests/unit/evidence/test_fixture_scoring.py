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
