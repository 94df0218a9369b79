"""Settings and the operator's policy: where each value comes from, and the ceilings that bind them all.

Other packages read:

- `load_ceilings()` -> `Ceilings`: the operator's ceilings (memory_mb, cpus, pids, step_timeout_s,
  workspace_mb, clone_mb, transcript_step_mb, transcript_run_mb, allowed_tools, allowed_runtimes,
  default_runtime, model patterns), each with its source in `sources`;
- `resolve_settings(repo, SettingFlags(...))` -> `Settings`: the effective model, upstream_url,
  max_parallel, step_timeout_s and runtime, each a `Setting(value, source)`, already checked against
  the ceilings (which it carries as `settings.ceilings`);
- `repository_config_collecting(repo, ceilings, problems)`: the repository's `.wave/config.yaml`
  problems for `validate`.
"""

from wave_sandbox.settings.ceilings import Ceilings, combine_policies, default_ceilings, load_ceilings
from wave_sandbox.settings.effective import (
    Setting,
    SettingFlags,
    Settings,
    checked_repository_config,
    repository_config_collecting,
    resolve_settings,
)
from wave_sandbox.settings.files import (
    POLICY_FILE_VARIABLE,
    PolicyFile,
    RepositoryConfigFile,
    UserConfigFile,
    policy_file_path,
    user_config_path,
)

__all__ = [
    "Ceilings", "POLICY_FILE_VARIABLE", "PolicyFile", "RepositoryConfigFile", "Setting", "SettingFlags",
    "Settings", "UserConfigFile", "checked_repository_config", "combine_policies", "default_ceilings",
    "load_ceilings", "policy_file_path", "repository_config_collecting", "resolve_settings", "user_config_path",
]
