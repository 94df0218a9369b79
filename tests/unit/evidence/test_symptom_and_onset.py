"""The symptom's hints, and the onset: new or surging signatures, never the background."""

import pytest

from tests.fixtures.evidence.common import utc
from tests.unit.evidence.helpers import HOUR, MINUTE, ONSET, every, log_lines, traceback_text, write_file
from wave_sandbox.evidence.frames import RepositoryFiles
from wave_sandbox.evidence.logs import scan_logs
from wave_sandbox.evidence.onset import find_onset
from wave_sandbox.evidence.signatures import SignatureBook
from wave_sandbox.evidence.symptom import read_symptom, resolve_symptom_time
from wave_sandbox.evidence.timestamps import format_utc


@pytest.mark.parametrize("text, expected", [
    ("500 errors spiking on /api/orders endpoint since 14:30 UTC", "2026-02-10T14:30:00.000Z"),
    ("checkout slow since about 06:30 PST", "2026-02-10T14:30:00.000Z"),
    ("errors since 15:30 CET", "2026-02-10T14:30:00.000Z"),
    ("down since 9:30am ET", "2026-02-10T14:30:00.000Z"),
    ("failing since 2:30 pm UTC+0", "2026-02-10T14:30:00.000Z"),
    ("broken since 14:30", "2026-02-10T14:30:00.000Z"),
    ("since 16:30 PDT on 2026-07-08", "2026-07-08T23:30:00.000Z"),
    ("since Feb 9 14:30 UTC", "2026-02-09T14:30:00.000Z"),
])  # fmt: skip
def test_times_and_zones_of_the_symptom_resolve_against_the_logs(text, expected):
    hints = read_symptom(text)
    assert len(hints.times) == 1
    logs_start, logs_end = utc("2026-02-10 11:00"), utc("2026-02-10 15:10")
    assert format_utc(resolve_symptom_time(hints.times[0], logs_start, logs_end, reference=0)) == expected


def test_endpoints_and_statuses_of_the_symptom():
    hints = read_symptom("500 and 502 errors on GET /api/orders and https://shop.example/v1/payments/{id} since 14:30 UTC")
    assert hints.endpoints == ["/api/orders", "/v1/payments/{id}"]
    assert hints.statuses == [500, 502]
    assert read_symptom(None).times == [] and read_symptom("").endpoints == []


def test_a_dateless_time_falls_on_the_latest_day_the_logs_cover():
    hint = read_symptom("since 23:50 UTC").times[0]
    after_midnight = resolve_symptom_time(hint, utc("2026-02-09 22:00"), utc("2026-02-10 01:00"), reference=0)
    assert format_utc(after_midnight) == "2026-02-09T23:50:00.000Z"


FRAMES_BACKGROUND = [("/app/shop/partner.py", 20, "fetch_rates", "return client.get(url)")]
FRAMES_INCIDENT = [("/app/shop/api.py", 12, "checkout", "return price(cart)"), ("/app/shop/pricing.py", 40, "price", "return totals[cart.currency]")]
REPO = RepositoryFiles(["shop/api.py", "shop/pricing.py", "shop/partner.py"])


def onset_of(tmp_path, events, symptom_time=None):
    log = write_file(tmp_path / "app.log", log_lines(events))
    book = SignatureBook(REPO)
    scan = scan_logs([str(log)], book.add)
    spans = {summary.source: (summary.first_time, summary.last_time) for summary in scan.files}
    return find_onset(book, spans, symptom_time), {signature.exception: signature for signature in book.signatures.values()}


def steady_traffic(start, end):
    return [(moment, "INFO", "request served", None) for moment in every(start, end, 20)]


def test_background_errors_are_not_taken_for_the_onset(tmp_path):
    start, end = ONSET - 3 * HOUR, ONSET + 30 * MINUTE
    background = traceback_text(FRAMES_BACKGROUND, "shop.partner.RatesTimeout: partner did not answer within 2.0s")
    incident = traceback_text(FRAMES_INCIDENT, "KeyError: 'CHF'")
    events = steady_traffic(start, end)
    events += [(moment, "ERROR", "rates refresh failed", background) for moment in every(start + 30, end, 90)]  # 140, steady
    events += [(moment, "ERROR", "checkout failed", incident) for moment in every(ONSET + 5, end, 60)]  # 30, new
    onset, signatures = onset_of(tmp_path, events)
    assert onset.source == "logs"
    assert format_utc(onset.start) == "2026-02-10T14:30:05.000Z"
    assert signatures["KeyError"].kind == "incident"
    assert signatures["shop.partner.RatesTimeout"].kind == "background"
    assert signatures["shop.partner.RatesTimeout"].weight == 0.0
    assert any("KeyError: 'CHF'" in str(line) for line in onset.evidence)


def test_a_signature_that_was_there_before_is_the_incident_when_its_rate_jumps(tmp_path):
    start, end = ONSET - 3 * HOUR, ONSET + 30 * MINUTE
    incident = traceback_text(FRAMES_INCIDENT, "KeyError: 'CHF'")
    events = steady_traffic(start, end)
    events += [(moment, "ERROR", "checkout failed", incident) for moment in every(start + 100, ONSET, 15 * MINUTE)]  # 12 before
    events += [(moment, "ERROR", "checkout failed", incident) for moment in every(ONSET + 2, end, 30)]  # 60 after
    onset, signatures = onset_of(tmp_path, events)
    assert signatures["KeyError"].kind == "incident"
    assert signatures["KeyError"].rate_before_per_hour == pytest.approx(4, abs=1)
    assert abs(onset.start - ONSET) < 20 * MINUTE


def test_steady_errors_alone_give_no_onset_unless_the_symptom_names_a_time(tmp_path):
    start, end = ONSET - 3 * HOUR, ONSET + 30 * MINUTE
    background = traceback_text(FRAMES_BACKGROUND, "shop.partner.RatesTimeout: partner did not answer within 2.0s")
    events = steady_traffic(start, end) + [(moment, "ERROR", "rates", background) for moment in every(start + 30, end, 90)]
    onset, signatures = onset_of(tmp_path, events)
    assert onset.source == "none" and onset.start is None
    assert signatures["shop.partner.RatesTimeout"].kind == "unclassified"
    onset, signatures = onset_of(tmp_path, events, symptom_time=ONSET)
    assert (onset.source, onset.start) == ("symptom", ONSET)
    assert signatures["shop.partner.RatesTimeout"].kind == "background"


def test_the_symptoms_time_picks_between_two_bursts(tmp_path):
    start, end = ONSET - 4 * HOUR, ONSET + 30 * MINUTE
    early = traceback_text(FRAMES_BACKGROUND, "shop.partner.RatesTimeout: partner did not answer within 2.0s")
    late = traceback_text(FRAMES_INCIDENT, "KeyError: 'CHF'")
    events = steady_traffic(start, end)
    events += [(moment, "ERROR", "rates", early) for moment in every(ONSET - 2 * HOUR, end, 30)]  # bigger, earlier
    events += [(moment, "ERROR", "checkout", late) for moment in every(ONSET, end, 45)]
    without_hint, _ = onset_of(tmp_path, events)
    with_hint, signatures = onset_of(tmp_path, events, symptom_time=ONSET)
    assert abs(without_hint.start - (ONSET - 2 * HOUR)) < 5 * MINUTE
    assert abs(with_hint.start - ONSET) < 5 * MINUTE
    assert signatures["KeyError"].kind == "incident" and signatures["shop.partner.RatesTimeout"].kind == "burst"
