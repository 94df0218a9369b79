"""Wave's `format` contract: a JSON object artifact checked against the rules of its kind.

The kind comes from the contract's `schema_path` file name, as in Wave's `inferFormatType` (the file is
never read): `github_issue`, `github_pr`, `implementation_results`, `analysis`, else `generic`. Every rule
is Wave's (internal/contract/format.go), checked on the artifact's bytes on the host; nothing runs.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from wave_sandbox.contracts.json_depth import JsonTooDeepError, loads_bounded

FORMAT_BY_SCHEMA = {
    "github-issue-analysis": "github_issue", "github-pr-draft": "github_pr", "github-pr-info": "github_pr",
    "implementation-results": "implementation_results", "analysis": "analysis", "findings": "analysis",
}
FORMAT_BY_FRAGMENT = (("issue", "github_issue"), ("pr", "github_pr"), ("implementation", "implementation_results"))
CONVENTIONAL_TITLE = re.compile(r"^(feat|fix|docs|style|refactor|test|chore)(\(.+\))?:\s+.+")


def format_kind(schema_path: str) -> str:
    """Wave's inferFormatType: the rule set a schema file name selects."""
    if not schema_path:
        return "generic"
    name = posixpath.basename(schema_path).removesuffix(".schema.json")
    if name in FORMAT_BY_SCHEMA:
        return FORMAT_BY_SCHEMA[name]
    return next((kind for fragment, kind in FORMAT_BY_FRAGMENT if fragment in name), "generic")


def format_problems(text: str, schema_path: str) -> list[str]:
    """Every rule of the artifact's kind it breaks, with Wave's wording; [] when it holds."""
    try:
        output = loads_bounded(text)
    except JsonTooDeepError as error:
        return [str(error)]
    except ValueError as error:
        return [f"output is not valid JSON: {error}"]
    if not isinstance(output, dict):
        return ["output is not valid JSON: expected a JSON object"]
    kind = format_kind(schema_path)
    violations = RULES[kind](output)
    return [f"{LABELS[kind]}: {violation}" for violation in violations]


def _string(output: dict, key: str) -> str | None:
    value = output.get(key)
    return value if isinstance(value, str) else None


def _sections(body: str, names: tuple[str, ...], what: str) -> list[str]:
    return [f"{what} body missing '{name}' section" for name in names
            if not re.search(rf"(?i)##?\s*{re.escape(name)}", body)]


def github_issue(output: dict) -> list[str]:
    found: list[str] = []
    title = _string(output, "title")
    if title is None:
        found.append("missing or invalid title field")
    else:
        found += ["issue title too short (minimum 10 characters)"] if len(title.encode()) < 10 else []
        found += ["issue title too long (maximum 200 characters)"] if len(title.encode()) > 200 else []
        if "[todo" in title.lower() or "placeholder" in title.lower():
            found.append("issue title contains placeholder text")
    body = _string(output, "body")
    if body is None:
        found.append("missing or invalid body field")
    else:
        found += ["issue body too short (minimum 50 characters)"] if len(body.encode()) < 50 else []
        found += _sections(body, ("Description", "Acceptance Criteria"), "issue")
        found += [f"issue body contains placeholder: {p}" for p in ("[TODO", "[PLACEHOLDER", "TBD", "FIXME") if p in body]
    if isinstance(output.get("labels"), list) and not output["labels"]:
        found.append("no labels specified (at least one recommended)")
    return found


def github_pr(output: dict) -> list[str]:
    found: list[str] = []
    title = _string(output, "title")
    if title is not None:
        found += ["PR title too short (minimum 10 characters)"] if len(title.encode()) < 10 else []
        found += ["PR title too long (maximum 72 characters for optimal display)"] if len(title.encode()) > 72 else []
        if not CONVENTIONAL_TITLE.match(title):
            found.append("PR title should follow conventional commit format (feat/fix/docs/etc: description)")
        found += ["PR title contains placeholder text"] if "[todo" in title.lower() else []
    body = _string(output, "body")
    if body is not None:
        found += _pr_body(body)
    if _string(output, "head") in ("main", "master"):
        found.append("cannot create PR from main/master branch")
    if _string(output, "base") == "":
        found.append("base branch is required")
    return found


def _pr_body(body: str) -> list[str]:
    found = ["PR body too short (minimum 100 characters for clarity)"] if len(body.encode()) < 100 else []
    found += _sections(body, ("Summary", "Changes", "Testing"), "PR")
    related = re.search(r"(?i)related\s+to\s+#\d+", body)
    closing = re.search(r"(?i)(closes|fixes|resolves)\s+#\d+", body)
    if not related and not closing:
        found.append("PR body should reference related issues (Related to #123)")
    if closing:
        found.append("PR body uses closing keywords (Closes/Fixes/Resolves #N) which auto-close issues on merge"
                     " — use 'Related to #N' instead")
    if "- [" not in body and "* [" not in body:
        found.append("PR body should include a checklist")
    return found


def implementation_results(output: dict) -> list[str]:
    found: list[str] = []
    files = output.get("files_changed")
    if not isinstance(files, list):
        found.append("missing files_changed array")
    elif not files:
        found.append("no files changed - implementation appears empty")
    if output.get("tests_passed") is False:
        found.append("tests are failing - implementation must pass all tests")
    if output.get("builds_successfully") is False:
        found.append("code does not build - must compile/run successfully")
    notes = _string(output, "implementation_notes")
    if notes is None:
        found.append("missing implementation_notes")
    elif len(notes.encode()) < 20:
        found.append("implementation_notes too brief (minimum 20 characters)")
    return found


def analysis(output: dict) -> list[str]:
    fields = [f for f in ("findings", "recommendations", "analysis", "summary") if f in output]
    if not fields:
        return ["missing analysis content (expected findings, recommendations, or similar fields)"]
    found = [f"{f} field too brief (minimum 50 characters)" for f in fields
             if isinstance(output[f], str) and len(output[f].encode()) < 50]
    return found + [f"{f} array is empty" for f in fields if output[f] == []]


def generic(output: dict[str, Any]) -> list[str]:
    found = ["output object is empty"] if not output else []
    return found + [f"field '{key}' contains placeholder text: {p}" for key, value in output.items()
                    if isinstance(value, str) for p in ("TODO", "FIXME", "XXX", "[placeholder]", "TBD") if p in value]


RULES = {"github_issue": github_issue, "github_pr": github_pr, "implementation_results": implementation_results,
         "analysis": analysis, "generic": generic}
LABELS = {"github_issue": "GitHub issue format validation failed", "github_pr": "GitHub PR format validation failed",
          "implementation_results": "implementation results validation failed",
          "analysis": "analysis format validation failed", "generic": "generic format validation failed"}
