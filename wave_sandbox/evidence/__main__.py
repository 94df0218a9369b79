"""Entry point: `python3 -m wave_sandbox.evidence --repo DIR --logs PATH...` (the image's `wave-evidence`)."""

from wave_sandbox.evidence.cli import main

raise SystemExit(main())
