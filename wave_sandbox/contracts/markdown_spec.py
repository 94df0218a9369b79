"""Wave's `markdown_spec` contract: a Speckit-style Markdown spec read into Wave's SpecData, then checked.

As in Wave (internal/contract/markdownspec.go): headings split the document into sections (not inside
code fences); a section's name picks what it fills (title, user stories, data model, API, edge cases,
testing, implementation steps, file changes, risks). The result is checked against the contract's JSON
Schema when it names one; without one, a readable file passes. Wave's parser gives up on a line longer
than 64 KiB (Go's bufio.Scanner), and so does this one. Unlike Wave, the host writes no `.json` copy
next to the artifact: the host only reads what the step produced.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from wave_sandbox.contracts.json_schema import validation_errors

MAX_LINE_BYTES = 64 * 1024
BULLETS = "-*•"
FILE_HINTS = (".go", ".js", ".ts", ".py", "/")


def markdown_spec_problems(text: str, source: str, schema: Any) -> list[str]:
    """What breaks the contract: an unparseable spec, or one whose SpecData the schema refuses."""
    if any(len(line.encode()) >= MAX_LINE_BYTES for line in text.split("\n")):
        return ["failed to parse markdown specification: a line is longer than 64 KiB (bufio.Scanner: token too long)"]
    if schema is None:
        return []
    data = json.loads(json.dumps(parse_spec(text, source)))
    return [f"markdown spec does not match schema requirements: {problem}" for problem in validation_errors(data, schema)]


def parse_spec(text: str, source: str) -> dict[str, Any]:
    """Wave's SpecData of a Markdown document, as Go's json.Marshal writes it (omitempty fields left out)."""
    spec: dict[str, Any] = {"title": "", "user_stories": None}
    for name, content in _sections(text):
        _process_section(spec, name, content)
    if not spec["title"]:
        spec["title"] = posixpath.splitext(posixpath.basename(source))[0]
    return {key: value for key, value in spec.items() if key in ("title", "user_stories") or value}


def _sections(text: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, str]] = []
    name, lines, fenced = None, [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("#") and not line.strip().startswith("```"):
            if name is not None:
                sections.append((name, "".join(lines)))
            name, lines = line.lstrip("#").strip(), []
        else:
            lines.append(line + "\n")
    if name is not None:
        sections.append((name, "".join(lines)))
    return sections


def _process_section(spec: dict, name: str, content: str) -> None:
    content, lower = content.strip(), name.lower()
    if not content:
        return
    if "title" in lower or lower == "overview":
        spec["title"] = spec["title"] or content.split("\n")[0].strip()
    elif "user stories" in lower or "user story" in lower:
        spec["user_stories"] = (spec["user_stories"] or []) + parse_user_stories(content)
    elif "story" in lower:
        spec["user_stories"] = (spec["user_stories"] or []) + (parse_user_stories(content) or _narrative(content))
    else:
        _process_other(spec, lower, content)


def _process_other(spec: dict, lower: str, content: str) -> None:
    rules = (
        (("data model", "schema"), "data_model", _structured), (("api", "endpoint"), "api_design", _structured),
        (("edge case", "error"), "edge_cases", _list_items), (("test", "validation"), "testing_strategy", _structured),
        (("implementation", "step"), "implementation_steps", _list_items),
        (("file", "change"), "file_changes", _file_changes), (("risk",), "risk_assessment", _structured),
    )
    for words, key, parse in rules:
        if any(word in lower for word in words):
            spec[key] = parse(content)
            return


def parse_user_stories(content: str) -> list[dict]:
    """Wave's parseUserStories: `As a ..., I want ... so that ...` stories and their acceptance criteria."""
    stories: list[dict] = []
    current: dict | None = None
    in_acceptance = False
    for line in (raw.strip() for raw in content.split("\n")):
        lower = line.lower()
        if not line:
            continue
        if "as a" in lower and "i want" in lower:
            current = _one_line_story(line)
            stories.append(current)
            in_acceptance = False
        elif lower.startswith("as a"):
            current = _story(as_a=_story_value(line))
            stories.append(current)
            in_acceptance = False
        elif current is not None:
            in_acceptance = _story_line(current, line, lower, in_acceptance)
    return [_completed(story) for story in stories
            if (story["as_a"] and (story["i_want"] or story["so_that"])) or story["acceptance_criteria"]]


