"""Bit-exactness of byoc's int16-activation CMSIS-NN kernels (A16W8, TFLite "16x8") against
TFLite Micro, on the host portable C path.

Every case is a single-operator int16 TFLite model (int16 activations with zero point 0, int8
symmetric per-channel weights, int64 bias) run in TFLM (the golden reference), and the matching
``arm_*_s16`` call made through ctypes on the kernel library built as a shared object with
gcc -Wall -Wextra -Werror. Kernel arguments come from ``byoc.cmsisnn_params`` (``*_s16``
helpers), as the code generator will compute them.
"""

from __future__ import annotations

import ctypes as C
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tflite

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "kernels_c" / "test"))

import cmsis_nn_testlib as tl  # noqa: E402

from byoc import cmsisnn_params as cp  # noqa: E402
from byoc.tflite.builder import ACTIVATIONS, ModelBuilder, Quant  # noqa: E402


# ---------------------------------------------------------------------------------------
# ctypes binding of the library
# ---------------------------------------------------------------------------------------

class PerChannel(C.Structure):
    _fields_ = [("multiplier", C.c_void_p), ("shift", C.c_void_p)]


class BiasData(C.Structure):
    _fields_ = [("data", C.c_void_p), ("is_int32_bias", C.c_bool)]


class SoftmaxLut(C.Structure):
    _fields_ = [("exp_lut", C.c_void_p), ("one_by_one_lut", C.c_void_p)]


class Context(C.Structure):
    _fields_ = [("buf", C.c_void_p), ("size", C.c_int32)]


def _i32(*vals) -> np.ndarray:
    return np.ascontiguousarray(np.array(vals, np.int32))


