"""Ethos-U55 targets: partitioning checked by Vela, regions compiled by Vela into C calling
ethosu_invoke_v3, run through byoc's functional Ethos-U55 model, bit-exact with TFLM."""

import json
import shutil
import subprocess
import sys

import pytest

import byoc
from byoc import zoo
from byoc.ethosu import compile_vela
from byoc.tflite.builder import LayerBuilder

HAVE_QEMU = shutil.which("qemu-system-arm") is not None and \
    shutil.which("arm-none-eabi-gcc") is not None
TARGET = "ethos-u55-256,cmsis-nn,c"


def _single(kind: str) -> bytes:
    lb = LayerBuilder(seed=3)
    x = lb.input((1, 9, 11, 8), scale=0.04, zero_point=-3)
    if kind == "conv_same_s2_relu":
        y = lb.conv2d(x, 16, 3, stride=2, activation="RELU")
    elif kind == "conv_valid_relu6_pertensor":
        y = lb.conv2d(x, 8, (3, 1), padding="VALID", activation="RELU6", per_channel=False)
    elif kind == "conv_dilated":
        y = lb.conv2d(x, 8, 3, dilation=2)
    elif kind == "depthwise_m2":
        y = lb.depthwise_conv2d(x, 3, stride=1, depth_multiplier=2, activation="RELU")
    elif kind == "depthwise_s2_valid":
        y = lb.depthwise_conv2d(x, 3, stride=2, padding="VALID")
    elif kind == "fc":
        y = lb.fully_connected(lb.reshape(x, (1, -1)), 12, activation="RELU")
    elif kind == "avgpool_same":
        y = lb.avg_pool2d(x, 3, 2, padding="SAME")
    elif kind == "maxpool_valid":
        y = lb.max_pool2d(x, 2, 2)
    elif kind == "add":
        y = lb.add(x, lb.constant((1, 9, 11, 8), 0.03, 4), activation="RELU")
    elif kind == "mul":
        y = lb.mul(x, lb.constant((1, 9, 11, 8), 0.02, -2))
    elif kind == "softmax":
        y = lb.softmax(x)
    elif kind == "pad_conv":
        y = lb.conv2d(lb.pad(x, [(0, 0), (1, 1), (2, 0), (0, 0)]), 8, 3, padding="VALID")
    elif kind == "concat_mean":
        y = lb.mean(lb.concatenation([x, lb.conv2d(x, 4, 1)], axis=-1), (1, 2))
    else:
        raise AssertionError(kind)
    lb.output(y)
    return lb.build()


SINGLE = ["conv_same_s2_relu", "conv_valid_relu6_pertensor", "conv_dilated", "depthwise_m2",
          "depthwise_s2_valid", "fc", "avgpool_same", "maxpool_valid", "add", "mul", "softmax",
          "pad_conv", "concat_mean"]


@pytest.mark.parametrize("kind", SINGLE)
def test_single_operator_bit_exact_on_host(kind):
    model = _single(kind)
    res = byoc.validate(model, target=TARGET, backend="host", inputs=2, seed=1)
    assert res.status == "pass", (kind, res.mismatches, res.max_abs_diff)
    assert res.npu_cycles and res.npu_cycles > 0


@pytest.mark.parametrize("name", ["small_cnn", "ds_cnn"])
def test_fully_offloaded_model_matches_plain_vela(name, tmp_path):
    data = getattr(zoo, name)()
    c = byoc.compile(data, target=TARGET, cpu="host", output_dir=tmp_path / "pkg")
    plain = compile_vela(data, "ethos-u55-256")
    assert not plain.cpu_operators
    regions = c.metadata["npu_regions"]
    assert len(regions) == len(plain.calls) == 1
    # our region is the whole model: same operator count, cycles within 2 %
    assert len(regions[0]["operators"]) == len(c.metadata["operators"])
    assert abs(c.metadata["npu_cycles"] - plain.npu_cycles) <= 0.02 * plain.npu_cycles
    assert list(c.metadata)[0] == "npu_cycles"
    assert all(call["backend"] == "ethos-u" for call in c.calls)
    assert (tmp_path / "pkg" / "ethosu" / "include" / "ethosu_driver.h").is_file()
    assert "model_set_npu" in (tmp_path / "pkg" / "include" / "model.h").read_text()


@pytest.mark.parametrize("accel", ["ethos-u55-256", "ethos-u55-128"])
@pytest.mark.parametrize("name", ["small_cnn", "ds_cnn"])
def test_zoo_models_bit_exact_on_host(name, accel):
    res = byoc.validate(getattr(zoo, name)(), target=f"{accel},cmsis-nn,c", backend="host",
                        inputs=2, seed=0)
    assert res.status == "pass" and res.mismatches == 0


@pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and arm-none-eabi-gcc")
@pytest.mark.parametrize("name", ["small_cnn", "ds_cnn"])
def test_zoo_models_bit_exact_on_qemu(name):
    res = byoc.validate(getattr(zoo, name)(), target=TARGET, backend="qemu", inputs=2, seed=0)
    assert res.status == "pass" and res.mismatches == 0
    assert res.npu_cycles > 0


def test_target_order_and_bad_accelerator(tmp_path):
    from byoc.compiler import parse_target
    assert parse_target("ethos-u55-64") == ["ethos-u55-64", "c"]
    with pytest.raises(byoc.ByocError):
        parse_target("cmsis-nn,ethos-u55-256,c")
    model = tmp_path / "m.tflite"
    model.write_bytes(_single("maxpool_valid"))
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "compile", str(model), "--target",
                           "ethos-u55-512,c", "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "ethos-u55-512" in proc.stderr


def test_info_shows_npu_split(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(zoo.ds_cnn())
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "info", str(model), "--json",
                           "--target", TARGET], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["placement"]["operators"]
    assert {r["backend"] for r in rows} == {"ethos-u"}


def _mixed() -> bytes:
    """conv (NPU) -> 9x9 SAME average pool (Vela 5.2 keeps it on the CPU: SAME padding needs
    a kernel of at most 8x8) -> conv (NPU)."""
    lb = LayerBuilder(seed=5)
    x = lb.input((1, 16, 16, 8), scale=0.04, zero_point=-3)
    y = lb.conv2d(x, 8, 3, activation="RELU")
    y = lb.avg_pool2d(y, 9, 1, padding="SAME")
    lb.output(lb.conv2d(y, 8, 1, activation="RELU"))
    return lb.build()


def test_mixed_model_vela_keeps_pool_on_cpu():
    plain = compile_vela(_mixed(), "ethos-u55-256")
    assert [c.type for c in plain.cpu_operators] == ["AVERAGE_POOL_2D"]
    assert len(plain.calls) == 2


@pytest.mark.parametrize("target,cpu_backend", [(TARGET, "cmsis-nn"),
                                                ("ethos-u55-256,c", "generic")])
def test_mixed_model_npu_cpu_npu_on_host(target, cpu_backend, tmp_path):
    model = _mixed()
    c = byoc.compile(model, target=target, cpu="host", output_dir=tmp_path / "pkg")
    regions = c.metadata["npu_regions"]
    assert len(regions) == 2
    assert [r["operators"] for r in regions] == [["CONV_2D 3x3 s1"], ["CONV_2D 1x1 s1"]]
    assert [call["backend"] for call in c.calls] == ["ethos-u", cpu_backend, "ethos-u"]
    pool = [op for op in c.metadata["operators"] if op["type"] == "AVERAGE_POOL_2D"]
    assert [op["backend"] for op in pool] == [cpu_backend]
    # zero-copy region IO: the pool's input (region 0's output) and output (region 1's input)
    # live inside the regions' scratch areas, which share the bytes not in use
    mem = c.metadata["memory"]
    assert sorted(v["buffer"] for v in mem["in_scratch"].values()) == ["scratch0", "scratch2"]
    assert mem["arena_bytes"] == mem["arena_lower_bound_bytes"] == 4096
    assert [b["kind"] for b in mem["buffers"]] == ["scratch", "scratch"]
    res = byoc.validate(model, target=target, backend="host", inputs=2, seed=1)
    assert res.status == "pass" and res.mismatches == 0


@pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and arm-none-eabi-gcc")
def test_mixed_model_bit_exact_on_qemu():
    res = byoc.validate(_mixed(), target=TARGET, backend="qemu", inputs=2, seed=0)
    assert res.status == "pass" and res.mismatches == 0
    assert res.npu_cycles > 0


def test_int16_model_stays_on_the_cpu_with_reason(tmp_path):
    """byoc's NPU path is int8: an int16 ("16x8") model under an ethos-u target runs on the
    CMSIS-NN _s16 kernels, every operator says why, and it is bit-exact with TFLM."""
    import numpy as np
    lb = LayerBuilder(seed=5, dtype=np.int16)
    x = lb.input((1, 8, 8, 4), scale=0.0002)
    y = lb.max_pool2d(lb.conv2d(x, 8, 3, activation="RELU"), 2, 2)
    lb.output(lb.softmax(lb.fully_connected(lb.reshape(y, (1, -1)), 10, per_channel=False)))
    c = byoc.compile(lb.build(), target=TARGET, cpu="host", output_dir=tmp_path / "pkg")
    assert not c.metadata.get("npu_regions")
    ops = [(o["type"], o["backend"]) for o in c.metadata["operators"]]
    assert ops == [("CONV_2D", "cmsis-nn"), ("MAX_POOL_2D", "cmsis-nn"), ("RESHAPE", "none"),
                   ("FULLY_CONNECTED", "cmsis-nn"), ("SOFTMAX", "cmsis-nn")]
    res = byoc.validate(lb.build(), target=TARGET, backend="host", inputs=2, seed=1)
    assert res.status == "pass" and res.mismatches == 0
