"""The one exception tree of wave-sandbox.

Library code raises these; Docker, GitPython and anthropic/httpx errors are translated where they
enter (``raise ... from exc``). Only the CLI turns them into one line of text and an exit code.

    WaveSandboxError                 exit_code 1, base of everything a user can cause
    ├── ConfigurationError           exit 2: bad usage, bad files, unsupported features
    │   ├── SpecError                a pipeline, persona or settings file has problems (carries them all)
    │   ├── PipelineNotFoundError    no pipeline of that name or path
    │   ├── PersonaNotFoundError     no persona of that name
    │   ├── ModelSpecError           --model is missing or malformed, key not set
    │   ├── ScriptError              a scripted-model file is malformed
    │   ├── FilterError              --steps/--exclude keep a step that needs a removed one
    │   └── CeilingError             a flag, variable or setting is above the operator's ceiling
    ├── DockerUnavailableError       exit 2: no daemon answers
    ├── ImageBuildError              exit 2: the agent image cannot be built
    ├── SandboxError                 exit 1: a container operation failed
    │   └── ContainerExecError       a command in a container failed (names container, command, status)
    ├── GatewayError                 exit 1: the host-side model gateway failed
    │   └── BudgetExceededError      a step or run went over its request/token budget
    ├── WorkspaceError               exit 1: preparing a clone or committing a branch failed
    ├── StepFailedError              exit 1: a step failed (timeout, model error, bad artifact)
    ├── RunNotFoundError             exit 2: no run record of that id
    └── RunInterrupted               exit 130: Ctrl-C or SIGTERM
"""

from __future__ import annotations


class WaveSandboxError(Exception):
    """Base of every error a user can cause; its text is one line a user can act on."""

    exit_code = 1
    run_id: str | None = None
    """The run this error ended, once its record exists (the CLI then names `wave-sandbox resume`)."""
    repo: object | None = None
    """The repository of that run (a Path)."""
    reported = False
    """True when the run's closing lines already said it (the CLI prints no second `Error:` line)."""


class ConfigurationError(WaveSandboxError):
    exit_code = 2


class SpecError(ConfigurationError):
    """Problems found in a pipeline file; each problem is one printable line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PipelineNotFoundError(ConfigurationError):
    pass


class PersonaNotFoundError(ConfigurationError):
    pass


class ModelSpecError(ConfigurationError):
    pass


class ScriptError(ConfigurationError):
    pass


class FilterError(ConfigurationError):
    pass


class CeilingError(ConfigurationError):
    """A value is above a ceiling of the operator's policy; the message names both and their sources."""


class DockerUnavailableError(WaveSandboxError):
    exit_code = 2


class ImageBuildError(WaveSandboxError):
    exit_code = 2


class SandboxError(WaveSandboxError):
    pass


class ContainerExecError(SandboxError):
    def __init__(self, container: str, command: list[str] | str, exit_status: int, stderr: str):
        self.container = container
        self.command = command
        self.exit_status = exit_status
        self.stderr = stderr
        shown = command if isinstance(command, str) else " ".join(command)
        super().__init__(
            f"command '{shown}' in container {container} exited with status {exit_status}: "
            f"{stderr.strip()[:300]}"
        )


class GatewayError(WaveSandboxError):
    pass


class BudgetExceededError(GatewayError):
    pass


class WorkspaceError(WaveSandboxError):
    pass


class StepFailedError(WaveSandboxError):
    pass


class RunNotFoundError(WaveSandboxError):
    exit_code = 2


class RunInterrupted(WaveSandboxError):
    exit_code = 130
