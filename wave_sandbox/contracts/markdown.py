"""Just enough Markdown for contracts: ATX headings and the sections under them, tables, list items.

A section is a heading and every line up to the next heading of the same or a higher level, so its
text includes its subsections. Lines inside fenced code blocks are text, never headings. Headings are
compared in a normalised form: lower case, emphasis and punctuation dropped, so that
`## 5 Whys`, `### **Five-Whys:**` and `## Root Cause Analysis` read as `5 whys`, `five whys` and
`root cause analysis`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower case, letters and digits only, single spaces: how headings and keywords are compared."""
    return NOT_WORD.sub(" ", text.lower()).strip()


def mentions(keyword: str, text: str) -> bool:
    """True when `keyword` starts a word of `text` (both normalised): 'hypothes' finds 'Hypotheses'."""
    wanted = normalize(keyword)
    return bool(wanted) and re.search(rf"(?<![a-z0-9]){re.escape(wanted)}", normalize(text)) is not None


@dataclass
class Section:
    """A heading and the lines under it (subsections included)."""

    level: int
    title: str
    line: int
    """1-based line of the heading."""
    lines: list[tuple[int, str]] = field(default_factory=list)
    """(line number, text) of every line below the heading, up to the next heading of level <= this one."""

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not any(line.strip() for _, line in self.lines)

    def matches(self, keywords: tuple[str, ...]) -> bool:
        return any(mentions(keyword, self.title) for keyword in keywords)


@dataclass
class Document:
    """A Markdown document split into sections, in order."""

    lines: list[str]
    sections: list[Section]

    @property
    def title(self) -> Section | None:
        """The document's title: its first heading, when that is the only level-1 heading."""
        level_one = [section for section in self.sections if section.level == 1]
        if self.sections and self.sections[0].level == 1 and len(level_one) == 1:
            return self.sections[0]
        return None

    @property
    def body_sections(self) -> list[Section]:
        """Every section but the title: the ones contracts look for."""
        return [section for section in self.sections if section is not self.title]

    def find(self, keywords: tuple[str, ...]) -> Section | None:
        """The first section whose heading mentions a keyword, preferring one with content."""
        found = [section for section in self.body_sections if section.matches(keywords)]
        with_content = [section for section in found if not section.is_empty]
        return (with_content or found or [None])[0]

    def subsections(self, parent: Section) -> list[Section]:
        """The sections directly below `parent` (the next heading level used inside it)."""
        inside = [s for s in self.sections if s.line in {number for number, _ in parent.lines}]
        if not inside:
            return []
        child_level = min(section.level for section in inside)
        return [section for section in inside if section.level == child_level]


def parse_document(text: str) -> Document:
    lines = text.splitlines()
    headings = _headings(lines)
    sections = []
    for position, (number, level, title) in enumerate(headings):
        end = next((later for later, other_level, _ in headings[position + 1:] if other_level <= level), len(lines) + 1)
        body = [(index, lines[index - 1]) for index in range(number + 1, end)]
        sections.append(Section(level, _plain(title), number, body))
    return Document(lines, sections)


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line number, level, text) of each heading outside fenced code."""
    found, fence = [], None
    for number, line in enumerate(lines, start=1):
        opening = FENCE.match(line)
        if opening and (fence is None or opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence)):
            fence = None if fence else opening.group(1)
            continue
        match = HEADING.match(line) if fence is None else None
        if match:
            found.append((number, len(match.group(1)), match.group(2) or ""))
    return found


def _plain(title: str) -> str:
    """A heading without emphasis markers or code ticks."""
    return re.sub(r"[*_`]+", "", title).strip()


# ----- tables and lists ---------------------------------------------------------------------------
@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]
    """(line number, cells) of each body row."""

    def column(self, *keywords: str) -> int | None:
        """The index of the first column whose header mentions a keyword."""
        for index, name in enumerate(self.header):
            if any(mentions(keyword, name) for keyword in keywords):
                return index
        return None


def tables(lines: list[tuple[int, str]]) -> list[Table]:
    """Every pipe table in `lines` (a header row, a separator row, then body rows)."""
    found = []
    index = 0
    while index + 1 < len(lines):
        header, separator = lines[index][1], lines[index + 1][1]
        if "|" in header and "|" in separator and TABLE_SEPARATOR.match(separator):
            rows, index = [], index + 2
            while index < len(lines) and "|" in lines[index][1] and lines[index][1].strip():
                rows.append((lines[index][0], split_row(lines[index][1])))
                index += 1
            found.append(Table(split_row(header), rows))
        else:
            index += 1
    return found


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    return [cell.strip() for cell in cells]


def list_items(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(line number, text) of each outermost list item, continuation lines joined to it."""
    markers = [(number, LIST_ITEM.match(line)) for number, line in lines]
    indents = [len(match.group(1)) for _, match in markers if match]
    if not indents:
        return []
    outer = min(indents)
    items: list[tuple[int, str]] = []
    for (number, line), (_, match) in zip(lines, markers):
        if match and len(match.group(1)) == outer:
            items.append((number, match.group(2)))
        elif items and line.strip() and not HEADING.match(line):
            items[-1] = (items[-1][0], items[-1][1] + "\n" + line.strip())
    return items
