"""Run llama.cpp's server (xllamacpp) on 127.0.0.1 until standard input closes.

Usage: python serve.py MODEL.gguf CHAT_TEMPLATE.jinja THREADS
Prints one line, `LISTENING <url> <load seconds>`, once the model is loaded and the port is bound.
The server picks a free port itself (port 0), so two runs never race for one.
Runs as its own process so the test can kill it: xllamacpp's server lives inside the Python process.
"""

from __future__ import annotations

import sys
import time


def build_params(model_path: str, chat_template: str, threads: int):
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.chat_template = chat_template  # SmolLM2's own template drops `tools`; this one renders them
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.n_ctx = 4096
    params.n_parallel = 1
    params.cpuparams.n_threads = threads  # 1: OpenMP threads spin, and 2 on a busy 2-core box run 15x slower
    params.cpuparams_batch.n_threads = threads
    params.ui = False
    params.offline = True  # never reach a model hub
    params.cache_ram_mib = 0
    # A fixed sampling seed: the gateway's requests carry no temperature or seed, and the pipeline test
    # should see the same answers run after run. (Greedy decoding loops: "I'm here. I'm here. ..." until
    # max_tokens cuts the JSON call.) Requests that set a seed keep theirs.
    params.sampling.seed = 42
    return params


def main(argv: list[str]) -> int:
    import xllamacpp

    started = time.monotonic()
    model_path, template_path, threads = argv[1], argv[2], int(argv[3])
    with open(template_path, encoding="utf-8") as handle:
        params = build_params(model_path, handle.read(), threads)
    server = xllamacpp.Server(params)
    print(f"LISTENING {server.listening_address} {time.monotonic() - started:.2f}", flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or dies
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
