"""Ranking the commits before the onset, on small repositories built here (git fast-import)."""

from pathlib import Path

import pytest

from tests.unit.evidence.helpers import HOUR, MINUTE, ONSET, History, every, log_lines, traceback_text, write_file
from wave_sandbox.evidence import EvidenceError, EvidenceRequest, collect_evidence

PRICING = """\
def price(cart):
    totals = {"EUR": cart["total"], "USD": cart["total"]}
    return totals[cart["currency"]]


def format_price(amount):
    return f"{amount:.2f}"
"""
CLIENT = """\
import socket


def build_request(path):
    return f"GET {path} HTTP/1.1"


def fetch_rates(host):
    with socket.create_connection((host, 443), timeout=2) as connection:
        return connection.recv(100)
"""


def base_history() -> History:
    history = History()
    history.add("README.md", "# shop\n")
    history.add("shop/__init__.py", "")
    history.add("shop/pricing.py", PRICING)
    history.add("shop/api.py", "from shop.pricing import price\n\n\ndef checkout(cart):\n    return price(cart)\n")
    history.add("shop/rates_client.py", CLIENT)
    history.add("config/settings.yaml", "rates_timeout_s: 10\nrates_host: rates.internal\n")
    history.commit(ONSET - 30 * 24 * HOUR, "dana", "Shop service")
    return history


def incident_logs(tmp_path: Path, frames, exception, start=ONSET - 2 * HOUR, end=ONSET + 20 * MINUTE) -> Path:
    events = [(moment, "INFO", "request served", None) for moment in every(start, end, 30)]
    events += [(moment, "ERROR", "checkout failed", traceback_text(frames, exception)) for moment in every(ONSET + 3, end, 40)]
    return write_file(tmp_path / "logs" / "app.log", log_lines(events))


def evidence_for(repo: Path, logs: Path, symptom: str = "checkout failing since 14:30 UTC"):
    return collect_evidence(EvidenceRequest(repo, [str(logs)], symptom))


KEY_ERROR_FRAMES = [("/app/shop/api.py", 5, "checkout", "return price(cart)"), ("/app/shop/pricing.py", 3, "price", 'return totals[cart["currency"]]')]


def test_a_recent_unrelated_commit_ranks_below_an_older_commit_that_changed_the_failing_function(tmp_path):
    history = base_history()
    history.replace("shop/pricing.py", 'totals = {"EUR": cart["total"], "USD": cart["total"]}', 'totals = {"EUR": cart["total"]}')
    history.commit(ONSET - 50 * HOUR, "ravi", "Price carts in euros only", tag="culprit")
    history.replace("shop/pricing.py", 'return f"{amount:.2f}"', 'return f"{amount:,.2f}"')
    history.commit(ONSET - 40 * MINUTE, "lee", "Thousands separators in prices", tag="same-file")
    history.add("shop/banner.py", "TEXT = 'Sale!'\n")
    history.commit(ONSET - 10 * MINUTE, "sam", "Add a sale banner", tag="newest")
    ids = history.build(tmp_path / "repo")
    evidence = evidence_for(tmp_path / "repo", incident_logs(tmp_path, KEY_ERROR_FRAMES, "KeyError: 'USD'"))
    ranking = [suspect.change.commit for suspect in evidence.suspects]
    assert ranking[0] == ids["culprit"]
    assert ranking.index(ids["newest"]) > 0 and ranking.index(ids["same-file"]) > 0
    assert evidence.confident
    top_reasons = evidence.suspects[0].reasons
    assert any("changed price() in shop/pricing.py" in reason.text for reason in top_reasons)


CONNECT_FRAMES = [
    ("/app/shop/api.py", 9, "refresh", "rates = fetch_rates(host)"),
    ("/app/shop/rates_client.py", 9, "fetch_rates", "with socket.create_connection((host, 443), timeout=2) as connection:"),
    ("/usr/lib/python3.11/socket.py", 851, "create_connection", "raise exceptions[0]"),
]


@pytest.mark.parametrize("exception", [
    "ConnectionRefusedError: [Errno 111] Connection refused",
    "socket.gaierror: [Errno -3] Temporary failure in name resolution",
])  # fmt: skip
def test_infrastructure_errors_that_no_change_explains_are_not_confident(tmp_path, exception):
    history = base_history()
    history.add("docs/rates.md", "# Rates\n")
    history.commit(ONSET - 3 * HOUR, "dana", "Document the rates service")
    history.replace("shop/rates_client.py", 'return f"GET {path} HTTP/1.1"', 'return f"GET {path} HTTP/1.1\\r\\n"')
    history.commit(ONSET - 1 * HOUR, "lee", "Terminate request lines", tag="same-file")
    history.add("shop/banner.py", "TEXT = 'Sale!'\n")
    history.commit(ONSET - 20 * MINUTE, "sam", "Add a sale banner")
    history.build(tmp_path / "repo")
    evidence = evidence_for(tmp_path / "repo", incident_logs(tmp_path, CONNECT_FRAMES, exception))
    assert evidence.onset.source == "logs"
    assert evidence.suspects, "the window's commits are still listed"
    assert not evidence.confident
    assert evidence.verdict.startswith("No recent change explains this")


