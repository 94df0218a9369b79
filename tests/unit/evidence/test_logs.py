"""Reading logs: which records are errors, their tracebacks, line numbers, and blocks that split them."""

import json

import pytest

from tests.unit.evidence.helpers import traceback_text, write_file
from wave_sandbox.evidence import logs
from wave_sandbox.evidence.logs import scan_logs

FRAMES = [("/app/shop/api.py", 12, "handle", "return charge(order)"), ("/app/shop/pay.py", 30, "charge", "raise PaymentError(order)")]


def errors_in(*paths: str):
    found = []
    scan = scan_logs(list(paths), found.append)
    return found, scan


def test_levels_tracebacks_and_access_lines_decide_what_is_an_error(tmp_path):
    text = "\n".join([
        "2026-02-04T14:30:00.000Z INFO app: retried, errors=0",
        "2026-02-04T14:30:01.000Z WARNING app: handled, logged with its traceback",
        *traceback_text(FRAMES, "shop.pay.PaymentError: declined"),
        "2026-02-04T14:30:02.000Z ERROR app: unhandled error on POST /pay (request 3f2a)",
        *traceback_text(FRAMES, "shop.pay.PaymentError: declined"),
        '2026-02-04T14:30:03.000Z INFO gunicorn.access: 10.0.0.1 "POST /pay HTTP/1.1" 502 12 3ms',
        '2026-02-04T14:30:04.000Z INFO gunicorn.access: 10.0.0.1 "GET /error-page HTTP/1.1" 200 12 3ms',
    ]) + "\n"  # fmt: skip
    found, scan = errors_in(str(write_file(tmp_path / "app.log", text)))
    assert [(record.line_no, record.http) for record in found] == [(9, None), (16, ("POST", "/pay", 502))]
    error = found[0]
    assert error.traceback.exception_type == "shop.pay.PaymentError"
    assert [frame.function for frame in error.traceback.frames] == ["handle", "charge"]
    assert error.exception_line == (15, "shop.pay.PaymentError: declined")
    assert scan.files[0].untimed_lines == 0


def test_json_lines_with_the_traceback_in_a_field(tmp_path):
    lines = [
        {"time": "2026-02-04T14:30:00Z", "level": "info", "message": "ok"},
        {"time": "2026-02-04T14:30:01Z", "level": "error", "message": "export failed",
         "exc_info": "\n".join(traceback_text(FRAMES, "shop.pay.PaymentError: declined"))},
        {"__REALTIME_TIMESTAMP": "1770215402000000", "PRIORITY": "3", "MESSAGE": "relay unreachable"},
        {"time": 1770215403, "status": 503, "method": "get", "path": "/pay"},
    ]  # fmt: skip
    found, _ = errors_in(str(write_file(tmp_path / "app.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")))
    assert [record.line_no for record in found] == [2, 3, 4]
    assert found[0].traceback.exception_type == "shop.pay.PaymentError"
    assert found[0].message == "export failed"
    assert found[1].message == "relay unreachable"
    assert found[2].http == ("GET", "/pay", 503)


def test_syslog_prefixes_every_traceback_line_and_the_record_still_holds_them_all(tmp_path):
    prefix = "Feb  4 14:30:05 web-2 shop[812]: "
    text = "\n".join(prefix + line for line in ["ERROR shop.api: payment failed", *traceback_text(FRAMES, "shop.pay.PaymentError: declined"), "INFO shop.api: next request"]) + "\n"
    found, _ = errors_in(str(write_file(tmp_path / "syslog", text, mtime=1770300000)))
    assert len(found) == 1
    assert [frame.path for frame in found[0].traceback.frames] == ["/app/shop/api.py", "/app/shop/pay.py"]


def test_a_chained_traceback_is_one_record_reporting_the_last_exception(tmp_path):
    text = "\n".join([
        "2026-02-04T14:30:01.000Z ERROR app: failed",
        *traceback_text([FRAMES[1]], "KeyError: 'tier'"),
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        *traceback_text([FRAMES[0]], "shop.pay.PaymentError: declined"),
        "2026-02-04T14:30:02.000Z INFO app: next",
    ]) + "\n"  # fmt: skip
    found, scan = errors_in(str(write_file(tmp_path / "app.log", text)))
    assert len(found) == 1
    assert found[0].traceback.exception_type == "shop.pay.PaymentError"
    assert found[0].traceback.chained_types == ["KeyError"]
    assert len(found[0].traceback.frames) == 2
    assert scan.files[0].untimed_lines == 0


@pytest.mark.parametrize("block_bytes", [64, 97, 150, 1 << 20])
def test_records_split_by_block_boundaries_are_read_once_and_whole(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(logs, "BLOCK_BYTES", block_bytes)
    events = []
    for second in range(20):
        events.append(f"2026-02-04T14:30:{second:02d}.000Z INFO app: request {second} served fine")
        if second % 3 == 0:
            events += [f"2026-02-04T14:30:{second:02d}.500Z ERROR app: failed {second}", *traceback_text(FRAMES, "shop.pay.PaymentError: declined")]
    text = "\n".join(events) + "\n"
    found, scan = errors_in(str(write_file(tmp_path / "app.log", text)))
    lines = text.splitlines()
    assert [record.message for record in found] == [f"app: failed {second}" for second in range(0, 20, 3)]
    assert all(lines[record.line_no - 1].startswith(record.header) for record in found)
    assert all(record.traceback and len(record.traceback.frames) == 2 for record in found)
    assert scan.files[0].lines == len(lines)
    assert scan.files[0].untimed_lines == 0


def test_folders_are_walked_missing_paths_and_binary_files_are_skipped_and_said(tmp_path):
    write_file(tmp_path / "logs" / "a.log", "2026-02-04T14:30:00.000Z ERROR app: x\n")
    write_file(tmp_path / "logs" / "nested" / "b.log", "2026-02-04T14:30:01.000Z ERROR app: y\n")
    (tmp_path / "logs" / "core.bin").write_bytes(b"\0\1\2binary")
    found, scan = errors_in(str(tmp_path / "logs"), str(tmp_path / "nowhere"))
    assert len(found) == 2
    assert [summary.source for summary in scan.files] == [str(tmp_path / "logs" / "a.log"), str(tmp_path / "logs" / "nested" / "b.log")]
    assert scan.skipped == [f"{tmp_path / 'nowhere'} (not found)", f"{tmp_path / 'logs' / 'core.bin'} (binary)"]


def test_deploy_lines_naming_commits_are_collected(tmp_path):
    text = '2026-02-04T14:17:13Z deploy #1854 orders-service v2.45.0 commit 42c379b "Add history" started by ci\n'
    _, scan = errors_in(str(write_file(tmp_path / "deploy.log", text)))
    assert [(mention.token, mention.line_no) for mention in scan.deploy_mentions] == [("42c379b", 1)]
