"""Named rules for the content of one Markdown section, chosen in a pipeline by `check: NAME`.

They are the incident-response rules (issue 6): a timeline in UTC and in order, action items with owners
and due dates, five whys as a chain of answered questions, and hypotheses each with a likelihood,
evidence for and against, and a test. Each rule returns its problems as sentences the agent can act on;
line numbers are the artifact's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from wave_sandbox.contracts.markdown import Document, Section, list_items, normalize, tables

TIME = re.compile(r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?![\d])")
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
UTC_MARKER = re.compile(r"\b(?:UTC|GMT)\b|\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?Z\b|[+-]00:?00\b", re.IGNORECASE)
OTHER_TIME_ZONE = re.compile(
    r"\b(PST|PDT|EST|EDT|CST|CDT|MST|MDT|AKST|AKDT|HST|CET|CEST|EET|EEST|WET|WEST|BST|IST|JST|KST|AEST|AEDT|SGT|HKT)\b"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?([+-](?!00:00)\d{2}:\d{2})\b"
)
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_LIKE = re.compile(
    rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{4}}/\d{{1,2}}/\d{{1,2}}|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b"
    rf"|\b{MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{MONTH}(?!\w)",
    re.IGNORECASE,
)
EMPTY_CELLS = {"", "n a", "tbd"}
PLACEHOLDERS = {"", "-", "tbd", "tba", "n a", "na", "none", "unassigned", "todo", "unknown", "owner", "someone"}
HANDLE = re.compile(r"@[A-Za-z0-9][\w.-]*")
OWNER_LABEL = re.compile(r"\b(?:owner|assignee|assigned to|responsible)\b\W*\s*([^,;|\n(]+)", re.IGNORECASE)
WHY_LINE = re.compile(r"^(?:why\b|\d+\W{0,3}why\b|why\s*#?\d)|\bwhy\b.*\?", re.IGNORECASE)
LIKELIHOOD_IN_TITLE = re.compile(r"\b(HIGH|MEDIUM|LOW)\b")
LIKELIHOOD_STATED = re.compile(
    r"(likelihood|probability)\W{0,20}(high|medium|low)\b|\b(high|medium|low)\W{1,3}(likelihood|probability)",
    re.IGNORECASE,
)
MARKUP = re.compile(r"^[\s>#|]*(?:[-*+]|\d{1,3}[.)])?\s*|[*_`|]+")
HALF_DAY_MINUTES = 12 * 60
SHOWN_TITLE_CHARACTERS = 50
MINIMUM_WHYS = 5

EVIDENCE_FOR = ("evidence for", "evidence supporting", "supporting evidence", "evidence in favour",
                "evidence in favor", "supporting", "supports", "for", "pro", "pros")
EVIDENCE_AGAINST = ("evidence against", "against", "contradicting", "contradicts", "counter evidence",
                    "counterevidence", "refuting", "con", "cons")
TESTS = ("tests", "test", "to confirm", "confirm", "confirmation", "how to confirm", "how to test",
         "verification", "verify", "to rule out", "rule out", "experiment", "check", "checks", "validation")

SectionRule = Callable[[Document, Section], list[str]]


# ----- timeline: UTC, in order ---------------------------------------------------------------------
def check_timeline(document: Document, section: Section) -> list[str]:
    timed = [(number, moment) for number, text in _entries(section) if (moment := _moment(text))]
    if len(timed) < 2:
        return ["needs at least two entries with a time (HH:MM), one event per table row or list item"]
    problems = []
    if not UTC_MARKER.search(section.title + "\n" + section.text):
        problems.append("does not say its times are UTC: write them in UTC and say so (a 'Time (UTC)' column, or 14:30Z)")
    for number, line in section.lines:
        zone = OTHER_TIME_ZONE.search(line)
        if zone:
            problems.append(f"line {number} gives a time in {zone.group(1) or zone.group(2)}; give every time in UTC")
    return problems + _order_problems(timed)


def _entries(section: Section) -> list[tuple[int, str]]:
    """The timeline's events: table rows, else list items, else lines."""
    rows = [(number, " | ".join(cells)) for table in tables(section.lines) for number, cells in table.rows]
    return rows or list_items(section.lines) or [(n, line) for n, line in section.lines if line.strip()]


