"""In the container: dump everything that could hold a host secret, hex-encoded.

Hex, so that the host's redaction pass cannot hide a leak from the test: the test decodes each
value and looks for the secrets itself. Prints one JSON object {source: hex or "error ..."}.
"""

import binascii
import glob
import json
import os

SOURCES = sorted(glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")) + [
    "/src/.env",
    "/wave/step.json",
    "/etc/environment",
    "/proc/1/root/etc/environment",
]


def read_hex(path):
    try:
        with open(path, "rb") as source:
            return binascii.hexlify(source.read()).decode()
    except OSError as error:
        return f"error {error.strerror}"


dump = {path: read_hex(path) for path in SOURCES}
environment = "\n".join(f"{name}={value}" for name, value in os.environ.items()).encode()
dump["environment of the bash tool"] = binascii.hexlify(environment).decode()
print(json.dumps(dump))
