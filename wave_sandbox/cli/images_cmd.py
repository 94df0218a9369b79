"""`wave-sandbox images build`: build the agent image and print its name on stdout.

Progress notices go to stderr, so `IMAGE=$(wave-sandbox images build)` captures the name alone.
"""

from __future__ import annotations

import typer

from wave_sandbox.sandbox.client import docker_client
from wave_sandbox.sandbox.images import build_agent_image

images_app = typer.Typer(
    help="Build the agent image the steps run in.",
    no_args_is_help=True,
)


def notify_on_stderr(message: str) -> None:
    typer.echo(message, err=True)


@images_app.command("build")
def build_images(
    force: bool = typer.Option(
        False, "--force", help="Rebuild even when the image exists, without Docker's layer cache."
    ),
) -> None:
    """Build the agent image when missing (or always with --force) and print its name."""
    tag = build_agent_image(docker_client(), notify=notify_on_stderr, force=force)
    typer.echo(tag)

