import pytest


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """An empty repository folder with a `src/` subfolder, also the cwd (so files show as `p.yaml`)."""
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path
