"""Left running after the agent ends: swap each artifact folder with a link to a secret, forever.

Arguments: BEAT_FILE, then FOLDER=TARGET pairs. For each pair, a process of its own exchanges FOLDER
(a real folder holding a decoy artifact) with a symbolic link to TARGET, atomically
(renameat2 RENAME_EXCHANGE), about every millisecond: a collector that checks the folder and then
reads through it sees the real folder one moment and the link the next. The first process writes
BEAT_FILE (its swap count and the time) every 20 swaps, so the host can tell how long the swapping
went on. The processes are started in a new session by the caller and outlive the agent.
"""

import ctypes
import json
import os
import sys
import time

AT_FDCWD, RENAME_EXCHANGE = -100, 2
libc = ctypes.CDLL(None, use_errno=True)


def exchange(first: str, second: str) -> None:
    if libc.renameat2(AT_FDCWD, first.encode(), AT_FDCWD, second.encode(), RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), first)


def beat(beat_file: str, swaps: int) -> None:
    with open(beat_file + ".tmp", "w") as stream:
        json.dump({"swaps": swaps, "time_ns": time.time_ns()}, stream)
    os.replace(beat_file + ".tmp", beat_file)


def swap_forever(folder: str, target: str, beat_file: str | None) -> None:
    os.symlink(target, folder + ".link")
    swaps = 0
    while True:
        exchange(folder, folder + ".link")
        swaps += 1
        if beat_file and swaps % 20 == 0:
            beat(beat_file, swaps)
        time.sleep(0.001)


def main() -> None:
    beat_file, pairs = sys.argv[1], [pair.split("=", 1) for pair in sys.argv[2:]]
    for index, (folder, target) in enumerate(pairs):
        if os.fork() == 0:
            swap_forever(folder, target, beat_file if index == 0 else None)
    print(f"swapping {len(pairs)} folders")


main()
