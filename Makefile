# byoc developer entry points. `make demo` and `make test` set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: setup system emulator demo test test-all clean bench bench-arm bench-kernels bench-streaming

setup: system $(STAMP) emulator

system:
	@bash scripts/setup-system.sh

# byoc's Corstone-300 emulator with the Ethos-U55 device (fvp/qemu, build/qemu-ethosu): built
# once, rebuilt only when its sources or the Debian QEMU version change (else a no-op).
emulator: system
	@bash fvp/qemu/build.sh

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	@touch $(STAMP)

demo: setup
	$(PY) -m byoc.demo

test: setup
	$(PY) -m pytest -n $(JOBS) -q tests

# Everything, including the full slow sweeps.
test-all: setup
	BYOC_FULL_SWEEP=1 $(PY) -m pytest -n $(JOBS) -q tests

clean:
	rm -rf build $(VENV)

# Kernel benchmark: instructions of C1..C12 and S1..S3 (int16) on QEMU for the mve/dsp/c paths -> build/bench/kernels.json
bench-kernels: setup
	$(PY) scripts/bench_kernels.py

# Streaming benchmark: the wake-word models (stateful) on every target, 20-step streams on QEMU
# -> build/bench/streaming.md (table), streaming.json
bench-streaming: setup
	$(PY) scripts/bench_streaming.py

# Network benchmark: the MLPerf Tiny networks on every target, on QEMU against TFLM
# -> build/bench/networks.md (table), networks.json (records), networks.png (chart)
# ARGS: options of the script, e.g. ARGS="--cmsis-nn-path /path/to/CMSIS-NN --target cmsis-nn,c"
bench: setup
	$(PY) scripts/bench_networks.py $(ARGS)

# byoc's CMSIS-NN kernels vs Arm's CMSIS-NN per network on cortex-m55/m4/m0plus (QEMU, vs TFLM)
# -> build/bench/arm_cmsis_nn.md, arm_cmsis_nn.json; needs ARGS="--cmsis-nn-path /path/to/CMSIS-NN"
bench-arm: setup
	$(PY) scripts/bench_arm_cmsis_nn.py $(ARGS)