def test_infrastructure_errors_are_explained_by_a_change_to_the_function_in_the_trace(tmp_path):
    history = base_history()
    history.replace("shop/rates_client.py", "(host, 443)", "(host, 8443)", count=2)
    history.commit(ONSET - 2 * HOUR, "lee", "Talk to the rates service on its TLS port", tag="culprit")
    ids = history.build(tmp_path / "repo")
    evidence = evidence_for(tmp_path / "repo", incident_logs(tmp_path, CONNECT_FRAMES, "ConnectionRefusedError: [Errno 111] Connection refused"))
    assert evidence.suspects[0].change.commit == ids["culprit"]
    assert evidence.confident


def test_a_configuration_only_change_is_found_as_a_suspect(tmp_path):
    history = base_history()
    history.replace("config/settings.yaml", "rates_timeout_s: 10", "rates_timeout_s: 0.2")
    history.commit(ONSET - 4 * HOUR, "sam", "Fail fast on slow rates", tag="culprit")
    history.add("shop/banner.py", "TEXT = 'Sale!'\n")
    history.commit(ONSET - 30 * MINUTE, "lee", "Add a sale banner")
    ids = history.build(tmp_path / "repo")
    frames = [("/app/shop/api.py", 9, "refresh", "rates = fetch_rates(host)"), ("/app/shop/rates_client.py", 10, "fetch_rates", "return connection.recv(100)")]
    logs = incident_logs(tmp_path, frames, "shop.rates_client.RatesTimeout: rates service did not answer within 0.2s")
    evidence = evidence_for(tmp_path / "repo", logs)
    top = evidence.suspects[0]
    assert top.change.commit == ids["culprit"]
    assert any("config/settings.yaml" in reason.text and "'rates'" in reason.text and "'timeout'" in reason.text for reason in top.reasons)


def test_a_thin_window_is_widened_to_three_commits(tmp_path):
    history = base_history()
    history.add("shop/banner.py", "TEXT = 'Sale!'\n")
    history.commit(ONSET - 10 * 24 * HOUR, "sam", "Add a sale banner")
    history.build(tmp_path / "repo")
    evidence = evidence_for(tmp_path / "repo", incident_logs(tmp_path, KEY_ERROR_FRAMES, "KeyError: 'USD'"))
    assert evidence.window.commits == 2 and evidence.window.widened
    assert evidence.window.since == pytest.approx(ONSET - 30 * 24 * HOUR)


def test_deploys_in_the_logs_date_commits(tmp_path):
    history = base_history()
    history.replace("shop/pricing.py", 'totals = {"EUR": cart["total"], "USD": cart["total"]}', 'totals = {"EUR": cart["total"]}')
    history.commit(ONSET - 3 * HOUR, "ravi", "Price carts in euros only", tag="culprit")
    history.add("shop/banner.py", "TEXT = 'Sale!'\n")
    history.commit(ONSET - 2 * HOUR, "sam", "Add a sale banner", tag="late")
    ids = history.build(tmp_path / "repo")
    logs = incident_logs(tmp_path, KEY_ERROR_FRAMES, "KeyError: 'USD'")
    write_file(logs.parent / "deploy.log", "\n".join([
        f"2026-02-10T14:10:00Z deploy #7 shop commit {ids['culprit'][:7]} started",
        f"2026-02-10T14:45:00Z deploy #8 shop commit {ids['late'][:9]} started",
    ]) + "\n")  # fmt: skip
    evidence = collect_evidence(EvidenceRequest(tmp_path / "repo", [str(logs.parent)], "since 14:30 UTC"))
    reasons = {suspect.change.commit: [reason.text for reason in suspect.reasons] for suspect in evidence.suspects}
    assert any(text.startswith("deployed 20 min before the onset") for text in reasons[ids["culprit"]])
    assert any(text.startswith("first deployed 15 min after the onset") for text in reasons[ids["late"]])


def test_a_folder_that_is_not_a_repository_is_an_error_a_user_can_fix(tmp_path):
    with pytest.raises(EvidenceError, match="is not a git repository"):
        collect_evidence(EvidenceRequest(tmp_path, []))
