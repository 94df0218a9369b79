import pytest


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """No machine's own policy or user config leaks in: both live under the test's temp folder."""
    config_home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("WAVE_SANDBOX_POLICY_FILE", str(tmp_path / "etc" / "policy.yaml"))
    for variable in ("WAVE_SANDBOX_MODEL", "WAVE_SANDBOX_UPSTREAM_URL", "WAVE_SANDBOX_MAX_PARALLEL",
                     "WAVE_SANDBOX_STEP_TIMEOUT", "WAVE_SANDBOX_RUNTIME", "WAVE_SANDBOX_UPSTREAM_LOCAL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(isolated_settings):
    """write(which, text): `policy` (the system file), `user` (the user's config) or `repo` (.wave/config.yaml)."""
    places = {
        "policy": isolated_settings / "etc" / "policy.yaml",
        "user": isolated_settings / "config-home" / "wave-sandbox" / "config.yaml",
        "repo": isolated_settings / "repo" / ".wave" / "config.yaml",
    }

    def write_file(which: str, text: str):
        places[which].parent.mkdir(parents=True, exist_ok=True)
        places[which].write_text(text)
        return places[which]

    (isolated_settings / "repo").mkdir()
    return write_file
