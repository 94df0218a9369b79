"""The two outer cleanup nets (the first is each step's own try/finally around its container).

- Per run: ``ResourceRegistry`` records every container and volume the moment it exists;
  ``remove_all`` removes each of them, logs what fails and goes on, defers Ctrl-C and SIGTERM while it
  works, and can be called again.
- After a crash: ``remove_labelled_resources`` finds objects by their ``wave-sandbox.run`` label and
  removes those of runs that are no longer alive, never touching a live run's objects; the networks and
  firewall rules of runs made by earlier versions (``firewall.py``) among them. (The gateway socket
  folders of dead runs are ``gateway_socket.py``'s.)
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import docker
import docker.errors

from wave_sandbox.held_signals import signals_deferred
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.backend import CleanupReport
from wave_sandbox.sandbox.labels import OWNER_LABEL, RUN_LABEL
from wave_sandbox.sandbox.owner import owner_is_alive
from wave_sandbox.sandbox.removal import (
    remove_container_if_present,
    remove_network_if_present,
    remove_volume_if_present,
)

logger = logging.getLogger(__name__)


class ResourceRegistry:
    """What one run created, so that a finally can remove all of it. Thread-safe."""

    def __init__(self, client: docker.DockerClient):
        self.client = client
        self._lock = threading.Lock()
        self._containers: dict[str, None] = {}
        self._volumes: dict[str, None] = {}

    def add_container(self, container_id: str) -> None:
        with self._lock:
            self._containers[container_id] = None

    def add_volume(self, volume_name: str) -> None:
        with self._lock:
            self._volumes[volume_name] = None

    def forget_container(self, container_id: str) -> None:
        with self._lock:
            self._containers.pop(container_id, None)

    def forget_volume(self, volume_name: str) -> None:
        with self._lock:
            self._volumes.pop(volume_name, None)

    @property
    def is_empty(self) -> bool:
        with self._lock:
            return not (self._containers or self._volumes)

    def remove_all(self) -> list[str]:
        """Remove everything registered (containers first); returns one line per failure.

        Each failure is logged and the rest is still removed; what failed stays registered, so a
        second call tries it again. Ctrl-C and SIGTERM wait until the work is done.
        """
        failures: list[str] = []
        with signals_deferred():
            for container_id in self._snapshot(self._containers):
                self._remove(
                    failures, remove_container_if_present, container_id, self._containers, "container"
                )
            for volume_name in self._snapshot(self._volumes):
                self._remove(failures, remove_volume_if_present, volume_name, self._volumes, "volume")
        return failures

    def _snapshot(self, registered: dict[str, None]) -> list[str]:
        with self._lock:
            return list(registered)

    def _remove(self, failures, remove, key: str, registered: dict[str, None], kind: str) -> None:
        try:
            remove(self.client, key)
        except Exception as exc:  # noqa: BLE001 - one failed removal must not stop the others
            message = f"could not remove {kind} {key}: {exc}"
            logger.warning(message)
            failures.append(message)
            return
        with self._lock:
            registered.pop(key, None)


@dataclass
class _LabelledObjects:
    containers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    networks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    volumes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    owners: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def run_ids(self) -> set[str]:
        return set(self.containers) | set(self.networks) | set(self.volumes)


def remove_labelled_resources(
    client: docker.DockerClient,
    run_id: str | None = None,
    is_run_alive: Callable[[str], bool] | None = None,
    spared_run_ids: frozenset[str] = frozenset(),
) -> CleanupReport:
    """Remove labelled containers, firewall rules, networks and volumes of runs that are not alive.

    ``run_id`` limits the sweep to one run. ``is_run_alive`` decides per run id; by default a run is
    alive while any process named in its objects' ``wave-sandbox.owner`` labels runs. The runs of
    ``spared_run_ids`` (``--keep``) are spared as live ones are.
    """
    # Rules (left by runs of earlier versions) are listed before the labelled objects: such a run made its
    # labelled network before its rules, so rules seen here belong to a network the listing below sees.
    rule_run_ids = {rid for rid in firewall.firewall_run_ids() if run_id is None or rid == run_id}
    found = _find_labelled_objects(client, run_id)
    alive = is_run_alive or (lambda rid: any(owner_is_alive(owner) for owner in found.owners.get(rid, ())))
    report = CleanupReport()
    for candidate in sorted(found.run_ids | rule_run_ids):
        if candidate in spared_run_ids or alive(candidate):
            report.spared_runs.append(candidate)
        else:
            _remove_run_objects(client, found, candidate, candidate in rule_run_ids, report)
    return report


def _find_labelled_objects(client: docker.DockerClient, run_id: str | None) -> _LabelledObjects:
    label_filter = {"label": f"{RUN_LABEL}={run_id}" if run_id is not None else RUN_LABEL}
    found = _LabelledObjects()
    try:
        containers = client.api.containers(all=True, filters=label_filter)
        networks = client.api.networks(filters=label_filter)
        volumes = client.api.volumes(filters=label_filter).get("Volumes") or []
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not list wave-sandbox objects: {exc.explanation or exc}") from exc
    for kind, items, key in (
        (found.containers, containers, "Id"),
        (found.networks, networks, "Id"),
        (found.volumes, volumes, "Name"),
    ):
        for item in items:
            labels = item.get("Labels") or {}
            kind[labels[RUN_LABEL]].append(item[key])
            if OWNER_LABEL in labels:
                found.owners[labels[RUN_LABEL]].add(labels[OWNER_LABEL])
    return found


def _remove_run_objects(
    client, found: _LabelledObjects, run_id: str, has_rules: bool, report: CleanupReport
) -> None:
    # Containers first: a network or volume cannot go while a container holds it.
    for container_id in found.containers.get(run_id, []):
        if _try(report, remove_container_if_present, client, container_id):
            report.containers.append(container_id)
    if has_rules:
        report.firewall_rules += _try(report, firewall.remove_firewall_rules, run_id) or 0
    for network_id in found.networks.get(run_id, []):
        if _try(report, remove_network_if_present, client, network_id):
            report.networks.append(network_id)
    for volume_name in found.volumes.get(run_id, []):
        if _try(report, remove_volume_if_present, client, volume_name):
            report.volumes.append(volume_name)


def _try(report: CleanupReport, action: Callable[..., object], *arguments: object) -> object:
    """The action's result, or None after logging and recording its failure."""
    try:
        return action(*arguments)
    except SandboxError as exc:
        logger.warning("%s", exc)
        report.failures.append(str(exc))
        return None
