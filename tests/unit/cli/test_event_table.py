"""The README's event table documents every state the engine emits and every field an event carries."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from wave_sandbox.engine import events

README = Path(__file__).resolve().parents[3] / "README.md"


def event_section() -> str:
    text = README.read_text()
    return text[text.index("### Events (`--json`)"):].split("\n## ", 1)[0]


def test_every_state_is_in_the_table():
    first_cells = re.findall(r"^\| (`[^|]+)\|", event_section(), re.MULTILINE)
    documented = {state for cell in first_cells for state in re.findall(r"`([a-z_]+)`", cell)}
    from wave_sandbox.engine import contract_assessment, step_attempts, step_control

    states = {value for name, value in vars(events).items()
              if name.isupper() and isinstance(value, str) and not name.startswith("_") and not name.endswith("_MESSAGE")}
    states |= {step_attempts.RETRYING, step_control.REWORKING, *contract_assessment.EVENT_OF_RESULT.values()}
    assert states <= documented, f"undocumented event states: {sorted(states - documented)}"


def test_every_field_is_named():
    section = event_section()
    fields = {field.name for field in dataclasses.fields(events.RunEvent)} - {"branch_files_changed",
                                                                             "branch_acting_files"}
    missing = [name for name in sorted(fields) if f"`{name}`" not in section]
    assert not missing, f"fields the README's event section does not name: {missing}"
