"""In the container: read git's files and credential files, grep whole mounts for tokens, run git.

argv[1] is JSON {"files": [...], "roots": [...], "needles": [hex...], "git": [[argv...], ...]}. Prints
one JSON object: each file hex-encoded (or "error ..."), for each needle the files holding it, how
many files the grep read, and each git command's exit code and output (hex-encoded: the test
decodes it, so nothing on the way can hide a leak).
"""

import binascii
import json
import os
import subprocess
import sys

plan = json.loads(sys.argv[1])


def read_hex(path):
    try:
        with open(path, "rb") as source:
            return binascii.hexlify(source.read()).decode()
    except OSError as error:
        return f"error {error.strerror}"


def grep(roots, needles):
    hits, files_read = {needle: [] for needle in needles}, 0
    for root in roots:
        for folder, _, names in os.walk(root, followlinks=False):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    if os.path.islink(path) or os.path.getsize(path) > 4 * 1024 * 1024:
                        continue
                    with open(path, "rb") as source:
                        data = source.read()
                except OSError:
                    continue
                files_read += 1
                for needle in needles:
                    if bytes.fromhex(needle) in data:
                        hits[needle].append(path)
    return hits, files_read


def run_git(argv):
    done = subprocess.run(argv, capture_output=True, timeout=60)
    return {"rc": done.returncode, "out": binascii.hexlify(done.stdout + done.stderr).decode()}


hits, files_read = grep(plan["roots"], plan["needles"])
print(json.dumps({
    "files": {path: read_hex(path) for path in plan["files"]},
    "hits": hits,
    "files_read": files_read,
    "git": {" ".join(argv): run_git(argv) for argv in plan["git"]},
}))
