"""`--json` on the commands that report: one JSON document on stdout (or one object per line for
streams such as `logs --json`), every string through the sanitizer's JSON form, nothing else there.

The shape of each command's document is in the README ("JSON output"); a test holds them together.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from wave_sandbox.text_safety import json_printable


def print_json(data: Any) -> None:
    """One JSON document (indented: people read it too) on stdout."""
    print(json_printable(json.dumps(data, indent=2, ensure_ascii=False)), file=sys.stdout, flush=True)


def print_json_line(data: Any) -> None:
    """One compact JSON object on its own line (streams: `logs --json`)."""
    print(json_printable(json.dumps(data, ensure_ascii=False)), file=sys.stdout, flush=True)