def _moment(text: str) -> tuple[date | None, int] | None:
    """The entry's date (when written) and its first time of day in minutes."""
    time_match = TIME.search(text)
    if not time_match:
        return None
    date_match = ISO_DATE.search(text)
    try:
        day = date(*map(int, date_match.groups())) if date_match else None
    except ValueError:
        day = None
    return day, int(time_match.group(1)) * 60 + int(time_match.group(2))


def _order_problems(timed: list[tuple[int, tuple[date | None, int]]]) -> list[str]:
    """Times must not go back; without dates, a drop of more than 12 hours is taken as midnight passing."""
    problems, day, previous = [], 0, None
    for number, (written_day, minutes) in timed:
        if written_day is not None:
            day = written_day.toordinal()
        elif previous and minutes < previous[1] % 1440 - HALF_DAY_MINUTES:
            day += 1
        absolute = day * 1440 + minutes
        if previous and absolute < previous[1]:
            problems.append(
                f"line {number} ({_clock(minutes)}) comes after line {previous[0]} ({_clock(previous[1])}); "
                "list the events in time order"
            )
        previous = (number, max(absolute, previous[1]) if previous else absolute)
    return problems


def _clock(minutes: int) -> str:
    return f"{minutes % 1440 // 60:02d}:{minutes % 60:02d}"


# ----- action items: owners and due dates ----------------------------------------------------------
def check_action_items(document: Document, section: Section) -> list[str]:
    found = tables(section.lines)
    if found:
        return [problem for table in found for problem in _action_table_problems(table)]
    items = list_items(section.lines)
    if not items:
        return ["lists no action items; use a table with Action, Owner and Due date columns"]
    return [problem for number, text in items for problem in _action_item_problems(number, text)]


def _action_table_problems(table) -> list[str]:
    owner = table.column("owner", "assignee", "assigned", "responsible", "who")
    due = table.column("due", "deadline", "target date", "by when", "date", "when")
    if owner is None or due is None:
        return [f"the action items table needs an Owner and a Due date column (it has: {', '.join(table.header)})"]
    if not table.rows:
        return ["the action items table has no rows"]
    action = table.column("action", "item", "task", "description", "what")
    problems = []
    for number, cells in table.rows:
        name = _shorten(_cell(cells, action if action is not None else min(1, len(cells) - 1)))
        if normalize(_cell(cells, owner)) in PLACEHOLDERS:
            problems.append(f"line {number}: action '{name}' has no owner")
        if not DATE_LIKE.search(_cell(cells, due)):
            problems.append(f"line {number}: action '{name}' has no due date (write one, e.g. 2026-02-11)")
    return problems


def _action_item_problems(number: int, text: str) -> list[str]:
    name, problems = _shorten(_strip_markup(text.splitlines()[0])), []
    owner = OWNER_LABEL.search(text)
    if not HANDLE.search(text) and (owner is None or normalize(owner.group(1)) in PLACEHOLDERS):
        problems.append(f"line {number}: action '{name}' has no owner (write 'Owner: <team or role>' or an @handle)")
    if not DATE_LIKE.search(text):
        problems.append(f"line {number}: action '{name}' has no due date (write one, e.g. 'Due: 2026-02-11')")
    return problems


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if 0 <= index < len(cells) else ""


# ----- five whys: a chain of answered questions ----------------------------------------------------
def check_five_whys(document: Document, section: Section) -> list[str]:
    whys = _why_questions(section)
    if len(whys) < MINIMUM_WHYS:
        return [f"has {len(whys)} 'why' question(s); the five whys need at least {MINIMUM_WHYS}, "
                "each answered before the next asks why that happened"]
    return [f"why #{position} (line {number}) has no answer" for position, (number, answered) in
            enumerate(whys, start=1) if not answered]


