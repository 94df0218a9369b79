"""In the container: allocate (and touch) memory 64 MiB at a time up to 2 GiB, logging progress.

Run as `python3 - PROGRESS_FILE < allocate_without_limit.py`. Each line of PROGRESS_FILE is the MiB
held so far, flushed before the next allocation, so the last line is what the process reached.
"""

import sys

CHUNK_MIB, TARGET_MIB, PAGE = 64, 2048, 4096
held = []
with open(sys.argv[1], "w") as progress:
    while len(held) * CHUNK_MIB < TARGET_MIB:
        chunk = bytearray(CHUNK_MIB * 1024 * 1024)
        for offset in range(0, len(chunk), PAGE):
            chunk[offset] = 1
        held.append(chunk)
        progress.write(f"{len(held) * CHUNK_MIB}\n")
        progress.flush()
print("allocated", len(held) * CHUNK_MIB, "MiB")
