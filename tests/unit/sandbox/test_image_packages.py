"""The agent image's system packages are the same in the Dockerfile and in the bootstrapped base's list,
and they include jq and sqlite3 for Wave's command steps (issue 11, item 8)."""

from __future__ import annotations

import re

from wave_sandbox.resources import agent_image_dir
from wave_sandbox.sandbox.base_image import BOOTSTRAP_PACKAGES, bootstrapped_base_name


def dockerfile_packages() -> set[str]:
    text = (agent_image_dir() / "Dockerfile").read_text()
    match = re.search(r"for package in ([^;]+); do", text)
    assert match, "the Dockerfile's package loop"
    return set(match.group(1).split())


def test_the_dockerfile_and_the_bootstrap_list_agree_and_hold_jq_and_sqlite3():
    assert dockerfile_packages() == set(BOOTSTRAP_PACKAGES)
    assert {"jq", "sqlite3"} <= set(BOOTSTRAP_PACKAGES)


def test_a_base_bootstrapped_before_jq_and_sqlite3_is_not_reused():
    # the name of the base bootstrapped with the seven packages of the first release
    assert bootstrapped_base_name() != "wave-sandbox-base:bookworm-06ea3ddcdeb8"
