"""The `--output` folder: checked before anything is created, claimed by one run, replaced with a notice.

`check()` refuses, with one line each (exit 2): an existing file; a folder git tracks (a repository
that tracks the default `output/` is asked for `--output`); git's own folder or the run records; a
folder holding anything but an earlier run's delivered artifacts; a folder another live run writes.
`prepare()` then creates the folder (ignoring itself inside a checkout, so `git status` never changes),
takes an earlier run's files out of it with one notice (they stay in that run's record), and writes the
manifest that lets the next run recognise this run's files. `deliver()` writes one artifact.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from wave_sandbox.engine.artifacts import write_private_file
from wave_sandbox.engine.earlier_delivery import (
    MANIFEST_NAME, EarlierDelivery, find_earlier_delivery, read_manifest, refusal_of, sha256_of,
)
from wave_sandbox.engine.records import RunRecord, ensure_self_ignoring_folder, write_json_atomically
from wave_sandbox.engine.run_file import DEFAULT_OUTPUT, StepStatus
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.workspace.output_location import OutputLocation, locate_output
from wave_sandbox.workspace.repository import is_tracked

REPLACED_FOLDER = "replaced-output"


class OutputFolder:
    """The user's `--output` folder for one run (or one `artifacts --export`)."""

    def __init__(self, folder: Path, repo: Path, display_prefix: str, option: str = "--output"):
        self.option = option
        """The flag that named the folder, as refusals say it (`--output`, `--export`)."""
        self.folder = folder
        self.repo = repo
        self.display_prefix = display_prefix
        self.run_id: str | None = None
        self.location: OutputLocation | None = None
        self.earlier = EarlierDelivery()
        self._claim: "OutputClaim | None" = None
        self._manifest: dict = {}
        self._lock = threading.Lock()

    # ----- before anything is created ------------------------------------------------------
    def check(self, run_id: str) -> None:
        """Refuse a folder that cannot receive this run's artifacts (ConfigurationError, one line)."""
        self.run_id = run_id
        self.location = locate_output(self.folder)
        refusal = self._place_refusal() or self._content_refusal()
        if refusal:
            raise ConfigurationError(refusal)
        self._claim = OutputClaim.take(self.folder, self.option_text)

    def _place_refusal(self) -> str | None:
        if self.folder.exists() and not self.folder.is_dir():
            return f"{self.option_text} is a file; pass a folder (new, empty, or an earlier run's output)"
        location = self.location
        if location.forbidden_place:
            return f"{self.option_text} lies in {location.forbidden_place}; pass a folder outside it"
        if location.tracked and self.is_default:
            return (f"the repository tracks {self.shown_folder}/ ({', '.join(location.tracked)}), where artifacts "
                    "go by default; pass --output DIR for the artifacts (a new folder, or one outside the repository)")
        if location.tracked:
            return (f"{self.option_text} is a folder git tracks ({', '.join(location.tracked)}); "
                    "pass a new folder, or one outside the repository")
        return None

    def _content_refusal(self) -> str | None:
        if not self.folder.is_dir():
            return None
        self.earlier = find_earlier_delivery(self.folder, self.repo)
        return refusal_of(self.earlier, self.option_text)

    # ----- once the run's record exists ----------------------------------------------------
    def prepare(self, record: RunRecord | None = None, notify: Callable[[str], None] = lambda message: None) -> None:
        """Create the folder, take an earlier run's files out, write this run's manifest."""
        if self.location is None:
            self.check(record.run_id if record else "unrecorded")
        if self.location.in_checkout:
            ensure_self_ignoring_folder(self.folder)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
        kept = self._keep_or_replace_earlier(record, notify)
        self._manifest = {"run_id": self.run_id, "record": str(record.folder) if record else None, "files": kept}
        self._save_manifest()
        if record is not None and self.earlier.run_id != self.run_id:
            self._redeliver_finished_steps(record)

    def _redeliver_finished_steps(self, record: RunRecord) -> None:
        """A resumed run whose folder was emptied or taken over since: its finished steps' artifacts again."""
        for step_id, step in record.run_file.steps.items():
            if step.status is not StepStatus.COMPLETED:
                continue
            for shown in step.artifacts:
                copy = record.folder / "steps" / step_id / "artifacts" / Path(shown).name
                if copy.is_file() and not copy.is_symlink():
                    self.deliver(copy.name, copy.read_bytes())

    def _keep_or_replace_earlier(self, record: RunRecord | None, notify: Callable[[str], None]) -> dict[str, str]:
        earlier = self.earlier
        if not earlier.files:
            return {}
        if earlier.run_id == self.run_id:  # a resumed run finds its own files: they stay
            return {name: earlier.manifest_hashes.get(name) or self._hash_of(name) for name in earlier.files}
        kept_in = self._take_out(earlier, record)
        notify(replacement_notice(earlier, self.shown_folder, kept_in))
        return {}

    def _take_out(self, earlier: EarlierDelivery, record: RunRecord | None) -> Path | None:
        """Remove the earlier run's files; those its record no longer holds move into this run's record."""
        kept_in = None
        if earlier.unreachable and record is not None:
            kept_in = record.folder / REPLACED_FOLDER / (earlier.run_id or "earlier")
            kept_in.mkdir(parents=True, exist_ok=True)
        for name in earlier.files:
            source = self.folder / name
            if name in earlier.unreachable and kept_in is not None:
                shutil.move(source, kept_in / name)
            else:
                source.unlink(missing_ok=True)
        return kept_in

    # ----- during the run ------------------------------------------------------------------
    def deliver(self, file_name: str, content: bytes) -> tuple[str | None, str | None]:
        """Write one artifact; return (displayed path, None) or (None, refusal reason)."""
        target = self.folder / file_name
        if self.location is not None and self.location.in_checkout and is_tracked(self.location.work_tree, target):
            return None, f"{self.display(file_name)} is tracked by git; not overwritten (the run record has a copy)"
        write_private_file(self.folder, file_name, content)
        with self._lock:
            self._manifest.setdefault("files", {})[file_name] = sha256_of(content)
            self._save_manifest()
        return self.display(file_name), None

    def release(self) -> None:
        """Let another run have the folder (also done by this process's exit)."""
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    # ----- names ---------------------------------------------------------------------------
    def display(self, file_name: str) -> str:
        return f"{self.display_prefix.rstrip('/')}/{file_name}"

    @property
    def shown_folder(self) -> str:
        return self.display_prefix.rstrip("/") or "/"

    @property
    def option_text(self) -> str:
        """How refusals name the folder: as the user passed it, or as the default it is."""
        return f"{self.shown_folder}/ (the default --output)" if self.is_default else f"{self.option} {self.shown_folder}"

    @property
    def is_default(self) -> bool:
        return self.display_prefix == DEFAULT_OUTPUT and self.folder == self.repo / DEFAULT_OUTPUT

    def _hash_of(self, name: str) -> str:
        return sha256_of((self.folder / name).read_bytes())

    def _save_manifest(self) -> None:
        write_json_atomically(self.folder / MANIFEST_NAME, self._manifest)


