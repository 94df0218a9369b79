"""The "no person blamed" heuristic of a blameless post-incident report.

A sentence blames when it puts a person (a pronoun, a role such as "the engineer", an @handle or a
name) next to a word of fault ("forgot", "mistake", "careless", "should have known"), calls someone's
act their fault ("Alice's mistake"), or names who wrote the faulty change ("introduced by Bob Smith").
Systemic wording passes: "the deploy check did not touch the database", "the on-call engineer was
paged", "@sre-team: add pool alerts". A negation just before the fault word ("no one is to blame",
"not human error") clears the sentence. It is a heuristic: it finds the usual ways a report slips into
blame, and its message says how to rephrase.
"""

from __future__ import annotations

import re

PERSON = (
    r"(?:@[A-Za-z0-9][\w.-]*"
    r"|\b(?:he|she|him|her|his|hers)\b"
    r"|\b(?:engineer|developer|dev|programmer|operator|on-?call(?:er)?|sysadmin|admin(?:istrator)?|intern|"
    r"author|reviewer|contractor|employee|colleague|teammate|someone|somebody|person|individual|"
    r"(?:[a-z]+[- ])?team)s?\b"
    r"|(?-i:\b[A-Z][a-z]+ [A-Z][a-z]+\b))"
)
FAULT = (
    r"(?:blame[sd]?|blaming|at fault|fault(?!\s*(?:toleran|injection|domain|line|tree|isolation))|mistakes?|careless(?:ly|ness)?|negligen(?:t|ce)|incompeten(?:t|ce)|"
    r"sloppy|lazy|reckless(?:ly)?|should(?: have|'ve) known|should(?: have|'ve) (?:caught|checked|tested|noticed)|"
    r"forgot|neglected|ignored|screwed up|messed up|fat[- ]finger(?:ed|ing)?|dropped the ball|"
    r"human error|did(?:n't| not) bother|was(?:n't| not) careful)"
)
NEGATION = r"(?:\bno\b|\bnot\b|\bnever\b|\bwithout\b|\bnobody\b|\bno one\b|\brather than\b|\binstead of\b|n't)"
WORDS_BETWEEN = r"(?:\s+\S+){0,3}?\s+"

PERSON_THEN_FAULT = re.compile(rf"{PERSON}{WORDS_BETWEEN}(?:was\s+|were\s+|is\s+)?{FAULT}\b", re.IGNORECASE)
FAULT_OF_PERSON = re.compile(
    rf"\b(?:(?:fault|mistake|error|negligence|carelessness) (?:of|by)|blamed? on|blaming) (?:the )?{PERSON}", re.IGNORECASE
)
POSSESSIVE_FAULT = re.compile(
    r"(?:@[A-Za-z0-9][\w.-]*|\b[A-Z][a-z]+(?: [A-Z][a-z]+)?)['’]s\s+"
    r"(?i:(?:\w+\s+)?(?:mistake|fault|error|oversight|negligence|carelessness|bad (?:commit|change|deploy))\b)"
)
AUTHORED_BY = re.compile(
    r"\b(?i:introduced|written|authored|committed|pushed|merged|broken)\s+by\s+"
    r"(@[A-Za-z0-9][\w.-]*|[A-Z][a-z]+ [A-Z][a-z]+\b|[A-Z][a-z]+(?=[,.;:)]|$))"
)
HUMAN_ERROR = re.compile(r"\bhuman error\b", re.IGNORECASE)
NEGATED_BEFORE = re.compile(rf"{NEGATION}(?:\s+\S+){{0,3}}\s*$", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n")
SHOWN_CHARACTERS = 90
NOT_PEOPLE = {"the", "this", "that", "a", "an", "our", "their", "deployment", "deploy", "release", "commit",
              "version", "migration", "change", "pull", "merge", "build", "pipeline", "bot", "renovate",
              "dependabot"}


def blame_problems(text: str) -> list[str]:
    """One problem per line that blames a person, quoting the words that do."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        for sentence in SENTENCE_END.split(line):
            quote = blaming_words(sentence)
            if quote:
                problems.append(
                    f"line {number} blames a person (\u201c{_shorten(quote)}\u201d); a blameless report describes "
                    "what in the system allowed the failure, not who made it"
                )
                break
    return problems


def blaming_words(sentence: str) -> str | None:
    """The words of `sentence` that blame a person, or None."""
    for pattern in (PERSON_THEN_FAULT, FAULT_OF_PERSON, POSSESSIVE_FAULT, AUTHORED_BY, HUMAN_ERROR):
        for match in pattern.finditer(sentence):
            if not _negated(sentence, match) and not _names_no_one(match):
                return match.group(0)
    return None


def _negated(sentence: str, match: re.Match) -> bool:
    """A negation right before the match or before its fault word ("he did not forget")."""
    before = sentence[: match.start()]
    inside = match.group(0)
    return bool(NEGATED_BEFORE.search(before)) or bool(re.search(rf"{NEGATION}\s+\S*\s*$", inside[: _fault_at(inside)]))


def _fault_at(text: str) -> int:
    found = re.search(FAULT, text, re.IGNORECASE)
    return found.start() if found else len(text)


def _names_no_one(match: re.Match) -> bool:
    """'introduced by Deployment Pipeline' is not a person: a first word that names a thing, not someone."""
    return match.re is AUTHORED_BY and match.group(1).split()[0].lower() in NOT_PEOPLE


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"
