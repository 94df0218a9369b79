"""Checks of Wave's command steps and of `workspace.mount[].subset_from`.

A command step (`type: command` with `script`, or `exec.type: command` with `exec.command`) runs a
shell script with no model, so it needs no persona and no prompt, but it needs something to run.
`subset_from` names `<step>.<artifact>.<json-path>` (the list itself is read at run time, from the
artifact, as untrusted data; Wave's audit pipelines name a step of the pipeline that calls them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wave_sandbox.spec.validation import IndexedStep, SemanticCheck

__all__ = ["check_command_step", "check_subset_sources", "split_subset_from"]


def split_subset_from(value: str) -> tuple[str, str, str] | None:
    """`<step>.<artifact>.<json-path>` split in three (None when it has fewer parts), as Wave splits it."""
    parts = value.split(".", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def check_command_step(check: SemanticCheck, indexed: IndexedStep) -> None:
    """A command step has a script to run (and no prompt is asked of it)."""
    step = indexed.step
    script = step.script or (step.exec.command if step.exec and step.exec.type == "command" else None)
    if script is None or not str(script).strip():
        where = indexed.path("script") if step.script is not None else indexed.path()
        check.add(where, "a command step needs a script: `script:` (with type: command) or exec.command")


def check_subset_sources(check: SemanticCheck, indexed: IndexedStep) -> None:
    """Only the form is checked: as in Wave, a list that is not there at run time (a step of a parent
    pipeline, an artifact not produced) mounts the whole source instead, with a warning."""
    for position, mount in enumerate(indexed.step.mounts):
        if mount.subset_from in (None, ""):
            continue
        place = indexed.path("workspace", "mount", position)
        parts = split_subset_from(mount.subset_from) if isinstance(mount.subset_from, str) else None
        if parts is None:
            message = f"subset_from {mount.subset_from!r} should be '<step>.<artifact>.<json-path>'"
            check.add(place + ("subset_from",), message, place)