def _p(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(C.c_void_p)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    so = tmp_path_factory.mktemp("cmsis_nn_s16") / "libcmsisnn.so"
    cmd = ["gcc", "-O2", "-std=gnu99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
           "-I", str(tl.LIB_DIR / "Include"), *map(str, tl.library_sources()), "-o", str(so)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return C.CDLL(str(so))


def _f32(x: float) -> float:
    return float(np.float32(x))


def _weights(rng, shape, n):
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    scales = (0.004 * rng.uniform(0.5, 2.0, size=n)).astype(np.float32)
    return w, scales


def _out_scale(in_scale, w_scales, fan_in, rng):
    acc_std = 9000.0 * 74.0 * math.sqrt(max(fan_in, 1))
    return _f32(in_scale * float(np.mean(w_scales)) * acc_std / 6000.0 * rng.uniform(0.6, 1.6))


def _x16(rng, shape):
    return rng.integers(-32768, 32768, size=shape).astype(np.int16)


def _act(mb, name, shape, scale):
    return mb.add_tensor(name, shape, np.int16, quant=Quant.per_tensor(scale, 0))


# ---------------------------------------------------------------------------------------
# Convolution / depthwise / fully connected
# ---------------------------------------------------------------------------------------

def _conv(lib, seed, input_nhwc, cout, k, stride=(1, 1), padding="SAME", dil=(1, 1),
          activation=None, has_bias=True, depthwise=False, ch_mult=1):
    rng = np.random.default_rng(seed)
    n, h, w, cin = input_nhwc
    kh, kw = k
    if depthwise:
        cout = cin * ch_mult
    oh, ph = cp.output_size_and_padding(h, kh, stride[0], padding, dil[0])
    ow, pw = cp.output_size_and_padding(w, kw, stride[1], padding, dil[1])
    in_scale = _f32(rng.uniform(0.0005, 0.002))
    wshape = (1, kh, kw, cout) if depthwise else (cout, kh, kw, cin)
    wts, w_scales = _weights(rng, wshape, cout)
    bias = rng.integers(-2_000_000, 2_000_001, size=cout).astype(np.int64)
    out_scale = _out_scale(in_scale, w_scales, kh * kw * (1 if depthwise else cin), rng)

    mb = ModelBuilder()
    xi = _act(mb, "x", (n, h, w, cin), in_scale)
    wi = mb.add_tensor("w", wts.shape, np.int8, wts,
                       Quant([float(s) for s in w_scales], [0] * cout, 3 if depthwise else 0))
    bi = (mb.add_tensor("b", bias.shape, np.int64, bias,
                        Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * cout))
          if has_bias else -1)
    yi = _act(mb, "y", (n, oh, ow, cout), out_scale)
    opts = {"Padding": getattr(tflite.Padding, padding), "StrideW": stride[1], "StrideH": stride[0],
            "DilationWFactor": dil[1], "DilationHFactor": dil[0],
            "FusedActivationFunction": ACTIVATIONS[activation]}
    if depthwise:
        opts["DepthMultiplier"] = ch_mult
        mb.add_operator("DEPTHWISE_CONV_2D", [xi, wi, bi], [yi], "DepthwiseConv2DOptions", opts)
    else:
        mb.add_operator("CONV_2D", [xi, wi, bi], [yi], "Conv2DOptions", opts)
    mb.set_io([xi], [yi])
    x = _x16(rng, (n, h, w, cin))
    expected = tl.tflm_run(mb.build(), [x])

    q = cp.conv_quant_s16(in_scale, w_scales, out_scale, activation)
    mult = np.ascontiguousarray(q.multiplier, np.int32)
    shift = np.ascontiguousarray(q.shift, np.int32)
    quant = PerChannel(_p(mult), _p(shift))
    out = np.zeros((n, oh, ow, cout), np.int16)
    ctx = Context(None, 0)
    in_dims = _i32(n, h, w, cin)
    f_dims = _i32(*wshape)
    b_dims = _i32(1, 1, 1, cout)
    o_dims = _i32(n, oh, ow, cout)
    bias_arr = bias if has_bias else None
    if depthwise:
        params = _i32(0, 0, ch_mult, stride[1], stride[0], pw, ph, dil[1], dil[0], q.act_min, q.act_max)
        status = lib.arm_depthwise_conv_wrapper_s16(
            C.byref(ctx), _p(params), C.byref(quant), _p(in_dims), _p(x), _p(f_dims), _p(wts),
            _p(b_dims), _p(bias_arr), _p(o_dims), _p(out))
    else:
        params = _i32(0, 0, stride[1], stride[0], pw, ph, dil[1], dil[0], q.act_min, q.act_max)
        bias_data = BiasData(_p(bias_arr), False)
        status = lib.arm_convolve_wrapper_s16(
            C.byref(ctx), _p(params), C.byref(quant), _p(in_dims), _p(x), _p(f_dims), _p(wts),
            _p(b_dims), C.byref(bias_data), _p(o_dims), _p(out))
    return status, out, expected


CONV_CASES = [
    dict(input_nhwc=(1, 5, 5, 3), cout=4, k=(3, 3)),
    dict(input_nhwc=(1, 8, 7, 8), cout=6, k=(3, 3), stride=(2, 2), activation="RELU"),
    dict(input_nhwc=(2, 6, 6, 5), cout=3, k=(1, 1)),
    dict(input_nhwc=(1, 9, 9, 4), cout=5, k=(3, 2), padding="VALID", dil=(2, 1)),
    dict(input_nhwc=(1, 1, 12, 7), cout=8, k=(1, 3), activation="RELU6"),
    dict(input_nhwc=(1, 7, 7, 16), cout=16, k=(5, 5), stride=(2, 1), has_bias=False),
]


@pytest.mark.parametrize("i", range(len(CONV_CASES)))
def test_conv_s16_bit_exact(lib, i):
    status, out, expected = _conv(lib, 300 + i, **CONV_CASES[i])
    assert status == 0
    assert np.array_equal(out.reshape(-1), expected.reshape(-1)), CONV_CASES[i]


DW_CASES = [
    dict(input_nhwc=(1, 6, 6, 8), k=(3, 3)),
    dict(input_nhwc=(1, 9, 8, 5), k=(3, 3), stride=(2, 2), activation="RELU"),
    dict(input_nhwc=(2, 5, 5, 3), k=(3, 3), ch_mult=2),
    dict(input_nhwc=(1, 10, 10, 4), k=(3, 3), padding="VALID", dil=(2, 2)),
    dict(input_nhwc=(1, 7, 7, 1), k=(5, 5), ch_mult=3),
]


@pytest.mark.parametrize("i", range(len(DW_CASES)))
def test_depthwise_s16_bit_exact(lib, i):
    status, out, expected = _conv(lib, 400 + i, cout=0, depthwise=True, **DW_CASES[i])
    assert status == 0
    assert np.array_equal(out.reshape(-1), expected.reshape(-1)), DW_CASES[i]


@pytest.mark.parametrize("batches,depth,units,activation,has_bias",
                         [(1, 16, 10, None, True), (3, 37, 5, "RELU", True),
                          (2, 100, 12, None, False), (1, 1, 1, "RELU6", True)])
def test_fully_connected_s16_bit_exact(lib, batches, depth, units, activation, has_bias):
    rng = np.random.default_rng(500 + depth)
    in_scale = _f32(rng.uniform(0.0005, 0.002))
    wts = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
    w_scale = _f32(0.004 * rng.uniform(0.5, 2.0))
    bias = rng.integers(-2_000_000, 2_000_001, size=units).astype(np.int64)
    out_scale = _out_scale(in_scale, [w_scale], depth, rng)
    mb = ModelBuilder()
    xi = _act(mb, "x", (batches, depth), in_scale)
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant.per_tensor(w_scale, 0))
    bi = (mb.add_tensor("b", bias.shape, np.int64, bias, Quant.per_tensor(_f32(in_scale * w_scale), 0))
          if has_bias else -1)
    yi = _act(mb, "y", (batches, units), out_scale)
    mb.add_operator("FULLY_CONNECTED", [xi, wi, bi], [yi], "FullyConnectedOptions",
                    {"FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _x16(rng, (batches, depth))
    expected = tl.tflm_run(mb.build(), [x])

    q = cp.conv_quant_s16(in_scale, [w_scale], out_scale, activation)
    quant = _i32(int(q.multiplier[0]), int(q.shift[0]))
    params = _i32(0, 0, 0, q.act_min, q.act_max)
    out = np.zeros((batches, units), np.int16)
    ctx = Context(None, 0)
    status = lib.arm_fully_connected_s16(
        C.byref(ctx), _p(params), _p(quant), _p(_i32(batches, 1, 1, depth)), _p(x),
        _p(_i32(depth, 1, 1, units)), _p(wts), _p(_i32(1, 1, 1, units)),
        _p(bias if has_bias else None), _p(_i32(batches, 1, 1, units)), _p(out))
    assert status == 0
    assert np.array_equal(out, expected.reshape(out.shape))


# ---------------------------------------------------------------------------------------
# Pooling, softmax, elementwise
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("shape,size,stride,padding,activation",
                         [((1, 6, 6, 5), (2, 2), (2, 2), "VALID", None),
                          ((1, 7, 9, 3), (3, 3), (2, 2), "SAME", "RELU"),
                          ((2, 5, 5, 4), (3, 2), (1, 1), "SAME", None),
                          ((1, 7, 7, 20), (7, 7), (1, 1), "VALID", "RELU6")])
def test_pool_s16_bit_exact(lib, kind, shape, size, stride, padding, activation):
    rng = np.random.default_rng(600 + sum(shape))
    n, h, w, c = shape
    oh, ph = cp.output_size_and_padding(h, size[0], stride[0], padding)
    ow, pw = cp.output_size_and_padding(w, size[1], stride[1], padding)
    scale = _f32(rng.uniform(0.0002, 0.001))
    mb = ModelBuilder()
    xi = _act(mb, "x", shape, scale)
    yi = _act(mb, "y", (n, oh, ow, c), scale)
    mb.add_operator("AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D", [xi], [yi], "Pool2DOptions",
                    {"Padding": getattr(tflite.Padding, padding), "StrideW": stride[1],
                     "StrideH": stride[0], "FilterWidth": size[1], "FilterHeight": size[0],
                     "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _x16(rng, shape)
    expected = tl.tflm_run(mb.build(), [x])
    lo, hi = cp.pool_activation_s16(activation, scale)
    params = _i32(stride[1], stride[0], pw, ph, lo, hi)
    out = np.zeros((n, oh, ow, c), np.int16)
    ctx = Context(None, 0)
    fn = lib.arm_avgpool_s16 if kind == "avg" else lib.arm_max_pool_s16
    status = fn(C.byref(ctx), _p(params), _p(_i32(*shape)), _p(x), _p(_i32(1, size[0], size[1], 1)),
                _p(_i32(n, oh, ow, c)), _p(out))
    assert status == 0
    assert np.array_equal(out, expected.reshape(out.shape))


@pytest.mark.parametrize("rows,depth,in_scale,beta",
                         [(1, 10, 0.0003, 1.0), (4, 33, 0.001, 1.0), (3, 7, 0.0001, 0.5),
                          (2, 100, 0.0005, 2.0), (1, 1, 0.001, 1.0)])
def test_softmax_s16_bit_exact(lib, rows, depth, in_scale, beta):
    rng = np.random.default_rng(700 + depth)
    mb = ModelBuilder()
    xi = _act(mb, "x", (rows, depth), in_scale)
    yi = _act(mb, "y", (rows, depth), 1.0 / 32768.0)
    mb.add_operator("SOFTMAX", [xi], [yi], "SoftmaxOptions", {"Beta": beta})
    mb.set_io([xi], [yi])
    x = _x16(rng, (rows, depth))
    expected = tl.tflm_run(mb.build(), [x])
    mult, shift = cp.softmax_params_s16(in_scale, beta)
    exp_lut, recip_lut = cp.softmax_luts_s16()
    luts = SoftmaxLut(_p(exp_lut), _p(recip_lut))
    out = np.zeros((rows, depth), np.int16)
    lib.arm_softmax_s16.argtypes = [C.c_void_p, C.c_int32, C.c_int32, C.c_int32, C.c_int32,
                                    C.c_void_p, C.c_void_p]
    status = lib.arm_softmax_s16(_p(x), rows, depth, mult, shift, C.byref(luts), _p(out))
    assert status == 0
    assert np.array_equal(out, expected.reshape(out.shape))


@pytest.mark.parametrize("op", ["ADD", "MUL"])
@pytest.mark.parametrize("seed,size,activation", [(0, 37, None), (1, 200, "RELU"), (2, 5, "RELU6")])
def test_elementwise_s16_bit_exact(lib, op, seed, size, activation):
    rng = np.random.default_rng(800 + seed)
    s1, s2 = _f32(rng.uniform(0.0002, 0.001)), _f32(rng.uniform(0.0002, 0.001))
    so = _f32((s1 + s2) * rng.uniform(0.6, 1.5) if op == "ADD" else s1 * s2 * 32768 * rng.uniform(0.3, 1))
    mb = ModelBuilder()
    ai, bi = _act(mb, "a", (1, size), s1), _act(mb, "b", (1, size), s2)
    yi = _act(mb, "y", (1, size), so)
    mb.add_operator(op, [ai, bi], [yi], f"{op.capitalize()}Options",
                    {"FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([ai, bi], [yi])
    a, b = _x16(rng, (1, size)), _x16(rng, (1, size))
    expected = tl.tflm_run(mb.build(), [a, b])
    out = np.zeros((1, size), np.int16)
    if op == "ADD":
        p = cp.add_params_s16(s1, s2, so, activation)
        status = lib.arm_elementwise_add_s16(
            _p(a), _p(b), p.input_1_offset, p.input_1_mult, p.input_1_shift, p.input_2_offset,
            p.input_2_mult, p.input_2_shift, p.left_shift, _p(out), p.out_offset, p.out_mult,
            p.out_shift, p.out_activation_min, p.out_activation_max, size)
    else:
        p = cp.mul_params_s16(s1, s2, so, activation)
        status = lib.arm_elementwise_mul_s16(
            _p(a), _p(b), p.input_1_offset, p.input_2_offset, _p(out), p.out_offset, p.out_mult,
            p.out_shift, p.out_activation_min, p.out_activation_max, size)
    assert status == 0
    assert np.array_equal(out, expected.reshape(out.shape))


# ---------------------------------------------------------------------------------------
# The case runner: host (portable path) and Corstone-300 / QEMU (Helium, DSP, portable)
# ---------------------------------------------------------------------------------------

import random  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from sweep import full_sweep_only  # noqa: E402
from toolchain import require_tools  # noqa: E402

QEMU_PATHS = ["mve", "dsp", "c"]


@pytest.fixture(scope="module")
def s16_cases():
    return tl.s16_default_cases()


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    return tl.build_host_driver(tmp_path_factory.mktemp("cmsis_nn_s16_host"))


def test_host_driver_s16_bit_exact(host_driver, s16_cases, tmp_path):
    """The bounded 16x8 sweep through the case runner on the host (portable path), with the
    scratch buffer sized by the kernels' own size functions and guard bytes checked."""
    bad = tl.compare(s16_cases, tl.run_host(host_driver, s16_cases, tmp_path))
    assert not bad, f"{len(bad)} of {len(s16_cases)} cases differ from TFLM:\n" + "\n".join(bad[:20])


def _size_geometries(count: int, seed: int):
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        n = rng.choice([1, 1, 2])
        h, w, c = rng.choice([1, 2, 5, 8, 16]), rng.randint(1, 30), rng.randint(1, 80)
        kh, kw = rng.randint(1, 7), rng.randint(1, 7)
        sh, sw = rng.randint(1, 3), rng.randint(1, 3)
        dh, dw = (1, 1) if rng.random() < 0.7 else (rng.randint(1, 2), rng.randint(1, 2))
        cm = rng.choice([1, 1, 2, 3])
        pad = rng.choice(["SAME", "VALID"])
        oh, ph = cp.output_size_and_padding(h, kh, sh, pad, dh)
        ow, pw = cp.output_size_and_padding(w, kw, sw, pad, dw)
        if oh >= 1 and ow >= 1:
            out.append(dict(n=n, h=h, w=w, c=c, cm=cm, kh=kh, kw=kw, oh=oh, ow=ow, sh=sh, sw=sw,
                            ph=ph, pw=pw, dh=dh, dw=dw))
    return out


def _python_sizes_s16(q, plain_path: str) -> list[int]:
    """The 12 values of OP_SIZES_S16: conv, depthwise, FC, avgpool as (mve, dsp, this build)."""
    inp, out = (q["n"], q["h"], q["w"], q["c"]), (q["n"], q["oh"], q["ow"], q["c"] * q["cm"])
    geo = dict(padding_hw=(q["ph"], q["pw"]), stride_hw=(q["sh"], q["sw"]), dilation_hw=(q["dh"], q["dw"]))
    paths = ("mve", "dsp", plain_path)
    conv = [cp.conv_buffer_size_s16(p, inp, (q["c"] * q["cm"], q["kh"], q["kw"], q["c"]), out, **geo)
            for p in paths]
    dw = [cp.depthwise_buffer_size_s16(p, inp, (1, q["kh"], q["kw"], q["c"] * q["cm"]), out,
                                       ch_mult=q["cm"], **geo) for p in paths]
    fc = [cp.fully_connected_buffer_size_s16(p, q["c"] * q["cm"]) for p in paths]
    pool = [cp.avgpool_buffer_size_s16(p, q["ow"], q["c"]) for p in paths]
    return conv + dw + fc + pool


def _sizes_cases(queries, plain_path: str):
    cases = []
    for i, q in enumerate(queries):
        case = tl.sizes_s16_case(f"sizes_s16_{i}", (q["n"], q["h"], q["w"], q["c"]), q["cm"], (q["kh"], q["kw"]),
                                 (q["oh"], q["ow"]), (q["sh"], q["sw"]), (q["ph"], q["pw"]), (q["dh"], q["dw"]))
        case.expected = np.array(_python_sizes_s16(q, plain_path), np.int32)
        cases.append(case)
    return cases


def test_buffer_sizes_s16_c_equal_python(host_driver, tmp_path):
    """The C size functions (all three paths' variants, the plain one answering for the
    portable host build) equal the Python mirrors in byoc.cmsisnn_params."""
    queries = _size_geometries(300, 17)
    cases = _sizes_cases(queries, "c")
    for q, case, res in zip(queries, cases, tl.run_host(host_driver, cases, tmp_path)):
        assert res.status == 0
        assert [int(v) for v in res.output.view(np.int32)] == [int(v) for v in case.expected], q


@pytest.fixture(scope="module")
def s16_firmwares(s16_cases, tmp_path_factory):
    require_tools()
    root = tmp_path_factory.mktemp("cmsis_nn_s16_fw")
    sizes = _size_geometries(40, 23)

    def build(path):
        cases = s16_cases + _sizes_cases(sizes, path)
        try:
            return cases, tl.build_case_firmware(cases, root / path, path)
        except Exception as exc:  # noqa: BLE001 - reported by the test that needs it
            return cases, exc

    with ThreadPoolExecutor(max_workers=len(QEMU_PATHS)) as pool:
        return dict(zip(QEMU_PATHS, pool.map(build, QEMU_PATHS)))


@pytest.mark.parametrize("path", QEMU_PATHS)
def test_qemu_s16_bit_exact(path, s16_firmwares):
    """The 16x8 kernels on Corstone-300 / QEMU, one firmware per path (Helium, DSP, portable):
    outputs bit-exact with TFLM, scratch within the size functions' answer, and the plain size
    functions answering for the compiled path (Python mirror values as expected outputs)."""
    cases, elf = s16_firmwares[path]
    if isinstance(elf, Exception):
        raise AssertionError(f"{path} firmware build failed: {elf}")
    rows, run = tl.run_case_firmware(elf, cases)
    assert run.result.get("path") == path, run.result
    bad = tl.firmware_failures(cases, rows)
    assert not bad, f"{len(bad)} of {len(cases)} cases fail on {path}:\n" + "\n".join(bad[:25])
    assert run.passed


@full_sweep_only
@pytest.mark.parametrize("path", QEMU_PATHS)
def test_qemu_s16_full_sweep(path, tmp_path):
    require_tools()
    cases = tl.s16_full_sweep_cases()
    elf = tl.build_case_firmware(cases, tmp_path, path)
    rows, _ = tl.run_case_firmware(elf, cases, timeout_s=1200)
    bad = tl.firmware_failures(cases, rows)
    assert not bad, f"{len(bad)} of {len(cases)} cases fail on {path}:\n" + "\n".join(bad[:25])
