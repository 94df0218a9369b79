"""A repository's .wave/masks adds to the default secret patterns; it never removes one."""

from wave_sandbox.workspace.secrets import DEFAULT_SECRET_PATTERNS, find_secret_files, secret_patterns


def test_repository_masks_add_to_the_defaults(tmp_path):
    (tmp_path / ".wave").mkdir()
    (tmp_path / ".wave" / "masks").write_text("# our own\n!.env\n*.secret\n*.pem\n\n")
    patterns = secret_patterns(tmp_path)
    assert patterns[: len(DEFAULT_SECRET_PATTERNS)] == DEFAULT_SECRET_PATTERNS
    assert patterns[len(DEFAULT_SECRET_PATTERNS):] == ("!.env", "*.secret")
    for name in (".env", "deploy.pem", "vault.secret", "app.py"):
        (tmp_path / name).write_text("x")
    assert find_secret_files(tmp_path, patterns) == [".env", "deploy.pem", "vault.secret"]


def test_no_masks_file_means_the_defaults(tmp_path):
    assert secret_patterns(tmp_path) == DEFAULT_SECRET_PATTERNS


def test_a_masks_file_that_is_not_a_regular_file_or_is_huge_is_bounded(tmp_path):
    (tmp_path / ".wave").mkdir()
    (tmp_path / ".wave" / "masks").symlink_to("/dev/zero")
    assert secret_patterns(tmp_path) == DEFAULT_SECRET_PATTERNS
    (tmp_path / ".wave" / "masks").unlink()
    (tmp_path / ".wave" / "masks").write_text("*.a\n" * 100_000 + "bell\x07\n")
    assert secret_patterns(tmp_path) == DEFAULT_SECRET_PATTERNS + ("*.a",)
