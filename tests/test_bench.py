"""``make bench`` in reduced form (one network, two targets), so that the script cannot rot.

scripts/bench_networks.py runs the full set (every MLPerf Tiny network x every target); here
the smallest network runs on ``c`` and on ``cmsis-nn,c`` (measured when byoc.compiler
implements it, else recorded as "not available"), through the script's own ``main``, and the
Markdown table, the JSON records and the PNG chart are checked against each other.
About 10 s on QEMU.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from byoc import compiler
from byoc.errors import ByocError
from byoc.zoo import MLPERF_TINY, fc_autoencoder
from toolchain import require_tools

REPO = Path(__file__).resolve().parents[1]
#: what ``byoc validate --json`` prints, plus the benchmark's own keys
VALIDATE_KEYS = {"status", "mismatches", "max_abs_diff", "target", "backend", "cpu", "samples",
                 "seed", "tolerance", "reference", "arena_bytes", "arena_lower_bound_bytes",
                 "constant_bytes", "instructions", "instructions_per_sample", "counter",
                 "code_bytes", "rodata_bytes", "litert_mismatches", "output_dir", "details"}
BENCH_KEYS = {"network", "macs", "tflm_arena_bytes", "npu_cycles", "compile_seconds", "seconds"}


def load_script():
    spec = importlib.util.spec_from_file_location("bench_networks",
                                                  REPO / "scripts" / "bench_networks.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_networks", mod)
    spec.loader.exec_module(mod)
    return mod


bench = load_script()


@pytest.fixture()
def toolchain():
    require_tools()


def test_defaults_cover_every_network_and_target():
    assert bench.TARGETS == ("c", "cmsis-nn,c", "ethos-u55-128,cmsis-nn,c",
                             "ethos-u55-256,cmsis-nn,c")
    assert bench.target_unavailable("c") is None
    assert "unknown target" in bench.target_unavailable("nonsense")
    for t in bench.TARGETS:
        try:
            compiler.parse_target(t)
        except ByocError as exc:
            assert bench.target_unavailable(t) == str(exc)
        else:
            assert bench.target_unavailable(t) is None
    assert list(MLPERF_TINY) == ["ds_cnn", "mobilenet_v1_025", "resnet8", "fc_autoencoder"]


def test_tflm_arena_probe(tmp_path):
    path = tmp_path / "ae.tflite"
    path.write_bytes(fc_autoencoder())
    arena = bench.tflm_arena(path)
    assert 0 < arena["head"] < arena["total"]
    assert arena["head"] + arena["tail"] == arena["total"]
    # the head holds at least the largest activation (input and output are 640 bytes each)
    assert arena["head"] >= 640


def test_reduced_bench(tmp_path, toolchain, capsys):
    out = tmp_path / "bench"
    code = bench.main(["--network", "fc_autoencoder", "--target", "c", "--target", "cmsis-nn,c",
                       "--inputs", "2", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    records = json.loads((out / "networks.json").read_text())
    assert [(r["network"], r["target"]) for r in records] == [
        ("fc_autoencoder", "c"), ("fc_autoencoder", "cmsis-nn,c")]
    table = (out / "networks.md").read_text()
    assert table in stdout.replace("\r", "")          # the table is printed too
    assert "[1/" in stdout                             # progress lines
    for r in records:
        if r["status"] == bench.NOT_AVAILABLE:
            assert r["target"] != "c"
            assert f"Target `{r['target']}`: not available" in table
            continue
        assert VALIDATE_KEYS | BENCH_KEYS <= set(r)
        assert r["status"] == "pass" and r["mismatches"] == 0 and r["samples"] == 2
        assert r["backend"] == "qemu" and r["counter"] == "icount"
        assert r["instructions"] == max(r["instructions_per_sample"]) > 0
        assert r["macs"] == 264_192
        if r["target"] == "c":
            assert r["instructions"] > r["macs"]      # scalar C: at least one per MAC
        assert r["arena_bytes"] >= r["arena_lower_bound_bytes"] > 0
        assert r["tflm_arena_bytes"] > 0 and r["code_bytes"] > 0 and r["constant_bytes"] > 0
        assert r["npu_cycles"] is None                # CPU-only targets
        assert 0 < r["compile_seconds"] < 60
        # every cell of the row is the measured value
        row = next(line for line in table.splitlines()
                   if line.startswith(f"| fc_autoencoder | `{r['target']}` |"))
        for key in ("instructions", "arena_bytes", "arena_lower_bound_bytes",
                    "tflm_arena_bytes", "constant_bytes", "code_bytes"):
            assert f"| {r[key]:,} |" in row, (key, row)
        assert "yes (2 inputs)" in row
    png = (out / "networks.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_makefile_has_bench_target():
    text = (REPO / "Makefile").read_text()
    assert "\nbench:" in text and "scripts/bench_networks.py" in text
    assert ".[test,bench]" in text or "[bench]" in text


def test_a_failing_target_is_recorded_and_the_rest_goes_on(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ByocError("simulated build failure")

    monkeypatch.setattr(bench, "validate", broken)
    out = tmp_path / "bench"
    code = bench.main(["--network", "fc_autoencoder", "--network", "ds_cnn", "--target", "c",
                       "--inputs", "1", "--out", str(out), "--no-plot"])
    stdout = capsys.readouterr().out
    assert code == 1
    records = json.loads((out / "networks.json").read_text())
    assert [(r["network"], r["status"]) for r in records] == [("fc_autoencoder", "error"),
                                                              ("ds_cnn", "error")]
    assert all(r["details"] == ["simulated build failure"] for r in records)
    assert "| fc_autoencoder | `c` | 264,192 | **error**: simulated build failure |" in stdout
    assert "ERROR: simulated build failure" in stdout
    assert not (out / "networks.png").exists()


def test_npu_cycles_come_from_the_compiler_else_from_vela():
    from byoc.zoo import ds_cnn
    model = ds_cnn()
    assert bench.npu_cycles("cmsis-nn,c", model, {"npu_cycles": 7}, None) is None
    target = "ethos-u55-128,cmsis-nn,c"
    assert bench.npu_cycles(target, model, {"npu_cycles": 7}, None) == 7
    meta = {"partitions": [{"backend": "ethos-u", "npu_cycles": 5},
                           {"backend": "ethos-u", "npu_cycles": 6}, {"backend": "generic"}]}
    assert bench.npu_cycles(target, model, meta, None) == 11
    # nothing recorded: Vela itself on the same model and accelerator configuration
    from byoc.ethosu import compile_vela
    small, big = (bench.npu_cycles(f"ethos-u55-{m},cmsis-nn,c", model, {}, None)
                  for m in (128, 256))
    assert small == compile_vela(model, "ethos-u55-128").npu_cycles
    assert small > big > 0
