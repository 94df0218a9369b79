"""Platform log exports read as the platforms write them, traces split one entry per line joined back."""

import json

import pytest

from tests.fixtures.evidence.scenarios_polyglot import committed_trace
from tests.unit.evidence.helpers import ONSET, write_file
from wave_sandbox.evidence.exports import convert_export, looks_like_export
from wave_sandbox.evidence.logs import scan_logs
from wave_sandbox.evidence.timestamps import TimeContext, format_utc

CONTEXT = TimeContext(reference_epoch=ONSET)
JAVA = committed_trace("java-checkout").splitlines()
GO = committed_trace("go-inventory").splitlines()


def scanned(tmp_path, name: str, text: str):
    path = write_file(tmp_path / name, text, ONSET)
    records = []
    scan = scan_logs([str(path)], records.append)
    return scan.files[0], [record for record in records if record.traceback]


def test_cloudwatch_filter_log_events_with_a_trace_split_into_events(tmp_path):
    lines = ["ERROR c.s.CheckoutController - Request failed"] + JAVA
    events = [{"logStreamName": "web/1", "timestamp": int(ONSET * 1000) + index, "message": line, "eventId": str(index)}
              for index, line in enumerate(lines)]  # fmt: skip
    summary, traced = scanned(tmp_path, "events.json", json.dumps({"events": events}, indent=2))
    assert summary.export == "json-document"
    assert len(traced) == 1 and traced[0].traceback.exception_type == "java.lang.ArithmeticException"
    assert traced[0].time == pytest.approx(ONSET)


def test_cloud_logging_read_newest_first_with_the_stack_in_its_own_field(tmp_path):
    entries = [
        {"insertId": str(index), "severity": "ERROR", "timestamp": format_utc(ONSET + index),
         "jsonPayload": {"message": "quote failed", "stack_trace": committed_trace("node-shipping")}}
        for index in range(3)
    ]  # fmt: skip
    summary, traced = scanned(tmp_path, "read.json", json.dumps(list(reversed(entries))))
    assert summary.export == "json-document"
    assert [record.time for record in traced] == [ONSET, ONSET + 1, ONSET + 2]
    assert {record.traceback.exception_type for record in traced} == {"TypeError"}


def test_cloud_logging_text_payload_lines_one_per_trace_line(tmp_path):
    lines = [json.dumps({"textPayload": line, "timestamp": format_utc(ONSET + index / 1000), "severity": "ERROR",
                         "resource": {"labels": {"pod_name": "p-1"}}}) for index, line in enumerate(GO)]  # fmt: skip
    summary, traced = scanned(tmp_path, "entries.json", "\n".join(lines) + "\n")
    assert summary.export == "json-lines"
    assert len(traced) == 1 and traced[0].traceback.language == "go" and len(traced[0].traceback.frames) == 3


def test_datadog_export_document_and_csv(tmp_path):
    document = {"data": [{"id": "1", "type": "log", "attributes": {
        "timestamp": format_utc(ONSET), "status": "error", "service": "cart", "message": "request failed",
        "attributes": {"error": {"stack": committed_trace("php-cart")}}}}]}  # fmt: skip
    summary, traced = scanned(tmp_path, "datadog.json", json.dumps(document))
    assert summary.export == "json-document" and traced[0].traceback.exception_type == "DivisionByZeroError"
    rows = ["Date,Host,Service,Status,Message", f'{format_utc(ONSET)},h,cart,error,"' + "\n".join(JAVA).replace('"', '""') + '"']
    summary, traced = scanned(tmp_path, "datadog.csv", "\n".join(rows) + "\n")
    assert summary.export == "csv" and traced[0].traceback.language == "jvm"


def test_logcli_default_output_newest_first(tmp_path):
    trace = committed_trace("rust-pricing", "thread ").splitlines()
    lines = [f"{format_utc(ONSET + index / 1000)} {{app=\"pricing\"}} {line}" for index, line in enumerate(trace)]
    summary, traced = scanned(tmp_path, "loki.txt", "\n".join(reversed(lines)) + "\n")
    assert summary.export == "logcli"
    assert len(traced) == 1 and traced[0].traceback.message == "attempt to divide by zero"


def test_journald_and_docker_json_file_one_entry_per_line(tmp_path):
    journal = [json.dumps({"__REALTIME_TIMESTAMP": str(int((ONSET + index / 1000) * 1e6)), "PRIORITY": "3",
                           "_SYSTEMD_UNIT": "inventory.service", "MESSAGE": line}) for index, line in enumerate(GO)]  # fmt: skip
    summary, traced = scanned(tmp_path, "journal.json", "\n".join(journal) + "\n")
    assert summary.export == "json-lines" and len(traced) == 1 and traced[0].traceback.exception_type == "panic"
    docker = [json.dumps({"log": line + "\n", "stream": "stderr", "time": format_utc(ONSET + index / 1000)})
              for index, line in enumerate(JAVA)]  # fmt: skip
    summary, traced = scanned(tmp_path, "container.log", "\n".join(docker) + "\n")
    assert summary.export == "json-lines" and traced[0].traceback.chained_types == ["java.lang.IllegalStateException"]


def test_kubectl_timestamps_and_cri_lines_need_no_conversion(tmp_path):
    kubectl = [f"2026-02-10T14:30:00.{index:09d}Z {line}" for index, line in enumerate(JAVA)]
    summary, traced = scanned(tmp_path, "kubectl.log", "\n".join(kubectl) + "\n")
    assert summary.export is None and len(traced) == 1
    cri = [f"2026-02-10T14:30:00.{index:09d}Z stderr F {line}" for index, line in enumerate(JAVA)]
    summary, traced = scanned(tmp_path, "cri.log", "\n".join(cri) + "\n")
    assert len(traced) == 1 and traced[0].traceback.exception_type == "java.lang.ArithmeticException"


def test_plain_json_lines_of_an_application_are_not_an_export():
    line = json.dumps({"time": "2026-02-10T14:30:00Z", "level": "error", "message": "x"}).encode()
    assert not looks_like_export(line + b"\n", CONTEXT)
    assert convert_export(b"2026-02-10T14:30:00Z INFO hello\n", CONTEXT) is None


def test_cloudwatch_subscription_lines_and_logcli_jsonl(tmp_path):
    records = [
        json.dumps({"messageType": "DATA_MESSAGE", "logGroup": "/ecs/checkout", "logStream": "web/1", "logEvents": [
            {"id": str(index), "timestamp": int(ONSET * 1000) + index, "message": line}
            for index, line in enumerate(JAVA) if index // 4 == part]})
        for part in range(2)
    ]  # a subscription delivers a record per batch: this trace arrives in two
    summary, traced = scanned(tmp_path, "firehose.json", "\n".join(records) + "\n")
    assert summary.export == "json-lines" and traced[0].traceback.language == "jvm"
    loki = [json.dumps({"labels": {"app": "inventory"}, "line": line, "timestamp": format_utc(ONSET + index / 1000)})
            for index, line in enumerate(GO)]  # fmt: skip
    summary, traced = scanned(tmp_path, "loki.jsonl", "\n".join(loki) + "\n")
    assert summary.export == "json-lines" and traced[0].traceback.exception_type == "panic"
