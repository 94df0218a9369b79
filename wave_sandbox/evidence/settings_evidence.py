"""Evidence from settings: a commit bumped a library whose code is in the stack traces, or changed
configuration whose words are the errors' words or whose new value the error messages hold."""

from __future__ import annotations

import re

from wave_sandbox.evidence import changes
from wave_sandbox.evidence.clues import ErrorClues, words_of
from wave_sandbox.evidence.file_kinds import dependency_bumps, file_kind
from wave_sandbox.evidence.gitrepo import GitRepository
from wave_sandbox.evidence.suspect import Suspect

__all__ = ["credit_settings_evidence"]

LIBRARY_BUMPED = 5.0
CONFIG_SHARES_WORDS = 3.0
CONFIG_EXTRA_WORD = 0.5
CONFIG_MAX_EXTRA_WORDS = 3
CONFIG_MIN_SHARED_WORDS = 2
CONFIG_VALUE_IN_ERRORS = 1.5
PLAIN_CONFIG_CHANGE = 1.5
MAX_PATCH_FILES = 20
WORDS_SHOWN = 4
SETTING_SHOWN_CHARS = 80
SETTING_KINDS = ("config", "dependency", "migration")
VALUE_TOKEN = re.compile(r"[A-Za-z0-9][\w.\-/]*")
SETTING_VALUE = re.compile(r"[:=]\s*[\"']?(.+?)[\"',]*\s*$")


def credit_settings_evidence(repository: GitRepository, clues: ErrorClues, suspect: Suspect) -> None:
    """Add a reason when the commit changes configuration, dependency pins or migrations."""
    kinds = {changed.path: file_kind(changed.path) for changed in suspect.change.files}
    settings = [path for path, kind in kinds.items() if kind in SETTING_KINDS][:MAX_PATCH_FILES]
    if not settings:
        return
    patch = changes.patch_lines(repository, suspect.change.commit, settings)
    if _credit_library_bumps(clues, suspect, [path for path in settings if kinds[path] == "dependency"], patch):
        return
    shared = sorted(words_of(" ".join(line[1:] for line in patch)) & clues.words)
    values = _new_values_in_errors(patch, clues.messages)
    if not values and len(shared) < CONFIG_MIN_SHARED_WORDS:
        described = ", ".join(f"{path} ({kinds[path]})" for path in settings[:3])
        suspect.add(PLAIN_CONFIG_CHANGE, f"changes configuration or dependency pins: {described}", False, "config")
        return
    weight = CONFIG_SHARES_WORDS + min(max(len(shared) - 1, 0), CONFIG_MAX_EXTRA_WORDS) * CONFIG_EXTRA_WORD
    text = f"changes {', '.join(settings[:3])} ({_changed_setting(patch, shared)})"
    if shared:
        text += f", which shares the words {', '.join(repr(word) for word in shared[:WORDS_SHOWN])} with the errors"
    if values:
        weight += CONFIG_VALUE_IN_ERRORS
        text += f"{' and' if shared else ','} whose new value {values[0]!r} is in the error messages"
    suspect.add(weight, text, True, "config-match")


def _credit_library_bumps(clues: ErrorClues, suspect: Suspect, manifests: list[str], patch: list[str]) -> bool:
    if not manifests:
        return False
    matched = [(name, versions) for name, versions in dependency_bumps(patch).items() if name in clues.libraries]
    for name, (old, new) in matched:
        weight, label = clues.libraries[name]
        text = (
            f"changes {name} from {old or 'unpinned'} to {new or 'removed'} in {manifests[0]}, "
            f"and {name}'s code is in the stack trace of {label}"
        )
        suspect.add(LIBRARY_BUMPED * weight, text, True, "dependency-match")
    return bool(matched)


def _new_values_in_errors(patch: list[str], messages: list[str]) -> list[str]:
    """Values the change set (right of `:` or `=` on its added lines) that the error messages hold
    (numbers of two characters or more, names of four or more)."""
    message_tokens = {token for message in messages for token in VALUE_TOKEN.findall(message)}
    found = []
    for line in patch:
        setting = SETTING_VALUE.search(line[1:]) if line.startswith("+") else None
        for token in VALUE_TOKEN.findall(setting.group(1)) if setting else []:
            token = token.rstrip(".")
            meaningful = len(token) >= 2 if any(character.isdigit() for character in token) else len(token) >= 4
            if meaningful and (token in message_tokens or f"{token}s" in message_tokens) and token not in found:
                found.append(token)
    return found


def _changed_setting(patch: list[str], shared: list[str]) -> str:
    for line in patch:
        if line.startswith("+") and words_of(line[1:]) & set(shared):
            return "now " + " ".join(line[1:].split())[:SETTING_SHOWN_CHARS]
    return " ".join(patch[0][1:].split())[:SETTING_SHOWN_CHARS] if patch else ""
