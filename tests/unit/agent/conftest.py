import pytest

from wave_sandbox.agent.tools import ToolContext


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """`bash -lc` reads the login files of $HOME; the developer's own (pyenv rehash, say) must not run,
    nor be left half-done by a test that kills the shell."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def workdir(tmp_path):
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


@pytest.fixture
def context(workdir) -> ToolContext:
    """Tools running in a temporary workdir with a small output limit and a short bash timeout."""
    return ToolContext(workdir=str(workdir), output_limit=2000, bash_timeout_s=10)
