"""`doctor`'s settings part: every effective value and ceiling with its source, or one line saying what is wrong."""

from wave_sandbox.cli.doctor_cmd import check_settings, print_settings_table


def test_doctor_lists_each_value_and_ceiling_with_its_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("WAVE_SANDBOX_POLICY_FILE", str(tmp_path / "policy.yaml"))
    monkeypatch.setenv("WAVE_SANDBOX_STEP_TIMEOUT", "1200")
    (tmp_path / "policy.yaml").write_text("memory_mb: 4096\n")
    (name, ok, _), rows = check_settings(tmp_path)
    assert (name, ok) == ("settings", True)
    print_settings_table(rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["setting", "value", "source"]
    shown = {line.split()[0]: line.split(None, 2)[1:] for line in lines[2:]}
    assert shown["step_timeout_s"] == ["1200", "environment WAVE_SANDBOX_STEP_TIMEOUT"]
    assert shown["policy.memory_mb"] == ["4096", f"policy {tmp_path / 'policy.yaml'}"]
    assert shown["policy.pids"] == ["4096", "built-in default"]


def test_doctor_names_a_broken_settings_file_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("WAVE_SANDBOX_POLICY_FILE", str(tmp_path / "policy.yaml"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".wave").mkdir()
    (tmp_path / ".wave" / "config.yaml").write_text("runtime: runc\n")
    (name, ok, detail), rows = check_settings(tmp_path)
    assert (name, ok, rows) == ("settings", False, [])
    assert detail.startswith(".wave/config.yaml:1: runtime: only the operator sets this")