def replacement_notice(earlier: EarlierDelivery, shown_folder: str, kept_in: Path | None) -> str:
    count = f"{len(earlier.files)} file(s)"
    if earlier.unreachable and kept_in is not None:
        return (f"notice: {shown_folder}/ held {count} of run {earlier.run_id}, whose record no longer has them; "
                f"this run replaces them, and keeps them in {kept_in}")
    return (f"notice: {shown_folder}/ held {count} of run {earlier.run_id}; this run replaces them "
            f"(`wave-sandbox artifacts {earlier.run_id} --export DIR` brings them back)")


class OutputClaim:
    """An exclusive lock per output folder, held while one run writes it; a dead process drops it."""

    def __init__(self, stream):
        self._stream = stream

    @classmethod
    def take(cls, folder: Path, folder_text: str) -> "OutputClaim":
        digest = hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()[:24]
        stream = open(claims_folder() / f"{digest}.lock", "a+")
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.close()
            raise ConfigurationError(
                f"{folder_text} is being written by another run that is still going; "
                "pass another folder (or wait for that run, or cancel it)"
            ) from None
        return cls(stream)

    def release(self) -> None:
        self._stream.close()


def claims_folder() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"wave-sandbox-{os.getuid()}" / "output-claims"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def manifest_run_id(folder: Path) -> str | None:
    """Which run's artifacts `folder` holds, per its manifest (None: no manifest)."""
    manifest = read_manifest(folder)
    return manifest["run_id"] if manifest else None


__all__ = ["MANIFEST_NAME", "OutputFolder", "manifest_run_id", "replacement_notice"]
