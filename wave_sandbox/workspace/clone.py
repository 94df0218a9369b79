"""The read-write clone that craftsman-like steps edit instead of the user's working tree.

Arrangement (why it is safe to let an untrusted agent write here):
- The clone is made on the host from the user's HEAD commit (not the working tree's uncommitted
  changes), with an empty hook template and hardened git, into the run's record folder.
- Inside the container the clone's working tree is mounted read-write at the mount target, and its
  `.git` is mounted read-only over `<target>/.git`: the agent can edit files but can never write git
  metadata (hooks, config, refs, index) that host-side git later reads.
- Host-side git still treats every file of the working tree as hostile data (committing it is the
  branch module's job, which reads it as data only, never through the clone's own config).
- All read-write steps of one run share this clone, one at a time, in step order.
- The clone's index stays a true record of every checked-out file's stat (after the hand-over to the
  container's user too), so that the commit reads only the files whose stat changed (`index_stat`).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.index_stat import record_ownership_change
from wave_sandbox.workspace.repository import head_commit, run_git


# git's parallel checkout, one worker per core (git >= 2.32; older versions ignore the keys). On a
# 100k-file tree it writes the files several times faster than git's default single process.
PARALLEL_CHECKOUT = ("-c", "checkout.workers=0", "-c", "checkout.thresholdForParallelism=100")

REMOVING_NAME = "clone.removing"
"""A clone `<record>/clone` is renamed to `<record>/clone.removing` while a detached process deletes
it: out of the way of a resumed run's new clone; the run's own walks skip it as they skip the clone."""


@dataclass(frozen=True)
class Clone:
    path: Path
    base_commit: str

    @property
    def git_dir(self) -> Path:
        return self.path / ".git"


def create_clone(
    repo: Path, destination: Path, owner: tuple[int, int] | None = None, base: str | None = None
) -> Clone:
    """Clone `base` (default: HEAD) of `repo` into `destination`; hand its working tree (not `.git`) to `owner`."""
    base = base or head_commit(repo)
    empty_template = destination.parent / ".empty-git-template"
    empty_template.mkdir(parents=True, exist_ok=True)
    run_git(
        destination.parent,
        "clone", "--quiet", "--no-checkout", "--no-hardlinks",
        f"--template={empty_template}", str(repo), str(destination),
    )
    run_git(destination, *PARALLEL_CHECKOUT, "checkout", "--quiet", "--detach", base)
    if owner is not None and owner != (os.getuid(), os.getgid()):
        hand_working_tree_to(destination, owner)
        record_ownership_change(destination, hash_bytes=len(base) // 2)
    return Clone(path=destination, base_commit=base)


def hand_working_tree_to(clone_path: Path, owner: tuple[int, int]) -> None:
    """chown the working tree so the container's unprivileged user can edit it; `.git` stays ours."""
    uid, gid = owner
    os.chown(clone_path, uid, gid)
    for folder, subfolders, files in os.walk(clone_path):
        if Path(folder) == clone_path and ".git" in subfolders:
            subfolders.remove(".git")
        for name in [*subfolders, *files]:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def remove_clone(clone: Clone) -> None:
    """Remove the clone, also folders the agent made unreadable (it runs as our uid when we are not
    root); raise WorkspaceError naming what is left, so the run reports it instead of hiding it."""
    shutil.rmtree(clone.path, ignore_errors=True)
    if not os.path.lexists(clone.path):
        return
    _make_folders_writable(clone.path)
    try:
        shutil.rmtree(clone.path)
    except OSError as error:
        raise WorkspaceError(f"could not remove the clone {clone.path}: {error}; remove it by hand") from error


def remove_clone_in_background(clone: Clone) -> None:
    """Take the clone out of the run's way at once (a rename), and delete it in a detached process.

    Deleting 100k files takes as long as checking them out; the run need not wait for it. The renamed
    folder (see `REMOVING_NAME`) holds nothing git or a container reads, and what a crash leaves of
    it `wave-sandbox clean` removes. When the rename fails, the clone is removed here and now."""
    removing = removing_path(clone.path)
    try:
        os.rename(clone.path, removing)
    except OSError:
        remove_clone(clone)
        return
    subprocess.Popen(
        [sys.executable, "-m", "wave_sandbox.workspace.clone", str(removing)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )


def removing_path(clone_path: Path) -> Path:
    return clone_path.with_name(REMOVING_NAME)


def _make_folders_writable(root: Path) -> None:
    """chmod u+rwx every folder below `root` (never through a symlink) so rmtree can empty it."""
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                continue
            os.chmod(folder, stat.S_IMODE(os.lstat(folder).st_mode) | stat.S_IRWXU)
            pending.extend(os.path.join(folder, name) for name in os.listdir(folder))
        except OSError:
            continue


if __name__ == "__main__":  # the detached removal of `remove_clone_in_background`
    try:
        remove_clone(Clone(Path(sys.argv[1]), ""))
    except WorkspaceError:
        sys.exit(1)  # `wave-sandbox clean` removes what is left
