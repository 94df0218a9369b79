"""Wave's skill store, read from the repository: `skills/<name>/SKILL.md`, then `.agents/skills/<name>/`.

As Wave's `skill.DirectoryStore`: a name is `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$` (64 characters at most),
the folder must not be a symlink nor resolve outside its source, and SKILL.md opens with a YAML
front matter whose `name` matches the folder. A step's skills are the sorted union of wave.yaml's
`skills`, the persona's, the pipeline's and the step's (Wave's `ResolveSkills`), each name templated
first (`{{ project.skill }}`; an empty result is dropped, as Wave drops it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.spec.yaml_loader import YamlSyntaxError, parse_yaml

SKILL_SOURCES = ("skills", ".agents/skills")
SKILL_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
MAX_SKILL_FILE_BYTES = 256 * 1024
SKILLS_IN = "/wave/skills"


class SkillError(ValueError):
    """A skill that cannot be used; the message says why."""


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    folder: Path

    @property
    def container_path(self) -> str:
        return f"{SKILLS_IN}/{self.name}"


def find_skill(repo: Path, name: str) -> Skill:
    """The skill `name` from the repository's store (SkillError naming why when it cannot be used)."""
    if len(name) > 64 or not SKILL_NAME.match(name):
        raise SkillError(f"skill name '{name}' should match ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    for source in SKILL_SOURCES:
        root = repo / source
        folder = root / name
        if folder.is_symlink():
            raise SkillError(f"skill '{name}': {source}/{name} is a symlink; copy the skill in instead of linking")
        if not folder.is_dir() or not (folder / "SKILL.md").is_file():
            continue
        if not folder.resolve().is_relative_to(root.resolve()) or not root.resolve().is_relative_to(repo.resolve()):
            raise SkillError(f"skill '{name}': {source}/{name} resolves outside the repository")
        return _read_skill(folder, name, f"{source}/{name}/SKILL.md")
    raise SkillError(f"skill '{name}' not found in the repository ({' or '.join(f'{s}/{name}/SKILL.md' for s in SKILL_SOURCES)})")


def _read_skill(folder: Path, name: str, shown: str) -> Skill:
    skill_file = folder / "SKILL.md"
    if skill_file.is_symlink() or not skill_file.resolve().is_relative_to(folder.resolve()):
        raise SkillError(f"skill '{name}': {shown} is a symlink")
    if skill_file.stat().st_size > MAX_SKILL_FILE_BYTES:
        raise SkillError(f"skill '{name}': {shown} is larger than {MAX_SKILL_FILE_BYTES // 1024} KiB")
    front = _front_matter(skill_file.read_text(encoding="utf-8", errors="replace"), shown)
    if front.get("name") != name:
        raise SkillError(f"skill '{name}': {shown} names itself '{front.get('name')}' (must match its folder)")
    description = front.get("description")
    return Skill(name, description if isinstance(description, str) else "", folder)


def _front_matter(text: str, shown: str) -> dict:
    if not text.startswith("---"):
        raise SkillError(f"{shown} must start with a --- front matter (name, description)")
    block = text[3:].split("\n---", 1)
    if len(block) < 2:
        raise SkillError(f"{shown}: its front matter has no closing ---")
    try:
        data = parse_yaml(block[0]).data
    except YamlSyntaxError as error:
        raise SkillError(f"{shown}: front matter line {error.line + 1}: {error.message}") from error
    return data if isinstance(data, dict) else {}


def resolved_skill_names(scopes: list[list[str]], render) -> list[str]:
    """The sorted union of every scope's skill names, each templated by `render`; empty names dropped."""
    names = {render(name).strip() for scope in scopes for name in scope}
    return sorted(name for name in names if name)


def skills_prompt_section(skills: list[Skill]) -> str:
    """Wave's "Available Skills" section of the system prompt, pointing at our read-only mounts."""
    if not skills:
        return ""
    lines = ["", "", "---", "", "## Available Skills", "", "The following skills are available in this workspace:", ""]
    lines += [f"- **{s.name}**: {s.description} (see `{s.container_path}/SKILL.md`)" for s in skills]
    return "\n".join(lines) + "\n"
