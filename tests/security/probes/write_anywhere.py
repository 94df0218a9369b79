"""In the container: try to write each path given, report errno names; also the privileges held.

Run as `python3 - PATH... < write_anywhere.py`; prints one JSON object. A file that exists is written
back with its own content, so an attack that got through changes nothing but is still reported.
"""

import ctypes
import errno
import json
import os
import subprocess
import sys


def try_write(path):
    try:
        try:
            with open(path, "rb") as existing:
                content = existing.read()
        except OSError:
            content = b"planted by the agent\n"
        with open(path, "wb") as target:
            target.write(content)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    return "written"


def status_field(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def no_new_privs():
    """PR_GET_NO_NEW_PRIVS (39), asked of the kernel (gVisor's /proc/self/status has no NoNewPrivs line)."""
    return ctypes.CDLL(None, use_errno=True).prctl(39, 0, 0, 0, 0)


def root_mount_options():
    """The options of the mount at / (read-only or not, as the kernel or gVisor's Sentry says)."""
    for line in open("/proc/mounts"):
        fields = line.split()
        if fields[1] == "/":
            return fields[3]
    return None


def find_files(folder, *tests):
    return subprocess.run(["find", folder, "-xdev", *tests, "-type", "f"], capture_output=True, text=True).stdout.split()


setuid = find_files("/", "-perm", "/6000")
report = {
    "writes": {path: try_write(path) for path in sys.argv[1:]},
    "uid": os.getuid(),
    "CapEff": status_field("CapEff"),
    "CapBnd": status_field("CapBnd"),
    "NoNewPrivs": status_field("NoNewPrivs"),
    "no_new_privs": no_new_privs(),
    "root_mount": root_mount_options(),
    "setuid_files": setuid,
    "executables_found": len(find_files("/usr/bin", "-perm", "/111")),  # the control: the scan does work
}
print(json.dumps(report, indent=1))