def _why_questions(section: Section) -> list[tuple[int, bool]]:
    """(line, answered?) of each why question; the answer follows on its line or the lines below."""
    plain = [(number, _strip_markup(line)) for number, line in section.lines]
    positions = [index for index, (_, text) in enumerate(plain) if WHY_LINE.search(text)]
    questions = []
    for order, index in enumerate(positions):
        number, text = plain[index]
        after_question = text.split("?", 1)[1] if "?" in text else ""
        next_question = positions[order + 1] if order + 1 < len(positions) else len(plain)
        answered = bool(_strip_markup(after_question)) or any(t for _, t in plain[index + 1:next_question])
        questions.append((number, answered))
    return questions


# ----- hypotheses: likelihood, evidence for and against, tests -------------------------------------
def check_hypotheses(document: Document, section: Section) -> list[str]:
    found = tables(section.lines)
    if not document.subsections(section) and found:
        return [problem for table in found for problem in _hypothesis_table_problems(table)]
    hypotheses = [(s.title, s.line, s.lines) for s in document.subsections(section)]
    hypotheses = hypotheses or [(section.title, section.line, section.lines)]
    return [problem for hypothesis in hypotheses for problem in _hypothesis_problems(*hypothesis)]


def _hypothesis_problems(title: str, line: int, lines: list[tuple[int, str]]) -> list[str]:
    text = "\n".join(body for _, body in lines)
    labels = [_label(body) for _, body in lines]
    missing = []
    if not LIKELIHOOD_STATED.search(title + "\n" + text) and not LIKELIHOOD_IN_TITLE.search(title):
        missing.append("a likelihood (a line starting 'Likelihood: HIGH', 'MEDIUM' or 'LOW')")
    for words, what in ((EVIDENCE_FOR, "evidence for it"), (EVIDENCE_AGAINST, "evidence against it"),
                        (TESTS, "a test to confirm or rule it out")):
        if not any(_label_is(label, words) for label in labels):
            missing.append(f"{what} (a line starting '{words[0].capitalize()}:')")
    return [f"hypothesis '{_shorten(title)}' (line {line}) lacks {what}" for what in missing]


def _hypothesis_table_problems(table) -> list[str]:
    columns = {
        "a likelihood (HIGH, MEDIUM or LOW)": table.column("likelihood", "probability", "confidence"),
        "evidence for it": table.column(*EVIDENCE_FOR),
        "evidence against it": table.column(*EVIDENCE_AGAINST),
        "a test to confirm or rule it out": table.column(*TESTS),
    }
    absent = [what for what, column in columns.items() if column is None]
    if absent:
        return [f"the hypotheses table has no column for {', '.join(absent)} (it has: {', '.join(table.header)})"]
    problems = []
    for number, cells in table.rows:
        for what, column in columns.items():
            if normalize(_cell(cells, column)) in EMPTY_CELLS:
                problems.append(f"line {number}: hypothesis '{_shorten(_cell(cells, 0))}' lacks {what}")
    return problems


def _label(line: str) -> str:
    """The label a line starts with ('**Evidence for**: ...' -> 'evidence for'), or its heading text."""
    text = _strip_markup(line)
    if line.lstrip().startswith("#"):
        return normalize(text)
    head, colon, _ = text.partition(":")
    return normalize(head) if colon and len(head.split()) <= 6 else ""


def _label_is(label: str, words: tuple[str, ...]) -> bool:
    return bool(label) and any(label == word or label.startswith(word + " ") for word in words)


# ----- shared --------------------------------------------------------------------------------------
def _strip_markup(line: str) -> str:
    return MARKUP.sub("", line).strip()


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_TITLE_CHARACTERS else text[: SHOWN_TITLE_CHARACTERS - 1] + "…"


SECTION_CHECKS: dict[str, tuple[SectionRule, str]] = {
    "timeline": (check_timeline, "events one per row or item, each with a time, in time order, in UTC (say so)"),
    "action_items": (check_action_items, "every action has an owner (a team or role) and a due date"),
    "five_whys": (check_five_whys, "at least five 'why' questions, each answered, each asking why the previous answer happened"),
    "hypotheses": (check_hypotheses, "each hypothesis (one subsection each) has a likelihood (HIGH, MEDIUM or LOW), "
                                     "'For:' evidence, 'Against:' evidence and 'Tests:' how to confirm or rule it out"),
}
"""Rule name -> (the rule, what it asks for in words: shown in the agent's prompt)."""
