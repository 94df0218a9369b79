"""Evidence from the code: a commit changed a function or line of a stack frame (`git log -L`),
added or removed an error's text (pickaxe), touched a frame's file, a file holding an error's text,
or a file naming the symptom's endpoint."""

from __future__ import annotations


from wave_sandbox.evidence import changes
from wave_sandbox.evidence.changes import HistoryRange
from wave_sandbox.evidence.clues import ErrorClues, TracedFunction
from wave_sandbox.evidence.file_kinds import file_kind
from wave_sandbox.evidence.extents import function_extent
from wave_sandbox.evidence.gitrepo import GitRepository


__all__ = ["credit_code_evidence"]

FUNCTION_CHANGE = 6.0
EXTRA_FUNCTION_CHANGE = 1.0
MAX_EXTRA_FUNCTIONS = 2
EXACT_LINE_CHANGE = 2.0
ERROR_TEXT_ADDED = 4.0
FRAME_FILE_TOUCHED = 2.0
ERROR_TEXT_FILE_TOUCHED = 2.0
ENDPOINT_FILE_TOUCHED = 0.5
ENDPOINTS_SEARCHED = 3
TEXT_SHOWN_CHARS = 60

Suspects = dict[str, "Suspect"]


def credit_code_evidence(
    repository: GitRepository, history: HistoryRange, clues: ErrorClues, endpoints: list[str], suspects: Suspects
) -> None:
    """Add the code's reasons to every suspect (keyed by full commit id)."""
    _credit_function_changes(repository, history, clues, suspects)
    _credit_error_texts(repository, history, clues, suspects)
    _credit_frame_files(clues, suspects)
    _credit_endpoint_files(repository, history, endpoints, suspects)


def _credit_function_changes(
    repository: GitRepository, history: HistoryRange, clues: ErrorClues, suspects: Suspects
) -> None:
    credited: dict[str, int] = {}
    for traced in clues.functions:
        extent = _function_extent(repository, history, traced)
        changed = changes.commits_changing_lines(repository, history, traced.path, *extent[1:]) if extent else set()
        exact = (
            changes.commits_writing_line(repository, history, traced.path, traced.line, traced.source)
            if traced.line > 0 else set()
        )
        where = f"{extent[0]}() in {traced.path}" if extent else f"{traced.path} around line {traced.line}"
        for commit in sorted((changed | exact) & suspects.keys()):
            suspect, earlier = suspects[commit], credited.get(commit, 0)
            if earlier <= MAX_EXTRA_FUNCTIONS:
                weight = FUNCTION_CHANGE if earlier == 0 else EXTRA_FUNCTION_CHANGE
                text = f"changed {where}, which is in the stack trace of {traced.label}"
                suspect.add(weight * traced.weight, text, True, "function")
                credited[commit] = earlier + 1
            suspect.paths_with_changed_frames.add(traced.path)
            if commit in exact:
                text = f"changed line {traced.line} of {traced.path} itself, the line in that stack frame"
                suspect.add(EXACT_LINE_CHANGE * traced.weight, text, True, "line")


def _function_extent(repository: GitRepository, history: HistoryRange, traced: TracedFunction):
    """(function name, first line, last line) at the deployed revision; None when it cannot be found."""
    if history.revision is None:
        return None
    source = changes.file_at(repository, history.revision, traced.path)
    extent = function_extent(traced.path, source, traced.function, traced.line) if source else None
    return (extent.name, extent.first_line, extent.last_line) if extent else None


def _credit_error_texts(
    repository: GitRepository, history: HistoryRange, clues: ErrorClues, suspects: Suspects
) -> None:
    credited_files: set[tuple[str, str]] = set()  # (commit, file): one such reason per file
    for text, weight, label in clues.error_texts:
        shown = text if len(text) <= TEXT_SHOWN_CHARS else text[: TEXT_SHOWN_CHARS - 3] + "..."
        added = changes.commits_adding_text(repository, history, text) & suspects.keys()
        for commit in added:
            of = f" of {label}" if label else ""
            text_reason = f"added or removed the error text{of} '{shown}'"
            suspects[commit].add(ERROR_TEXT_ADDED * weight, text_reason, True, "error-text")
        holders = changes.files_holding_text(repository, history.revision, text)
        for commit, suspect in suspects.items():
            touched = sorted(path for path in holders & {changed.path for changed in suspect.change.files}
                             if (commit, path) not in credited_files)
            if touched and commit not in added:
                credited_files.add((commit, touched[0]))
                text_reason = f"touches {touched[0]}, which holds the error text '{shown}'"
                suspect.add(ERROR_TEXT_FILE_TOUCHED * weight, text_reason, True, "error-file")


def _credit_frame_files(clues: ErrorClues, suspects: Suspects) -> None:
    for suspect in suspects.values():
        credited_files = set(suspect.paths_with_changed_frames)
        for changed in suspect.change.files:
            for path in ({changed.path, changed.old_path} - {None}) & clues.frame_files.keys():
                if path in credited_files:
                    continue
                weight, label = clues.frame_files[path]
                text = f"touches {path}, which is in the stack trace of {label} (other lines than the frames)"
                suspect.add(FRAME_FILE_TOUCHED * weight, text, True, "frame-file")
                credited_files.add(path)


def _credit_endpoint_files(
    repository: GitRepository, history: HistoryRange, endpoints: list[str], suspects: Suspects
) -> None:
    for endpoint in endpoints[:ENDPOINTS_SEARCHED]:
        holders = changes.files_holding_text(repository, history.revision, endpoint)
        for suspect in suspects.values():
            code_files = {changed.path for changed in suspect.change.files if file_kind(changed.path) == "code"}
            touched = sorted(holders & code_files)
            if touched:
                suspect.add(ENDPOINT_FILE_TOUCHED, f"touches {touched[0]}, which mentions {endpoint} (from the symptom)")