def _story(as_a: str = "", i_want: str = "", so_that: str = "") -> dict:
    return {"as_a": as_a, "i_want": i_want, "so_that": so_that, "acceptance_criteria": []}


def _one_line_story(line: str) -> dict:
    lower = line.lower()
    as_a, i_want, so_that = lower.find("as a"), lower.find("i want"), lower.find("so that")
    want_end = so_that if so_that != -1 else len(line)
    story = _story(line[as_a + 5:i_want].strip().removesuffix(","), line[i_want + 6:want_end].strip().removesuffix(","))
    if so_that != -1:
        story["so_that"] = line[so_that + 8:].strip().removesuffix(".")
    return story


def _story_line(story: dict, line: str, lower: str, in_acceptance: bool) -> bool:
    if lower.startswith("i want"):
        story["i_want"] = _story_value(line)
    elif lower.startswith("so that"):
        story["so_that"] = _story_value(line)
    elif "acceptance" in lower:
        return True
    elif in_acceptance and line[0] in BULLETS:
        criterion = line.lstrip(BULLETS).strip()
        if criterion:
            story["acceptance_criteria"].append(criterion)
    return in_acceptance


def _completed(story: dict) -> dict:
    story["as_a"] = story["as_a"] or "user"
    if not story["i_want"] and story["so_that"]:
        story["i_want"] = "functionality described below"
    if not story["so_that"] and story["i_want"]:
        story["so_that"] = "the feature works as intended"
    return story


def _story_value(line: str) -> str:
    line, lower = line.strip(), line.strip().lower()
    if ":" in line:
        return line.split(":", 1)[1].strip()
    for prefix, stop in (("as a ", ","), ("i want ", " so that"), ("so that ", None)):
        if lower.startswith(prefix):
            value = line[len(prefix):]
            cut = value.lower().find(stop) if stop else -1
            return (value[:cut] if cut != -1 else value).strip()
    return line


def _narrative(content: str) -> list[dict]:
    criteria = [line.strip() for line in content.split("\n")
                if line.strip().lower().startswith(("given", "when", "then"))]
    story = _story("user", _first_meaningful(content), "the functionality works correctly")
    story["acceptance_criteria"] = criteria or None
    return [story]


def _first_meaningful(content: str) -> str:
    for line in (raw.strip() for raw in content.split("\n")):
        if len(line) > 20 and not line.startswith(("#", "**")):
            return line.strip(".,:;")
    return "use the feature"


def _list_items(content: str) -> list[str]:
    items = []
    for line in (raw.strip() for raw in content.split("\n")):
        if line and line[0] in BULLETS:
            item = line.lstrip(BULLETS).strip()
        elif "." in line and len(line.encode()) < 200:
            item = line.split(".", 1)[1].strip()
        else:
            continue
        if item:
            items.append(item)
    return items


def _file_changes(content: str) -> list[dict]:
    changes: list[dict] = []
    for line in (raw.strip() for raw in content.split("\n")):
        if not line:
            continue
        if any(hint in line for hint in FILE_HINTS):
            changes.append({"path": line, "description": "", "changes": ""})
        elif changes and not changes[-1]["description"]:
            changes[-1]["description"] = line
        elif changes:
            changes[-1]["changes"] += line + "\n"
    return changes


def _structured(content: str) -> Any:
    if content.startswith(("{", "[")):
        try:
            return json.loads(content)
        except ValueError:
            pass
    result: dict[str, str] = {}
    for index, line in enumerate(raw.strip() for raw in content.split("\n")):
        if line:
            key, _, value = line.partition(":") if ":" in line else (f"item_{index + 1}", "", line)
            result[key.strip()] = value.strip()
    return result or content
