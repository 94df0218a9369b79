"""Deterministic incident evidence: when it started, what error it is, which change explains it.

Standard library and the `git` binary only, so that it runs in the agent image as `wave-evidence` as
well as on the host as `wave-sandbox evidence`. The pass, module by module:

    logs.py, records.py, timestamps.py                  read logs in blocks; error records in UTC
    exports.py, export_entries.py                       platform exports (CloudWatch, Cloud Logging,
                                                        Datadog, Loki, journald, Docker) as dated lines
    tracebacks.py, traces/                              stack traces: Python; Java/Kotlin, Go, Node/TS,
                                                        Ruby, .NET, Rust, PHP (one module per family)
    signatures.py, external_causes.py                   group errors (exception + repository frame);
                                                        errors that point outside the code, in words
    onset.py, symptom.py                                the onset: a new or surging signature
    frames.py, library_paths.py, extents.py, clues.py   what the errors point at in the repository
    changes.py, gitrepo.py, file_kinds.py               the commits before the onset (git)
    suspects.py                                         rank them, with reasons in words
    collect.py, report.py, cli.py                       the whole pass, its console and JSON output
"""

from wave_sandbox.evidence.collect import Evidence, EvidenceRequest, collect_evidence
from wave_sandbox.evidence.errors import EvidenceError
from wave_sandbox.evidence.report import evidence_to_json, render_console

__all__ = ["Evidence", "EvidenceError", "EvidenceRequest", "collect_evidence", "evidence_to_json", "render_console"]
