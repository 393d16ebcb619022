"""Compiled models on the Corstone-300 (QEMU mps3-an547): firmware build, run, read-back.

Each model is compiled for cortex-m55, its random inputs and TFLM's outputs are embedded in
a firmware harness (byoc.firmware), which runs on QEMU and prints the outputs back; the
comparison with TFLM is bit-exact (tolerance 0) for the int8 models. Instruction counts
come from QEMU's -icount and are exact, hence deterministic.

Needs arm-none-eabi-gcc, cmake, ninja, qemu-system-arm: without them the tests are
skipped, unless CI or BYOC_REQUIRE_TOOLCHAIN=1 is set (then they fail).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc import firmware, reference
from byoc.cli import main
from byoc.errors import ByocError
from byoc.platform import corstone300 as platform
from byoc.tflite.reader import load_model
from byoc.validate import random_inputs
from byoc.zoo import small_cnn
from test_float_model import float_conv_model
from test_generic_ops import CASES, build
from toolchain import require_tools

SAMPLES = 2
#: One case per operator family of test_generic_ops (the host tests cover every variant).
SINGLE_OPS = ["conv3x3_same_relu", "dw3x3", "fc_per_channel", "avgpool2x2", "maxpool2x2",
              "add", "softmax"]


@pytest.fixture(autouse=True)
def _toolchain():
    require_tools()


def op_model(tmp_path: Path, name: str) -> Path:
    shape, fn = CASES[name]
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(build(shape, fn, seed=len(name)))
    return path


def tflm(model_bytes: bytes, samples):
    tfl = load_model(model_bytes)
    act = sum(t.nbytes for t in tfl.tensors if not t.is_constant)
    return reference.run_tflm(tfl.data, samples, act, len(tfl.outputs))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("byoc: error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# ----------------------------------------------------------------------- bit-exactness


@pytest.mark.parametrize("name", SINGLE_OPS)
def test_operator_bit_exact_on_qemu(name, tmp_path):
    res = byoc.validate(op_model(tmp_path, name), backend="qemu", inputs=SAMPLES, seed=1,
                        work_dir=tmp_path / "work")
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0
    assert res.backend == "qemu" and res.cpu == "cortex-m55" and res.counter == "icount"
    assert res.instructions > 0 and len(res.instructions_per_sample) == SAMPLES
    assert res.instructions == max(res.instructions_per_sample)
    assert res.code_bytes > 0
    assert res.rodata_bytes >= res.constant_bytes
    assert res.profile is None


def test_small_cnn_bit_exact_and_deterministic(tmp_path):
    model = tmp_path / "small_cnn.tflite"
    model.write_bytes(small_cnn())
    assert len(load_model(model).operators) == 15
    first = byoc.validate(model, backend="qemu", inputs=3, seed=0, work_dir=tmp_path / "a")
    assert first.status == "pass", first
    assert first.mismatches == 0 and first.max_abs_diff == 0
    assert first.details == []
    # A fresh compile and firmware build of the same validation counts exactly the same.
    second = byoc.validate(model, backend="qemu", inputs=3, seed=0, work_dir=tmp_path / "b")
    assert second.status == "pass"
    assert second.instructions == first.instructions
    assert second.instructions_per_sample == first.instructions_per_sample
    assert (second.code_bytes, second.rodata_bytes) == (first.code_bytes, first.rodata_bytes)


def test_float_model_on_qemu_within_tolerance(tmp_path):
    res = byoc.validate(float_conv_model(), backend="qemu", inputs=2,
                        work_dir=tmp_path / "w")
    assert res.status == "pass", res
    assert 0 < res.tolerance and res.max_abs_diff <= res.tolerance


# ----------------------------------------------------------------------- profiling


def test_profile_counts_every_call(tmp_path, capsys):
    model = tmp_path / "small_cnn.tflite"
    model.write_bytes(small_cnn())
    code, out, err = run_cli(capsys, "validate", model, "--profile", "--inputs", "1",
                             "--work-dir", tmp_path / "w", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["status"] == "pass" and res["mismatches"] == 0
    for key in ("instructions", "code_bytes", "rodata_bytes"):
        assert isinstance(res[key], int) and res[key] > 0, key
    calls = json.loads((tmp_path / "w" / "package" / "metadata.json").read_text())["calls"]
    profile = res["profile"]
    assert [p["index"] for p in profile] == [c["index"] for c in calls]
    assert [p["name"] for p in profile] == [c["label"] for c in calls]
    assert all(p["calls"] == 1 and p["instructions"] > 0 for p in profile)
    total = res["instructions_per_sample"][0]
    ops = sum(p["instructions"] for p in profile)
    # The run function adds its own code and the hooks' calls around the operators.
    assert ops <= total
    assert ops >= 0.97 * total, (ops, total)

    entries = [platform.ProfileEntry(p["index"], p["name"], p["instructions"], p["calls"])
               for p in profile]
    table = firmware.format_profile(entries, total)
    assert len(table.splitlines()) == len(profile) + 5
    assert f"{total:,}" in table and f"{ops:,}" in table


# ----------------------------------------------------------------------- byoc run


def test_run_package_round_trip(tmp_path, capsys):
    model = build(*CASES["conv3x3_same_relu"], seed=5)
    pkg = tmp_path / "pkg"
    byoc.compile(model, cpu="cortex-m55", output_dir=pkg)
    sample = random_inputs(load_model(model), 1, seed=3)[0]
    want = tflm(model, [sample])[0]
    np.save(tmp_path / "x.npy", sample[0])
    code, out, err = run_cli(capsys, "run", pkg, "--input", tmp_path / "x.npy",
                             "--output", tmp_path / "y.npy", "--work-dir", tmp_path / "fw")
    assert code == 0, err
    got = np.load(tmp_path / "y.npy")
    assert got.dtype == want[0].dtype and got.shape == want[0].shape
    assert np.array_equal(got, want[0])
    assert out.startswith("PASS")
    assert "instructions:" in out and "arena" in out and "model code" in out

    # With the expectation embedded the firmware compares on the target.
    np.save(tmp_path / "want.npy", want[0])
    code, out, err = run_cli(capsys, "run", pkg, "--input", tmp_path / "x.npy", "--expected",
                             tmp_path / "want.npy", "--work-dir", tmp_path / "fw", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["status"] == "pass" and res["mismatches"] == 0 and res["instructions"] > 0
    wrong = want[0].copy()
    wrong.reshape(-1)[7] ^= 1
    np.save(tmp_path / "wrong.npy", wrong)
    code, out, err = run_cli(capsys, "run", pkg, "--input", tmp_path / "x.npy", "--expected",
                             tmp_path / "wrong.npy", "--work-dir", tmp_path / "fw")
    assert code == 1, err
    assert out.startswith("FAIL: 1 mismatching elements")


def test_load_package_gives_io(tmp_path):
    model = build(*CASES["fc_per_channel"], seed=2)
    compiled = byoc.compile(model, cpu="cortex-m55", output_dir=tmp_path / "pkg")
    loaded = firmware.load_package(tmp_path / "pkg")
    assert loaded.program is None
    assert firmware.io_tensors(loaded) == firmware.io_tensors(compiled)
    assert loaded.arena_bytes == compiled.arena_bytes
    with pytest.raises(ByocError, match="metadata.json"):
        firmware.load_package(tmp_path)


# ----------------------------------------------------------------------- bad input


def test_arena_too_big_for_region(tmp_path, capsys):
    # conv -> pool: the conv's 512-byte output lives in the arena.
    model = build((1, 8, 8, 3), lambda lb, x: lb.max_pool2d(lb.conv2d(x, 8, 3), 2, 2))
    compiled = byoc.compile(model, cpu="cortex-m55", output_dir=tmp_path / "pkg")
    assert compiled.arena_bytes > 256
    sample = random_inputs(load_model(model), 1, seed=0)
    with pytest.raises(ByocError) as info:
        firmware.run_on_corstone(compiled, sample, memory={"SRAM2_SIZE": 256},
                                 work_dir=tmp_path / "fw")
    assert isinstance(info.value, platform.FirmwareBuildError)
    message = str(info.value)
    assert "region `SRAM2' overflowed" in message and "arena" in message
    assert "\n" not in message

    np.save(tmp_path / "x.npy", sample[0][0])
    code, _, err = run_cli(capsys, "run", tmp_path / "pkg", "--input", tmp_path / "x.npy",
                           "--memory", "SRAM2_SIZE=0x100", "--work-dir", tmp_path / "fw")
    assert_one_line_error(code, err, "SRAM2", "arena", "--arena-region")


def test_run_timeout_is_reported(tmp_path, capsys):
    model = tmp_path / "m.tflite"
    model.write_bytes(build(*CASES["add"], seed=5))
    code, _, err = run_cli(capsys, "validate", model, "--inputs", "1", "--timeout", "0.001",
                           "--work-dir", tmp_path / "w")
    assert_one_line_error(code, err, "did not finish within 0.001 s", "--timeout")
    # The same through the API: a ByocError subclass.
    compiled = firmware.load_package(tmp_path / "w" / "package")
    sample = random_inputs(load_model(model), 1, seed=0)
    with pytest.raises(platform.RunTimeout) as info:
        firmware.run_on_corstone(compiled, sample, work_dir=tmp_path / "w" / "firmware",
                                 timeout_s=0.001)
    assert isinstance(info.value, ByocError)


def test_bad_run_arguments(tmp_path, capsys):
    model = build(*CASES["add"], seed=5)
    byoc.compile(model, cpu="cortex-m55", output_dir=tmp_path / "pkg")
    byoc.compile(model, cpu="host", output_dir=tmp_path / "pkg_host")
    np.save(tmp_path / "f.npy", np.zeros((1, 5, 5, 4), np.float32))
    np.save(tmp_path / "x.npy", np.zeros((1, 5, 5, 4), np.int8))
    code, _, err = run_cli(capsys, "run", tmp_path / "pkg", "--input", tmp_path / "f.npy")
    assert_one_line_error(code, err, "f.npy", "int8", "float32")
    code, _, err = run_cli(capsys, "run", tmp_path / "pkg", "--input", tmp_path / "x.npy",
                           "--input", tmp_path / "x.npy")
    assert_one_line_error(code, err, "1 input")
    code, _, err = run_cli(capsys, "run", tmp_path / "pkg", "--input", tmp_path / "nope.npy")
    assert_one_line_error(code, err, "nope.npy")
    code, _, err = run_cli(capsys, "run", tmp_path / "pkg_host", "--input", tmp_path / "x.npy")
    assert_one_line_error(code, err, "'host'", "cortex-m55")
    code, _, err = run_cli(capsys, "run", tmp_path / "missing", "--input", tmp_path / "x.npy")
    assert_one_line_error(code, err, "missing")
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    code, _, err = run_cli(capsys, "validate", path, "--backend", "host", "--profile")
    assert_one_line_error(code, err, "--profile", "qemu")


def test_fvp_backend_with_stand_in(tmp_path, monkeypatch):
    """``backend="fvp"`` through a stand-in FVP that runs the ELF on QEMU."""
    fake = tmp_path / "bin" / platform.FVP_BINARIES[0]
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do [ "$1" = "-a" ] && elf="$2"; shift; done\n'
        'exec qemu-system-arm -M mps3-an547 -nographic -semihosting-config '
        'enable=on,target=native -icount shift=7 -kernel "$elf"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    model = build(*CASES["maxpool2x2"], seed=4)
    res = byoc.validate(model, backend="fvp", inputs=1, work_dir=tmp_path / "w")
    assert res.status == "pass", res
    assert res.backend == "fvp" and res.instructions > 0


FAKE_HEADER = """#include <stdint.h>
#define FAKE_WORKSPACE_SIZE 0u
struct fake_inputs { const uint8_t* a; };
struct fake_outputs { int16_t* b; uint32_t* c; float* d; int32_t* e; int8_t* f; };
int32_t fake_run(const struct fake_inputs* in, struct fake_outputs* out, void* workspace);
"""
FAKE_SOURCE = """#include "fake.h"
int32_t fake_run(const struct fake_inputs* in, struct fake_outputs* out, void* workspace) {
  (void)workspace;
  for (int i = 0; i < 2; ++i) {
    out->b[i] = (int16_t)(in->a[i] * -300);
    out->d[i] = (float)in->a[i] * 0.5f;
    out->e[i] = (int32_t)in->a[i] * -16777216;
    out->f[i] = (int8_t)(in->a[i] - 128);
  }
  for (int i = 0; i < 3; ++i) out->c[i] = (uint32_t)in->a[i] * 16843009u;
  return 0;
}
"""


def test_harness_data_types_round_trip(tmp_path):
    """Every data type the harness embeds, compares and prints back (a hand-written model)."""
    from byoc.aot import IOTensor
    ins = [IOTensor("a", "a", (1, 4), "uint8")]
    outs = [IOTensor("b", "b", (2,), "int16"), IOTensor("c", "c", (3,), "uint32"),
            IOTensor("d", "d", (2,), "float32"), IOTensor("e", "e", (2,), "int32"),
            IOTensor("f", "f", (2,), "int8")]
    samples = [[np.array([[1, 2, 3, 255]], np.uint8)], [np.array([[255, 0, 7, 9]], np.uint8)]]

    def expect(a):
        a = a.reshape(-1).astype(np.int64)
        return [(a[:2] * -300).astype(np.int16), (a[:3] * 16843009).astype(np.uint32),
                (a[:2] * 0.5).astype(np.float32), (a[:2] * -16777216).astype(np.int32),
                (a[:2] - 128).astype(np.int8)]
    expected = [expect(s[0]) for s in samples]
    (tmp_path / "fake.h").write_text(FAKE_HEADER)
    (tmp_path / "fake.c").write_text(FAKE_SOURCE)
    wrong = [list(e) for e in expected]
    wrong[1][2] = wrong[1][2] + np.float32(1.0)   # one float element off in sample 1
    (tmp_path / "main.c").write_text(firmware.harness_source("fake", ins, outs, samples, wrong))
    elf = platform.build_firmware(None, [tmp_path / "main.c", tmp_path / "fake.c"],
                                  tmp_path / "build")
    run = platform.run_firmware(elf, backend="qemu", timeout_s=20)
    assert run.result["status"] == "fail" and run.result["mismatches"] == "2", run.stdout
    assert "BYOC_MISMATCH output=d index=0" in run.stdout
    got = firmware.parse_outputs(run.stdout, outs, len(samples))
    for g_sample, w_sample in zip(got, expected):
        for g, w in zip(g_sample, w_sample):
            assert g.dtype == w.dtype and np.array_equal(g, w), (g, w)
