"""Problems found in a pipeline or persona file, and how each becomes one printable line.

Every line has the shape DESIGN.md fixes for `validate`:

    FILE:LINE: steps[N] (id): where: message

`steps[N] (id): ` is dropped for problems outside a step, `where: ` when the problem is about the
step (or the file) itself. LINE is the line of the offending key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.errors import SpecError
from wave_sandbox.spec.yaml_loader import Path_, YamlDocument


@dataclass(frozen=True)
class StepPlace:
    """Which step a problem is in: its index in `steps` and its id when it has one."""

    index: int
    step_id: str | None

    def __str__(self) -> str:
        return f"steps[{self.index}] ({self.step_id})" if self.step_id else f"steps[{self.index}]"


@dataclass(frozen=True)
class Problem:
    """One problem: where it is (file, line, step, field) and what is wrong."""

    file: str
    line: int
    message: str
    step: StepPlace | None = None
    where: str = ""

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}:"]
        if self.step is not None:
            parts.append(f"{self.step}:")
        if self.where:
            parts.append(f"{self.where}:")
        parts.append(self.message)
        return " ".join(parts)


def display_path(path: Path) -> str:
    """The file as a user would type it: relative to the cwd when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def describe_path(path: Path_) -> str:
    """Render a path inside a step or the file, e.g. `workspace.mount[0].source`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class ProblemCollector:
    """Gathers problems for one file, placing each by its path in the YAML document."""

    file: str
    document: YamlDocument
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: Path_, message: str, *, where_path: Path_ | None = None) -> None:
        """Record `message` at `path` (a path in the document; its line is looked up).

        `where_path` is the field the message talks about, when it is not `path` itself
        (for an unknown key, the message names the key and `where` is its parent).
        """
        shown_path = path if where_path is None else where_path
        step, inner = self._split_step(shown_path)
        line = self.document.line_of(path)
        self.problems.append(Problem(self.file, line, message, step, describe_path(inner)))

    def _split_step(self, path: Path_) -> tuple[StepPlace | None, Path_]:
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            return StepPlace(path[1], self._step_id(path[1])), path[2:]
        return None, path

    def _step_id(self, index: int) -> str | None:
        steps = self.document.data.get("steps") if isinstance(self.document.data, dict) else None
        if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], dict):
            step_id = steps[index].get("id")
            return step_id if isinstance(step_id, str) and step_id else None
        return None


def sorted_problem_lines(problems: list[Problem]) -> list[str]:
    """Problems as lines, by line within each file (files in the order met), each once."""
    file_order: dict[str, int] = {}
    for problem in problems:
        file_order.setdefault(problem.file, len(file_order))
    ordered = sorted(
        enumerate(problems), key=lambda pair: (file_order[pair[1].file], pair[1].line, pair[0])
    )
    lines: list[str] = []
    for _, problem in ordered:
        text = str(problem)
        if text not in lines:
            lines.append(text)
    return lines


def raise_if_problems(problems: list[Problem]) -> None:
    """Raise one SpecError carrying every problem, sorted by line."""
    if problems:
        raise SpecError(sorted_problem_lines(problems))
