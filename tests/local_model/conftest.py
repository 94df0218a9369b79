"""Fixtures for the local-model smoke test (`make test-local-model`; not part of `make test`)."""

from __future__ import annotations

import pytest

from tests.local_model import llama_server


@pytest.fixture(scope="session")
def local_server(tmp_path_factory):
    server = llama_server.start(tmp_path_factory.mktemp("llama") / "server.log")
    print(f"\nlocal-model: install {server.install_seconds:.1f} s, load {server.load_seconds:.2f} s,"
          f" url {server.url}")
    yield server
    print(f"\nlocal-model: peak RSS {server.rss_kib() / 1024:.0f} MiB")
    llama_server.stop(server.process)
    assert server.process.poll() is not None
