"""Test harness of the CMSIS-NN kernel library (kernels_c/cmsis_nn).

Used by tests/test_cmsis_nn_kernels.py and scripts/bench_kernels.py:

* ``Case``: one kernel call with its data and TFLM's expected output, packed into the blob
  format of ``fw_pkg/include/cmsis_nn_cases.h``;
* case builders per operator (``conv_case``, ``dw_case``, ``fc_case``, ``pool_case``,
  ``softmax_case``, ``add_case``, ``mul_case``) that write a single-operator TFLite model,
  run it in TFLite Micro (the golden reference) and compute the kernel arguments with
  ``byoc.cmsisnn_params`` exactly as the code generator will;
* random configuration generators for parameter sweeps;
* the host driver (portable C path) and the Corstone-300 firmware (Helium / DSP paths on QEMU).
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import tflite

from byoc import cmsisnn_params as cp
from byoc.tflite.builder import ACTIVATIONS, ModelBuilder, Quant

HERE = Path(__file__).resolve().parent
KERNELS_DIR = HERE.parent
LIB_DIR = KERNELS_DIR / "cmsis_nn"
FW_PKG = HERE / "fw_pkg"
FW_MAIN = HERE / "fw_main.c"
HOST_MAIN = HERE / "host_main.c"

CASE_MAGIC = 0x434E4E43
HEADER_WORDS = 36
N_PARAMS = 32
OP_CONV, OP_DW, OP_FC, OP_AVGPOOL, OP_MAXPOOL, OP_SOFTMAX, OP_ADD, OP_MUL, OP_SIZES = range(1, 10)
(OP_CONV_S16, OP_DW_S16, OP_FC_S16, OP_AVGPOOL_S16, OP_MAXPOOL_S16, OP_SOFTMAX_S16, OP_ADD_S16,
 OP_MUL_S16, OP_SIZES_S16) = range(10, 19)
OP_NAMES = {OP_CONV: "conv", OP_DW: "depthwise", OP_FC: "fully_connected", OP_AVGPOOL: "avgpool",
            OP_MAXPOOL: "maxpool", OP_SOFTMAX: "softmax", OP_ADD: "add", OP_MUL: "mul",
            OP_SIZES: "sizes", OP_CONV_S16: "conv_s16", OP_DW_S16: "depthwise_s16",
            OP_FC_S16: "fully_connected_s16", OP_AVGPOOL_S16: "avgpool_s16",
            OP_MAXPOOL_S16: "maxpool_s16", OP_SOFTMAX_S16: "softmax_s16", OP_ADD_S16: "add_s16",
            OP_MUL_S16: "mul_s16", OP_SIZES_S16: "sizes_s16"}
SIZE_OPS = (OP_SIZES, OP_SIZES_S16)
STATUS_TEXT = {0: "ok", -1: "ARG_ERROR", -2: "NO_IMPL_ERROR", -3: "FAILURE", 100: "bad blob",
               101: "scratch overrun", 102: "output overrun", 103: "scratch too small"}

#: Build configurations of the kernel firmware: path -> (cpu, CMSIS_NN_EXTRA_FLAGS).
FIRMWARE_PATHS = {
    "mve": ("cortex-m55", ""),
    "dsp": ("cortex-m55", "-mcpu=cortex-m55+nomve"),
    "c": ("cortex-m55", "-mcpu=cortex-m55+nomve+nodsp"),
}
#: Firmware built for a smaller core (the whole image, its own -mcpu; it runs on QEMU's
#: Cortex-M55, which executes every instruction of those builds): config name -> core.
FIRMWARE_CORES = {"m0plus": "cortex-m0plus", "m3": "cortex-m3", "m4": "cortex-m4",
                  "m7": "cortex-m7", "m33": "cortex-m33"}


def firmware_config(name: str) -> tuple[str, str, str]:
    """(cpu, CMSIS_NN_EXTRA_FLAGS, kernel path the firmware reports) of a firmware config: a
    kernel path of FIRMWARE_PATHS (Cortex-M55 with extensions compiled out of the kernels) or a
    core of FIRMWARE_CORES."""
    from byoc.cpus import KERNEL_PATHS

    if name in FIRMWARE_PATHS:
        return (*FIRMWARE_PATHS[name], name)
    if name in FIRMWARE_CORES:
        cpu = FIRMWARE_CORES[name]
        return cpu, "", KERNEL_PATHS[cpu]
    raise ValueError(f"unknown firmware config {name!r}; choose from "
                     f"{', '.join([*FIRMWARE_PATHS, *FIRMWARE_CORES])}")

_TFLM_ARENA = 4 << 20


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------

@dataclass
class Case:
    """One kernel call: parameters, data sections, TFLM's expected output."""

    name: str
    op: int
    params: list[int]
    sections: list[np.ndarray]
    expected: np.ndarray
    macs: int = 0
    info: dict = field(default_factory=dict)

    def blob(self, with_expected: bool = False) -> bytes:
        params = [int(p) for p in self.params] + [0] * (N_PARAMS - len(self.params))
        body = b""
        secs = list(self.sections) + ([self.expected] if with_expected else [])
        for s in secs:
            raw = np.ascontiguousarray(s).tobytes()
            body += struct.pack("<i", len(raw)) + raw + b"\0" * ((-len(raw)) % 4)
        out_bytes = int(self.expected.nbytes)
        total = 4 * HEADER_WORDS + len(body)
        head = struct.pack("<4i", CASE_MAGIC, self.op, total, out_bytes)
        head += struct.pack(f"<{N_PARAMS}i", *params)
        return head + body


def pack_cases(cases: Sequence[Case], with_expected: bool = False) -> bytes:
    return b"".join(c.blob(with_expected) for c in cases)


def tflm_run(model: bytes, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Run a single-output model once in TFLite Micro (reference kernels)."""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model, arena_size=_TFLM_ARENA)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return np.array(it.get_output(0))


def _f32(x: float) -> float:
    return float(np.float32(x))


def _rand_i8(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def _weights(rng: np.random.Generator, shape, n_scales: int):
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    scales = (0.004 * rng.uniform(0.5, 2.0, size=n_scales)).astype(np.float32)
    return w, scales


def _out_scale(in_scale: float, w_scales, fan_in: int, rng: np.random.Generator) -> float:
    """An output scale that spreads typical accumulators over the int8 range."""
    acc_std = 74.0 * 74.0 * math.sqrt(max(fan_in, 1))
    return _f32(in_scale * float(np.mean(w_scales)) * acc_std / 45.0 * rng.uniform(0.6, 1.6))


def _out_zp(rng: np.random.Generator, activation: str | None) -> int:
    if activation in ("RELU", "RELU6"):
        return int(rng.choice([-128, -128, int(rng.integers(-128, 0))]))
    return int(rng.integers(-40, 41))


# ---------------------------------------------------------------------------------------
# Case builders
# ---------------------------------------------------------------------------------------

def conv_case(name: str, seed: int, input_nhwc, out_channels: int, kernel_hw, stride_hw=(1, 1),
              padding: str = "SAME", dilation_hw=(1, 1), activation: str | None = None,
              input_zp: int | None = None, output_zp: int | None = None, has_bias: bool = True,
              groups: int = 1, entry: int = 0, full_range: bool = False) -> Case:
    """CONV_2D. entry 0 = arm_convolve_wrapper_s8, 1 = arm_convolve_s8 directly."""
    rng = np.random.default_rng(seed)
    n, h, w, cin = input_nhwc
    kh, kw = kernel_hw
    sh, sw = stride_hw
    dh, dw = dilation_hw
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding, dh)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    fc = cin // groups
    in_scale = _f32(rng.uniform(0.01, 0.1))
    in_zp = int(rng.integers(-128, 128)) if input_zp is None else input_zp
    wts, w_scales = _weights(rng, (out_channels, kh, kw, fc), out_channels)
    bias = rng.integers(-40000, 40001, size=out_channels).astype(np.int32)
    out_scale = _out_scale(in_scale, w_scales, kh * kw * fc, rng)
    out_zp = _out_zp(rng, activation) if output_zp is None else output_zp

    mb = ModelBuilder()
    xi = mb.add_tensor("x", (n, h, w, cin), np.int8, quant=Quant.per_tensor(in_scale, in_zp))
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(s) for s in w_scales],
                                                           [0] * out_channels, 0))
    bi = (mb.add_tensor("b", bias.shape, np.int32, bias,
                        Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * out_channels))
          if has_bias else -1)
    yi = mb.add_tensor("y", (n, oh, ow, out_channels), np.int8,
                       quant=Quant.per_tensor(out_scale, out_zp))
    mb.add_operator("CONV_2D", [xi, wi, bi], [yi], "Conv2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "DilationWFactor": dw, "DilationHFactor": dh,
        "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _rand_i8(rng, (n, h, w, cin))
    expected = tflm_run(mb.build(), [x])

    q = cp.conv_quant(in_scale, in_zp, w_scales, out_scale, out_zp, activation)
    lo, hi = (-128, 127) if full_range else (q.act_min, q.act_max)
    params = [n, h, w, cin, out_channels, kh, kw, fc, oh, ow, sh, sw, ph, pw, dh, dw,
              q.input_offset, q.output_offset, lo, hi, int(has_bias), entry]
    return Case(name, OP_CONV, params, [x, wts, bias, q.multiplier, q.shift], expected.reshape(-1),
                macs=n * oh * ow * out_channels * kh * kw * fc)


def dw_case(name: str, seed: int, input_nhwc, kernel_hw, stride_hw=(1, 1), padding: str = "SAME",
            ch_mult: int = 1, dilation_hw=(1, 1), activation: str | None = None,
            input_zp: int | None = None, output_zp: int | None = None, has_bias: bool = True,
            entry: int = 0) -> Case:
    """DEPTHWISE_CONV_2D. entry 0 = arm_depthwise_conv_wrapper_s8, 1 = arm_depthwise_conv_s8."""
    rng = np.random.default_rng(seed)
    n, h, w, cin = input_nhwc
    kh, kw = kernel_hw
    sh, sw = stride_hw
    dh, dw = dilation_hw
    cout = cin * ch_mult
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding, dh)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    in_scale = _f32(rng.uniform(0.01, 0.1))
    in_zp = int(rng.integers(-128, 128)) if input_zp is None else input_zp
    wts, w_scales = _weights(rng, (1, kh, kw, cout), cout)
    bias = rng.integers(-20000, 20001, size=cout).astype(np.int32)
    if not has_bias:
        # TFLM's depthwise kernel needs a bias tensor: the model gets zeros, the kernel NULL.
        bias[:] = 0
    out_scale = _out_scale(in_scale, w_scales, kh * kw, rng)
    out_zp = _out_zp(rng, activation) if output_zp is None else output_zp

    mb = ModelBuilder()
    xi = mb.add_tensor("x", (n, h, w, cin), np.int8, quant=Quant.per_tensor(in_scale, in_zp))
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(s) for s in w_scales],
                                                           [0] * cout, 3))
    bi = mb.add_tensor("b", bias.shape, np.int32, bias,
                       Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * cout))
    yi = mb.add_tensor("y", (n, oh, ow, cout), np.int8, quant=Quant.per_tensor(out_scale, out_zp))
    mb.add_operator("DEPTHWISE_CONV_2D", [xi, wi, bi], [yi], "DepthwiseConv2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "DepthMultiplier": ch_mult, "DilationWFactor": dw, "DilationHFactor": dh,
        "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _rand_i8(rng, (n, h, w, cin))
    expected = tflm_run(mb.build(), [x])

    q = cp.conv_quant(in_scale, in_zp, w_scales, out_scale, out_zp, activation)
    params = [n, h, w, cin, ch_mult, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw,
              q.input_offset, q.output_offset, q.act_min, q.act_max, int(has_bias), entry]
    return Case(name, OP_DW, params, [x, wts, bias, q.multiplier, q.shift], expected.reshape(-1),
                macs=n * oh * ow * cout * kh * kw)


def fc_case(name: str, seed: int, batches: int, depth: int, units: int,
            activation: str | None = None, per_channel: bool = True, mode: int | None = None,
            input_zp: int | None = None, output_zp: int | None = None, has_bias: bool = True,
            filter_zp: int = 0, use_kernel_sums: bool = True) -> Case:
    """FULLY_CONNECTED. mode: 0 arm_fully_connected_s8, 1 ..._per_channel_s8, 2/3 the wrapper
    per tensor / per channel (default: 1 when per_channel else 0)."""
    rng = np.random.default_rng(seed)
    in_scale = _f32(rng.uniform(0.01, 0.1))
    in_zp = int(rng.integers(-128, 128)) if input_zp is None else input_zp
    wts, w_scales = _weights(rng, (units, depth), units if per_channel else 1)
    if filter_zp:
        wts = np.clip(wts.astype(np.int32), -128 + max(filter_zp, 0), 127 + min(filter_zp, 0)).astype(np.int8)
    bias = rng.integers(-40000, 40001, size=units).astype(np.int32)
    out_scale = _out_scale(in_scale, w_scales, depth, rng)
    out_zp = _out_zp(rng, activation) if output_zp is None else output_zp

    mb = ModelBuilder()
    xi = mb.add_tensor("x", (batches, depth), np.int8, quant=Quant.per_tensor(in_scale, in_zp))
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(s) for s in w_scales],
                                                           [filter_zp] * len(w_scales), 0))
    bi = (mb.add_tensor("b", bias.shape, np.int32, bias,
                        Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * len(w_scales)))
          if has_bias else -1)
    yi = mb.add_tensor("y", (batches, units), np.int8, quant=Quant.per_tensor(out_scale, out_zp))
    mb.add_operator("FULLY_CONNECTED", [xi, wi, bi], [yi], "FullyConnectedOptions", {
        "FusedActivationFunction": ACTIVATIONS[activation], "KeepNumDims": False})
    mb.set_io([xi], [yi])
    x = _rand_i8(rng, (batches, depth))
    expected = tflm_run(mb.build(), [x])

    q = cp.conv_quant(in_scale, in_zp, w_scales, out_scale, out_zp, activation)
    if mode is None:
        mode = 1 if per_channel else 0
    params = [batches, depth, units, q.input_offset, -filter_zp, q.output_offset, q.act_min,
              q.act_max, int(has_bias), mode, int(use_kernel_sums)]
    return Case(name, OP_FC, params, [x, wts, bias, q.multiplier, q.shift], expected.reshape(-1),
                macs=batches * depth * units)


def pool_case(name: str, seed: int, kind: str, input_nhwc, window_hw, stride_hw,
              padding: str = "VALID", activation: str | None = None,
              zero_point: int | None = None) -> Case:
    """AVERAGE_POOL_2D (kind "avg") or MAX_POOL_2D (kind "max")."""
    rng = np.random.default_rng(seed)
    n, h, w, c = input_nhwc
    kh, kw = window_hw
    sh, sw = stride_hw
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    scale = _f32(rng.uniform(0.01, 0.1))
    zp = int(rng.integers(-128, 128)) if zero_point is None else zero_point
    mb = ModelBuilder()
    xi = mb.add_tensor("x", (n, h, w, c), np.int8, quant=Quant.per_tensor(scale, zp))
    yi = mb.add_tensor("y", (n, oh, ow, c), np.int8, quant=Quant.per_tensor(scale, zp))
    op = "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"
    mb.add_operator(op, [xi], [yi], "Pool2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "FilterWidth": kw, "FilterHeight": kh,
        "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _rand_i8(rng, (n, h, w, c))
    expected = tflm_run(mb.build(), [x])
    lo, hi = cp.pool_activation(activation, scale, zp)
    params = [n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, lo, hi]
    return Case(name, OP_AVGPOOL if kind == "avg" else OP_MAXPOOL, params, [x],
                expected.reshape(-1))


def softmax_case(name: str, seed: int, rows: int, row_size: int, beta: float = 1.0,
                 input_scale: float | None = None, spread: int = 256) -> Case:
    """SOFTMAX over the last axis (int8 in, int8 out with scale 1/256, zero point -128)."""
    rng = np.random.default_rng(seed)
    scale = _f32(rng.uniform(0.02, 0.3) if input_scale is None else input_scale)
    zp = int(rng.integers(-128, 128))
    mb = ModelBuilder()
    xi = mb.add_tensor("x", (rows, row_size), np.int8, quant=Quant.per_tensor(scale, zp))
    yi = mb.add_tensor("y", (rows, row_size), np.int8, quant=Quant.per_tensor(1.0 / 256.0, -128))
    mb.add_operator("SOFTMAX", [xi], [yi], "SoftmaxOptions", {"Beta": beta})
    mb.set_io([xi], [yi])
    lo = int(rng.integers(-128, 128 - min(spread, 255)))
    x = rng.integers(lo, lo + min(spread, 255) + 1, size=(rows, row_size)).clip(-128, 127).astype(np.int8)
    expected = tflm_run(mb.build(), [x])
    mult, shift, diff_min = cp.softmax_params(scale, beta)
    return Case(name, OP_SOFTMAX, [rows, row_size, mult, shift, diff_min], [x], expected.reshape(-1))


def _binary_model(op: str, opts: str, shape, s1, z1, s2, z2, so, zo, activation):
    mb = ModelBuilder()
    ai = mb.add_tensor("a", shape, np.int8, quant=Quant.per_tensor(s1, z1))
    bi = mb.add_tensor("b", shape, np.int8, quant=Quant.per_tensor(s2, z2))
    yi = mb.add_tensor("y", shape, np.int8, quant=Quant.per_tensor(so, zo))
    mb.add_operator(op, [ai, bi], [yi], opts, {"FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([ai, bi], [yi])
    return mb.build()


def add_case(name: str, seed: int, shape, activation: str | None = None,
             zero_points: tuple[int, int, int] | None = None) -> Case:
    """ADD of two same-shape int8 tensors."""
    rng = np.random.default_rng(seed)
    s1, s2 = _f32(rng.uniform(0.01, 0.1)), _f32(rng.uniform(0.01, 0.1))
    so = _f32((s1 + s2) * rng.uniform(0.5, 1.2))
    z1, z2, zo = (zero_points if zero_points is not None else
                  (int(rng.integers(-128, 128)), int(rng.integers(-128, 128)), _out_zp(rng, activation)))
    a, b = _rand_i8(rng, shape), _rand_i8(rng, shape)
    expected = tflm_run(_binary_model("ADD", "AddOptions", shape, s1, z1, s2, z2, so, zo, activation),
                        [a, b])
    p = cp.add_params(s1, z1, s2, z2, so, zo, activation)
    params = [a.size, p.input_1_offset, p.input_1_mult, p.input_1_shift, p.input_2_offset,
              p.input_2_mult, p.input_2_shift, p.left_shift, p.out_offset, p.out_mult, p.out_shift,
              p.out_activation_min, p.out_activation_max]
    return Case(name, OP_ADD, params, [a, b], expected.reshape(-1))


def mul_case(name: str, seed: int, shape, activation: str | None = None) -> Case:
    """MUL of two same-shape int8 tensors."""
    rng = np.random.default_rng(seed)
    s1, s2 = _f32(rng.uniform(0.01, 0.1)), _f32(rng.uniform(0.01, 0.1))
    so = _f32(s1 * s2 * 60.0 * rng.uniform(0.5, 2.0))
    z1, z2, zo = int(rng.integers(-128, 128)), int(rng.integers(-128, 128)), _out_zp(rng, activation)
    a, b = _rand_i8(rng, shape), _rand_i8(rng, shape)
    expected = tflm_run(_binary_model("MUL", "MulOptions", shape, s1, z1, s2, z2, so, zo, activation),
                        [a, b])
    p = cp.mul_params(s1, z1, s2, z2, so, zo, activation)
    params = [a.size, p.input_1_offset, p.input_2_offset, p.out_offset, p.out_mult, p.out_shift,
              p.out_activation_min, p.out_activation_max]
    return Case(name, OP_MUL, params, [a, b], expected.reshape(-1))


def sizes_case(name: str, input_nhwc, ch_mult: int, kernel_hw, output_hw, stride_hw,
               padding_hw, dilation_hw) -> Case:
    """Buffer-size query (no reference): conv with C_OUT = C_IN * ch_mult, depthwise, FC, avgpool."""
    n, h, w, c = input_nhwc
    params = [n, h, w, c, ch_mult, *kernel_hw, *output_hw, *stride_hw, *padding_hw, *dilation_hw]
    return Case(name, OP_SIZES, params, [], np.zeros(12, np.int32))


# ---------------------------------------------------------------------------------------
# Random sweeps
# ---------------------------------------------------------------------------------------

ACTS = (None, None, "RELU", "RELU6", "RELU_N1_TO_1")
ODD_CHANNELS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 33, 48)


def random_conv_cases(seed: int, count: int, max_hw: int = 12) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        n = 2 if rng.random() < 0.12 else 1
        h = 1 if rng.random() < 0.15 else int(rng.integers(1, max_hw + 1))
        w = int(rng.integers(1, max_hw + 1))
        cin = int(rng.choice(ODD_CHANNELS))
        cout = int(rng.choice(ODD_CHANNELS))
        kh = 1 if (h == 1 or rng.random() < 0.25) else int(rng.integers(1, 8))
        kw = 1 if rng.random() < 0.2 else int(rng.integers(1, 8))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dil = (1, 1) if rng.random() < 0.7 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pad = "SAME" if rng.random() < 0.6 else "VALID"
        groups = 1
        if rng.random() < 0.08:
            for g in (2, 3, 4):
                if cin % g == 0 and cout % g == 0 and cin > g:
                    groups = g
                    break
        act = ACTS[int(rng.integers(len(ACTS)))]
        try:
            cases.append(conv_case(
                f"conv_r{seed}_{i}_{n}x{h}x{w}x{cin}_o{cout}_k{kh}x{kw}_s{stride[0]}{stride[1]}"
                f"_d{dil[0]}{dil[1]}_{pad}_g{groups}_{act}",
                seed * 1000 + i, (n, h, w, cin), cout, (kh, kw), stride, pad, dil, act,
                has_bias=rng.random() > 0.1, groups=groups, entry=int(rng.random() < 0.1)))
        except ValueError:
            continue
    return cases


def random_dw_cases(seed: int, count: int, max_hw: int = 12) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        n = 2 if rng.random() < 0.1 else 1
        h = int(rng.integers(1, max_hw + 1))
        w = int(rng.integers(1, max_hw + 1))
        cin = int(rng.choice(ODD_CHANNELS))
        cm = int(rng.choice([1, 1, 1, 2, 3]))
        kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        if rng.random() < 0.4:
            kh = kw = 3
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dil = (1, 1) if rng.random() < 0.7 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pad = "SAME" if rng.random() < 0.6 else "VALID"
        act = ACTS[int(rng.integers(len(ACTS)))]
        try:
            cases.append(dw_case(
                f"dw_r{seed}_{i}_{n}x{h}x{w}x{cin}_m{cm}_k{kh}x{kw}_s{stride[0]}{stride[1]}"
                f"_d{dil[0]}{dil[1]}_{pad}_{act}",
                seed * 1000 + i, (n, h, w, cin), (kh, kw), stride, pad, cm, dil, act,
                has_bias=rng.random() > 0.1, entry=int(rng.random() < 0.1)))
        except ValueError:
            continue
    return cases


def random_fc_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        batches = int(rng.choice([1, 1, 1, 2, 3, 4, 5]))
        depth = int(rng.choice([1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 255, 256]))
        units = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 10, 16, 17, 33, 64]))
        per_channel = bool(rng.random() < 0.5)
        mode = int(rng.choice([1, 3])) if per_channel else int(rng.choice([0, 2]))
        act = ACTS[int(rng.integers(len(ACTS)))]
        cases.append(fc_case(f"fc_r{seed}_{i}_b{batches}_d{depth}_u{units}_pc{int(per_channel)}_m{mode}_{act}",
                             seed * 1000 + i, batches, depth, units, act, per_channel, mode,
                             has_bias=rng.random() > 0.1, use_kernel_sums=rng.random() > 0.15))
    return cases


def random_pool_cases(seed: int, count: int, max_hw: int = 14) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        kind = "avg" if i % 2 == 0 else "max"
        n = 2 if rng.random() < 0.1 else 1
        h, w = int(rng.integers(1, max_hw + 1)), int(rng.integers(1, max_hw + 1))
        c = int(rng.choice(ODD_CHANNELS))
        kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        pad = "SAME" if rng.random() < 0.5 else "VALID"
        act = ACTS[int(rng.integers(len(ACTS)))]
        try:
            cases.append(pool_case(f"{kind}pool_r{seed}_{i}_{n}x{h}x{w}x{c}_k{kh}x{kw}_s{stride[0]}{stride[1]}_{pad}_{act}",
                                   seed * 1000 + i, kind, (n, h, w, c), (kh, kw), stride, pad, act))
        except ValueError:
            continue
    return cases


def random_softmax_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        rows = int(rng.choice([1, 1, 2, 3, 5]))
        size = int(rng.choice([1, 2, 3, 4, 7, 10, 16, 17, 31, 64, 100, 257, 1000]))
        beta = float(rng.choice([1.0, 1.0, 0.5, 2.0]))
        spread = int(rng.choice([4, 16, 64, 256]))
        if size >= 257:
            # TFLM's Python runtime aborts (an internal check) on long rows of near-equal values
            # and on several 1000-wide rows: keep those rows spread out and single.
            rows, spread = 1, 256
        cases.append(softmax_case(f"softmax_r{seed}_{i}_{rows}x{size}_b{beta}_sp{spread}", seed * 1000 + i,
                                  rows, size, beta, spread=spread))
    return cases


def random_elementwise_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        size = int(rng.choice([1, 3, 4, 7, 15, 16, 17, 31, 64, 100, 257]))
        shape = (1, size) if rng.random() < 0.5 else (1, 2, max(1, size // 2), 3)
        act = ACTS[int(rng.integers(len(ACTS)))]
        if i % 2 == 0:
            cases.append(add_case(f"add_r{seed}_{i}_{'x'.join(map(str, shape))}_{act}", seed * 1000 + i,
                                  shape, act))
        else:
            cases.append(mul_case(f"mul_r{seed}_{i}_{'x'.join(map(str, shape))}_{act}", seed * 1000 + i,
                                  shape, act))
    return cases


def special_cases() -> list[Case]:
    """Hand-picked configurations for every dispatch branch and edge the sweeps may miss."""
    c: list[Case] = []
    # 1x1 fast / strided, channel counts around the 4 and 16 lane multiples.
    for i, (cin, cout) in enumerate([(1, 1), (3, 5), (4, 4), (16, 16), (17, 33), (32, 64), (64, 7)]):
        c.append(conv_case(f"conv1x1_fast_{cin}_{cout}", 10 + i, (1, 5, 7, cin), cout, (1, 1)))
    for i, s in enumerate([(2, 2), (1, 3), (3, 1)]):
        c.append(conv_case(f"conv1x1_stride_{s[0]}{s[1]}", 20 + i, (1, 9, 8, 12), 9, (1, 1), s, "VALID"))
    c.append(conv_case("conv1x1_batch2", 25, (2, 4, 4, 20), 6, (1, 1)))
    # 1xN (one-row input): with and without padding, several strides.
    for i, (cin, kw, s, pad) in enumerate([(4, 3, 1, "SAME"), (8, 5, 2, "SAME"), (4, 3, 1, "VALID"),
                                           (12, 7, 3, "SAME"), (16, 2, 1, "SAME"), (4, 1, 1, "SAME"),
                                           (20, 4, 1, "SAME"), (6, 3, 2, "SAME")]):
        c.append(conv_case(f"conv1xN_c{cin}_k{kw}_s{s}_{pad}", 30 + i, (1, 1, 19, cin), 7, (1, kw), (1, s), pad))
    # Generic im2col with odd sizes, dilation, no bias, direct entry, activations.
    c.append(conv_case("conv3x3_s1_16", 40, (1, 8, 8, 16), 16, (3, 3)))
    c.append(conv_case("conv3x3_s2_c3", 41, (1, 11, 9, 3), 8, (3, 3), (2, 2)))
    c.append(conv_case("conv7x7_d2", 42, (1, 12, 12, 5), 4, (7, 7), (1, 1), "SAME", (2, 2)))
    c.append(conv_case("conv5x3_nobias", 43, (1, 7, 6, 9), 10, (5, 3), has_bias=False))
    c.append(conv_case("conv_direct", 44, (1, 6, 6, 7), 5, (3, 3), entry=1))
    c.append(conv_case("conv_relu6", 45, (1, 6, 6, 8), 8, (3, 3), activation="RELU6"))
    c.append(conv_case("conv_relu_n1", 46, (1, 6, 6, 8), 8, (3, 3), activation="RELU_N1_TO_1"))
    c.append(conv_case("conv_grouped", 47, (1, 6, 6, 8), 4, (3, 3), groups=2))
    c.append(conv_case("conv_zp_extremes", 48, (1, 5, 5, 6), 6, (3, 3), input_zp=127, output_zp=-128))
    c.append(conv_case("conv_zp_min", 49, (1, 5, 5, 6), 6, (3, 3), input_zp=-128, output_zp=127))
    # Depthwise: opt path, channel multipliers, dilation, batches, one input channel.
    for i, (cin, cm, k, s, pad) in enumerate([(1, 1, 3, 1, "SAME"), (3, 1, 3, 1, "SAME"), (16, 1, 3, 1, "SAME"),
                                              (17, 1, 3, 2, "SAME"), (32, 1, 5, 1, "VALID"), (8, 2, 3, 1, "SAME"),
                                              (5, 3, 3, 2, "SAME"), (1, 4, 3, 1, "SAME"), (24, 1, 1, 1, "VALID"),
                                              (20, 1, 7, 3, "SAME")]):
        c.append(dw_case(f"dw_c{cin}_m{cm}_k{k}_s{s}_{pad}", 60 + i, (1, 7, 9, cin), (k, k), (s, s), pad, cm))
    c.append(dw_case("dw_dilated", 71, (1, 9, 9, 12), (3, 3), dilation_hw=(2, 2)))
    c.append(dw_case("dw_batch2", 72, (2, 5, 5, 8), (3, 3)))
    c.append(dw_case("dw_generic_entry", 73, (1, 6, 6, 9), (3, 3), ch_mult=2, entry=1))
    c.append(dw_case("dw_nobias_relu", 74, (1, 6, 6, 19), (3, 3), activation="RELU", has_bias=False))
    c.append(dw_case("dw_25x5x64", 75, (1, 25, 5, 64), (3, 3)))
    # Depthwise with channel multiplier > 1 (arm_nn_depthwise_conv_s8_mult): multipliers 2-4,
    # strides 1-2, dilation, SAME / VALID, odd channel counts, batch, both entries, activation.
    for i, (cin, cm, k, s, pad, dil) in enumerate([
            (16, 2, 3, 1, "SAME", 1), (7, 2, 3, 2, "SAME", 1), (5, 3, 3, 1, "VALID", 1),
            (9, 3, 5, 2, "SAME", 1), (3, 4, 3, 1, "SAME", 2), (11, 4, 3, 2, "VALID", 1),
            (13, 2, 3, 1, "SAME", 2), (1, 3, 3, 1, "SAME", 1), (2, 2, 1, 1, "VALID", 1),
            (6, 4, 5, 1, "SAME", 1)]):
        c.append(dw_case(f"dw_mult_c{cin}_m{cm}_k{k}_s{s}_d{dil}_{pad}", 200 + i, (1, 8, 7, cin), (k, k), (s, s),
                         pad, cm, (dil, dil), activation=ACTS[i % len(ACTS)], has_bias=i != 3, entry=int(i % 5 == 4)))
    c.append(dw_case("dw_mult_batch2", 211, (2, 5, 6, 5), (3, 3), (1, 2), "SAME", ch_mult=2))
    c.append(dw_case("dw_mult_zp", 212, (1, 6, 6, 16), (3, 3), ch_mult=2, input_zp=-128, output_zp=-128))
    # Fully connected: all entries, per tensor / per channel, kernel sums or not, filter offset.
    for i, mode in enumerate([0, 1, 2, 3]):
        c.append(fc_case(f"fc_mode{mode}", 80 + i, 2, 37, 11, per_channel=mode in (1, 3), mode=mode))
    c.append(fc_case("fc_256_64", 84, 1, 256, 64))
    c.append(fc_case("fc_no_sums", 85, 1, 100, 10, use_kernel_sums=False))
    c.append(fc_case("fc_filter_zp", 86, 2, 33, 9, per_channel=False, mode=0, filter_zp=3))
    c.append(fc_case("fc_nobias_relu", 87, 3, 20, 5, activation="RELU", has_bias=False))
    # Pools.
    c.append(pool_case("avgpool_2x2", 90, "avg", (1, 16, 16, 32), (2, 2), (2, 2)))
    c.append(pool_case("maxpool_2x2", 91, "max", (1, 16, 16, 32), (2, 2), (2, 2)))
    c.append(pool_case("avgpool_same_3x3", 92, "avg", (1, 7, 9, 17), (3, 3), (2, 2), "SAME"))
    c.append(pool_case("avgpool_global", 93, "avg", (1, 7, 7, 20), (7, 7), (1, 1)))
    c.append(pool_case("avgpool_big_window", 94, "avg", (1, 20, 20, 3), (20, 20), (1, 1)))
    c.append(pool_case("maxpool_same_relu6", 95, "max", (1, 9, 9, 5), (3, 3), (2, 2), "SAME", "RELU6"))
    # Softmax, add, mul.
    c.append(softmax_case("softmax_1000", 100, 1, 1000))
    c.append(softmax_case("softmax_rows", 101, 4, 10))
    c.append(softmax_case("softmax_flat", 102, 1, 50, spread=1))
    c.append(softmax_case("softmax_small_scale", 103, 2, 30, input_scale=0.004))
    c.append(add_case("add_16x16x32", 110, (1, 16, 16, 32)))
    c.append(add_case("add_relu", 111, (1, 37), "RELU"))
    c.append(add_case("add_zp_extremes", 112, (1, 33), zero_points=(-128, 127, -128)))
    # 1024 elements or more: the DSP / portable add tabulates the input rescalings
    c.append(add_case("add_table", 115, (1, 8, 8, 17)))
    c.append(add_case("add_table_relu6", 116, (1, 1030), "RELU6", zero_points=(127, -128, -100)))
    c.append(mul_case("mul_odd", 113, (1, 3, 5, 7)))
    c.append(mul_case("mul_relu6", 114, (1, 70), "RELU6"))
    return c


#: Issue 4's kernel benchmark: name -> (description, MACs, Arm CMSIS-NN v7 instructions on the
#: Helium build, GCC 12.2 -O3, QEMU mps3-an547).
BENCH_CASES = {
    "C1": ("conv 3x3 stride 1 SAME, 1x16x16x16 -> 16", 589_824, 228_758),
    "C2": ("conv 1x1, 1x16x16x32 -> 64", 524_288, 322_339),
    "C3": ("conv 3x3 stride 2 SAME, 1x32x32x3 -> 8", 55_296, 110_364),
    "C4": ("depthwise 3x3 stride 1 SAME, 1x16x16x32", 73_728, 198_279),
    "C5": ("depthwise 3x3 stride 2 SAME, 1x32x32x16", 36_864, 128_180),
    "C6": ("fully connected 256 -> 64 (kernel sums precomputed)", 16_384, 8_640),
    "C7": ("avgpool 2x2 stride 2, 1x16x16x32", 0, 35_041),
    "C8": ("maxpool 2x2 stride 2, 1x16x16x32", 0, 15_977),
    "C9": ("softmax 1x1000", 0, 536_954),
    "C10": ("add, 1x16x16x32", 0, 112_734),
    "C11": ("depthwise 3x3 SAME 1x25x5x64 + conv 1x1 64 -> 64", 584_000, 369_747),
    "C12": ("depthwise 3x3 stride 1 SAME, 1x6x6x16 ch_mult 2", 10_368, None),
    "S1": ("conv s16 3x3 stride 1 SAME, 1x16x16x16 -> 16", 589_824, None),
    "S2": ("depthwise s16 3x3 stride 1 SAME, 1x16x16x32", 73_728, None),
    "S3": ("fully connected s16 256 -> 64", 16_384, None),
}


def bench_cases() -> list[Case]:
    """The calls of BENCH_CASES (input and output zero point -128, no activation). C11 is two
    cases (C11.dw, C11.conv) whose counts add up."""
    zp = dict(input_zp=-128, output_zp=-128)
    cases = [
        conv_case("C1", 1, (1, 16, 16, 16), 16, (3, 3), (1, 1), "SAME", **zp),
        conv_case("C2", 2, (1, 16, 16, 32), 64, (1, 1), (1, 1), "SAME", **zp),
        conv_case("C3", 3, (1, 32, 32, 3), 8, (3, 3), (2, 2), "SAME", **zp),
        dw_case("C4", 4, (1, 16, 16, 32), (3, 3), (1, 1), "SAME", **zp),
        dw_case("C5", 5, (1, 32, 32, 16), (3, 3), (2, 2), "SAME", **zp),
        fc_case("C6", 6, 1, 256, 64, **zp),
        pool_case("C7", 7, "avg", (1, 16, 16, 32), (2, 2), (2, 2), zero_point=-128),
        pool_case("C8", 8, "max", (1, 16, 16, 32), (2, 2), (2, 2), zero_point=-128),
        softmax_case("C9", 9, 1, 1000),
        add_case("C10", 10, (1, 16, 16, 32), zero_points=(-128, -128, -128)),
        dw_case("C11.dw", 11, (1, 25, 5, 64), (3, 3), (1, 1), "SAME", **zp),
        conv_case("C11.conv", 12, (1, 25, 5, 64), 64, (1, 1), (1, 1), "SAME", **zp),
        dw_case("C12", 13, (1, 6, 6, 16), (3, 3), (1, 1), "SAME", ch_mult=2, **zp),
        conv_s16_case("S1", 14, (1, 16, 16, 16), 16, (3, 3), (1, 1), "SAME"),
        dw_s16_case("S2", 15, (1, 16, 16, 32), (3, 3), (1, 1), "SAME"),
        fc_s16_case("S3", 16, 1, 256, 64),
    ]
    return cases


def default_cases() -> list[Case]:
    """The bounded default sweep (bit-exactness on host and QEMU)."""
    return (special_cases() + random_conv_cases(1, 40) + random_dw_cases(2, 30) + random_fc_cases(3, 16)
            + random_pool_cases(4, 20) + random_softmax_cases(5, 10) + random_elementwise_cases(6, 12))


#: Cases per family of the exhaustive sweep.
FULL_SWEEP = {"conv": 1500, "dw": 1000, "fc": 400, "pool": 500, "softmax": 200, "elementwise": 300}


def full_sweep_cases() -> list[Case]:
    """The exhaustive sweep (slow)."""
    return (random_conv_cases(101, FULL_SWEEP["conv"]) + random_dw_cases(102, FULL_SWEEP["dw"])
            + random_fc_cases(103, FULL_SWEEP["fc"]) + random_pool_cases(104, FULL_SWEEP["pool"])
            + random_softmax_cases(105, FULL_SWEEP["softmax"])
            + random_elementwise_cases(106, FULL_SWEEP["elementwise"]))


# ---------------------------------------------------------------------------------------
# Host driver (portable C)
# ---------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------
# int16 activations / int8 weights (A16W8, TFLite "16x8"): case builders and sweeps
# ---------------------------------------------------------------------------------------

def _x16(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(-32768, 32768, size=shape).astype(np.int16)


def _out_scale_s16(in_scale: float, w_scales, fan_in: int, rng: np.random.Generator) -> float:
    """An output scale that spreads typical 16x8 accumulators over the int16 range."""
    acc_std = 18900.0 * 74.0 * math.sqrt(max(fan_in, 1))
    return _f32(in_scale * float(np.mean(w_scales)) * acc_std / 12000.0 * rng.uniform(0.5, 1.6))


def _act16(mb: ModelBuilder, name: str, shape, scale: float) -> int:
    return mb.add_tensor(name, shape, np.int16, quant=Quant.per_tensor(scale, 0))


def conv_s16_case(name: str, seed: int, input_nhwc, out_channels: int, kernel_hw, stride_hw=(1, 1),
                  padding: str = "SAME", dilation_hw=(1, 1), activation: str | None = None,
                  has_bias: bool = True, entry: int = 0, int32_bias: bool = False) -> Case:
    """CONV_2D 16x8. entry 0 = arm_convolve_wrapper_s16, 1 = arm_convolve_s16; int32_bias: an
    int32 bias tensor (TFLite's int32-accumulator rule) instead of int64."""
    rng = np.random.default_rng(seed)
    n, h, w, cin = input_nhwc
    kh, kw = kernel_hw
    sh, sw = stride_hw
    dh, dw = dilation_hw
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding, dh)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    in_scale = _f32(rng.uniform(0.0005, 0.002))
    wts, w_scales = _weights(rng, (out_channels, kh, kw, cin), out_channels)
    btype = np.int32 if int32_bias else np.int64
    bias = rng.integers(-2_000_000, 2_000_001, size=out_channels).astype(btype)
    out_scale = _out_scale_s16(in_scale, w_scales, kh * kw * cin, rng)
    mb = ModelBuilder()
    xi = _act16(mb, "x", (n, h, w, cin), in_scale)
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(s) for s in w_scales], [0] * out_channels, 0))
    bi = (mb.add_tensor("b", bias.shape, btype, bias,
                        Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * out_channels))
          if has_bias else -1)
    yi = _act16(mb, "y", (n, oh, ow, out_channels), out_scale)
    mb.add_operator("CONV_2D", [xi, wi, bi], [yi], "Conv2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "DilationWFactor": dw, "DilationHFactor": dh,
        "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _x16(rng, (n, h, w, cin))
    expected = tflm_run(mb.build(), [x])
    q = cp.conv_quant_s16(in_scale, w_scales, out_scale, activation)
    params = [n, h, w, cin, out_channels, kh, kw, cin, oh, ow, sh, sw, ph, pw, dh, dw,
              0, 0, q.act_min, q.act_max, int(has_bias), entry, int(int32_bias)]
    return Case(name, OP_CONV_S16, params, [x, wts, bias, q.multiplier, q.shift],
                expected.reshape(-1).astype(np.int16), macs=n * oh * ow * out_channels * kh * kw * cin)


def dw_s16_case(name: str, seed: int, input_nhwc, kernel_hw, stride_hw=(1, 1), padding: str = "SAME",
                ch_mult: int = 1, dilation_hw=(1, 1), activation: str | None = None,
                has_bias: bool = True, entry: int = 0) -> Case:
    """DEPTHWISE_CONV_2D 16x8 (int64 bias). entry 0 = the wrapper, 1 = arm_depthwise_conv_s16."""
    rng = np.random.default_rng(seed)
    n, h, w, cin = input_nhwc
    kh, kw = kernel_hw
    sh, sw = stride_hw
    dh, dw = dilation_hw
    cout = cin * ch_mult
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding, dh)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    in_scale = _f32(rng.uniform(0.0005, 0.002))
    wts, w_scales = _weights(rng, (1, kh, kw, cout), cout)
    bias = rng.integers(-2_000_000, 2_000_001, size=cout).astype(np.int64)
    if not has_bias:
        bias[:] = 0  # the model gets zeros, the kernel NULL
    out_scale = _out_scale_s16(in_scale, w_scales, kh * kw, rng)
    mb = ModelBuilder()
    xi = _act16(mb, "x", (n, h, w, cin), in_scale)
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(s) for s in w_scales], [0] * cout, 3))
    bi = mb.add_tensor("b", bias.shape, np.int64, bias,
                       Quant([_f32(in_scale * float(s)) for s in w_scales], [0] * cout))
    yi = _act16(mb, "y", (n, oh, ow, cout), out_scale)
    mb.add_operator("DEPTHWISE_CONV_2D", [xi, wi, bi], [yi], "DepthwiseConv2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "DepthMultiplier": ch_mult, "DilationWFactor": dw, "DilationHFactor": dh,
        "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _x16(rng, (n, h, w, cin))
    expected = tflm_run(mb.build(), [x])
    q = cp.conv_quant_s16(in_scale, w_scales, out_scale, activation)
    params = [n, h, w, cin, ch_mult, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw,
              0, 0, q.act_min, q.act_max, int(has_bias), entry]
    return Case(name, OP_DW_S16, params, [x, wts, bias, q.multiplier, q.shift],
                expected.reshape(-1).astype(np.int16), macs=n * oh * ow * cout * kh * kw)


def fc_s16_case(name: str, seed: int, batches: int, depth: int, units: int,
                activation: str | None = None, has_bias: bool = True) -> Case:
    """FULLY_CONNECTED 16x8 (per-tensor weights, int64 bias)."""
    rng = np.random.default_rng(seed)
    in_scale = _f32(rng.uniform(0.0005, 0.002))
    wts, w_scales = _weights(rng, (units, depth), 1)
    bias = rng.integers(-2_000_000, 2_000_001, size=units).astype(np.int64)
    out_scale = _out_scale_s16(in_scale, w_scales, depth, rng)
    mb = ModelBuilder()
    xi = _act16(mb, "x", (batches, depth), in_scale)
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant.per_tensor(float(w_scales[0]), 0))
    bi = (mb.add_tensor("b", bias.shape, np.int64, bias, Quant.per_tensor(_f32(in_scale * float(w_scales[0])), 0))
          if has_bias else -1)
    yi = _act16(mb, "y", (batches, units), out_scale)
    mb.add_operator("FULLY_CONNECTED", [xi, wi, bi], [yi], "FullyConnectedOptions",
                    {"FusedActivationFunction": ACTIVATIONS[activation], "KeepNumDims": False})
    mb.set_io([xi], [yi])
    x = _x16(rng, (batches, depth))
    expected = tflm_run(mb.build(), [x])
    q = cp.conv_quant_s16(in_scale, w_scales, out_scale, activation)
    params = [batches, depth, units, 0, 0, 0, q.act_min, q.act_max, int(has_bias)]
    return Case(name, OP_FC_S16, params, [x, wts, bias, q.multiplier, q.shift],
                expected.reshape(-1).astype(np.int16), macs=batches * depth * units)


def pool_s16_case(name: str, seed: int, kind: str, input_nhwc, window_hw, stride_hw,
                  padding: str = "VALID", activation: str | None = None) -> Case:
    """AVERAGE_POOL_2D / MAX_POOL_2D on int16."""
    rng = np.random.default_rng(seed)
    n, h, w, c = input_nhwc
    kh, kw = window_hw
    sh, sw = stride_hw
    oh, ph = cp.output_size_and_padding(h, kh, sh, padding)
    ow, pw = cp.output_size_and_padding(w, kw, sw, padding)
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: empty output")
    scale = _f32(rng.uniform(0.0002, 0.001))
    mb = ModelBuilder()
    xi = _act16(mb, "x", (n, h, w, c), scale)
    yi = _act16(mb, "y", (n, oh, ow, c), scale)
    mb.add_operator("AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D", [xi], [yi], "Pool2DOptions", {
        "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
        "FilterWidth": kw, "FilterHeight": kh, "FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([xi], [yi])
    x = _x16(rng, (n, h, w, c))
    expected = tflm_run(mb.build(), [x])
    lo, hi = cp.pool_activation_s16(activation, scale)
    params = [n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, lo, hi]
    return Case(name, OP_AVGPOOL_S16 if kind == "avg" else OP_MAXPOOL_S16, params, [x],
                expected.reshape(-1).astype(np.int16))


def softmax_s16_case(name: str, seed: int, rows: int, row_size: int, beta: float = 1.0,
                     input_scale: float | None = None) -> Case:
    """SOFTMAX int16 (output scale 1/32768, zero point 0) with TFLite's LUTs."""
    rng = np.random.default_rng(seed)
    scale = _f32(rng.uniform(0.0001, 0.001) if input_scale is None else input_scale)
    mb = ModelBuilder()
    xi = _act16(mb, "x", (rows, row_size), scale)
    yi = _act16(mb, "y", (rows, row_size), 1.0 / 32768.0)
    mb.add_operator("SOFTMAX", [xi], [yi], "SoftmaxOptions", {"Beta": beta})
    mb.set_io([xi], [yi])
    x = _x16(rng, (rows, row_size))
    expected = tflm_run(mb.build(), [x])
    mult, shift = cp.softmax_params_s16(scale, beta)
    exp_lut, recip_lut = cp.softmax_luts_s16()
    return Case(name, OP_SOFTMAX_S16, [rows, row_size, mult, shift], [x, exp_lut, recip_lut],
                expected.reshape(-1).astype(np.int16))


def _binary_s16(op: str, seed: int, shape, activation):
    rng = np.random.default_rng(seed)
    s1, s2 = _f32(rng.uniform(0.0002, 0.001)), _f32(rng.uniform(0.0002, 0.001))
    so = _f32((s1 + s2) * rng.uniform(0.6, 1.5) if op == "ADD" else s1 * s2 * 32768 * rng.uniform(0.3, 1))
    mb = ModelBuilder()
    ai, bi = _act16(mb, "a", shape, s1), _act16(mb, "b", shape, s2)
    yi = _act16(mb, "y", shape, so)
    mb.add_operator(op, [ai, bi], [yi], f"{op.capitalize()}Options",
                    {"FusedActivationFunction": ACTIVATIONS[activation]})
    mb.set_io([ai, bi], [yi])
    a, b = _x16(rng, shape), _x16(rng, shape)
    return (s1, s2, so), a, b, tflm_run(mb.build(), [a, b]).reshape(-1).astype(np.int16)


def add_s16_case(name: str, seed: int, shape, activation: str | None = None) -> Case:
    (s1, s2, so), a, b, expected = _binary_s16("ADD", seed, shape, activation)
    p = cp.add_params_s16(s1, s2, so, activation)
    params = [a.size, p.input_1_offset, p.input_1_mult, p.input_1_shift, p.input_2_offset,
              p.input_2_mult, p.input_2_shift, p.left_shift, p.out_offset, p.out_mult, p.out_shift,
              p.out_activation_min, p.out_activation_max]
    return Case(name, OP_ADD_S16, params, [a, b], expected)


def mul_s16_case(name: str, seed: int, shape, activation: str | None = None) -> Case:
    (s1, s2, so), a, b, expected = _binary_s16("MUL", seed, shape, activation)
    p = cp.mul_params_s16(s1, s2, so, activation)
    params = [a.size, p.input_1_offset, p.input_2_offset, p.out_offset, p.out_mult, p.out_shift,
              p.out_activation_min, p.out_activation_max]
    return Case(name, OP_MUL_S16, params, [a, b], expected)


def sizes_s16_case(name: str, input_nhwc, ch_mult: int, kernel_hw, output_hw, stride_hw,
                   padding_hw, dilation_hw) -> Case:
    """The s16 buffer-size functions (same layout as ``sizes_case``)."""
    case = sizes_case(name, input_nhwc, ch_mult, kernel_hw, output_hw, stride_hw, padding_hw, dilation_hw)
    case.op = OP_SIZES_S16
    return case


S16_CHANNELS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 33)


def random_conv_s16_cases(seed: int, count: int, max_hw: int = 10) -> list[Case]:
    """CONV_2D 16x8: kernels 1-7, strides 1-3, dilation, SAME / VALID, odd sizes and channel
    counts, batches, both entries, activations, int32 bias now and then."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        n = 2 if rng.random() < 0.1 else 1
        h = 1 if rng.random() < 0.15 else int(rng.integers(1, max_hw + 1))
        w = int(rng.integers(1, max_hw + 1))
        cin, cout = int(rng.choice(S16_CHANNELS)), int(rng.choice(S16_CHANNELS))
        kh = 1 if (h == 1 or rng.random() < 0.25) else int(rng.integers(1, 8))
        kw = 1 if rng.random() < 0.2 else int(rng.integers(1, 8))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dil = (1, 1) if rng.random() < 0.7 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pad = "SAME" if rng.random() < 0.6 else "VALID"
        act = ACTS[int(rng.integers(len(ACTS)))]
        int32_bias = bool(rng.random() < 0.12) and kh * kw * cin <= 64
        try:
            cases.append(conv_s16_case(
                f"conv_s16_r{seed}_{i}_{n}x{h}x{w}x{cin}_o{cout}_k{kh}x{kw}_s{stride[0]}{stride[1]}"
                f"_d{dil[0]}{dil[1]}_{pad}_{act}{'_b32' if int32_bias else ''}",
                seed * 1000 + i, (n, h, w, cin), cout, (kh, kw), stride, pad, dil, act,
                has_bias=rng.random() > 0.1, entry=int(rng.random() < 0.1), int32_bias=int32_bias))
        except ValueError:
            continue
    return cases


def random_dw_s16_cases(seed: int, count: int, max_hw: int = 10) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        n = 2 if rng.random() < 0.1 else 1
        h, w = int(rng.integers(1, max_hw + 1)), int(rng.integers(1, max_hw + 1))
        cin = int(rng.choice(S16_CHANNELS))
        cm = int(rng.choice([1, 1, 1, 2, 3]))
        kh, kw = int(rng.integers(1, 8)), int(rng.integers(1, 8))
        if rng.random() < 0.4:
            kh = kw = 3
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dil = (1, 1) if rng.random() < 0.7 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pad = "SAME" if rng.random() < 0.6 else "VALID"
        act = ACTS[int(rng.integers(len(ACTS)))]
        try:
            cases.append(dw_s16_case(
                f"dw_s16_r{seed}_{i}_{n}x{h}x{w}x{cin}_m{cm}_k{kh}x{kw}_s{stride[0]}{stride[1]}"
                f"_d{dil[0]}{dil[1]}_{pad}_{act}",
                seed * 1000 + i, (n, h, w, cin), (kh, kw), stride, pad, cm, dil, act,
                has_bias=rng.random() > 0.1, entry=int(rng.random() < 0.1)))
        except ValueError:
            continue
    return cases


def random_fc_s16_cases(seed: int, count: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        batches = int(rng.choice([1, 1, 1, 2, 3]))
        depth = int(rng.choice([1, 3, 4, 7, 8, 15, 16, 17, 33, 64, 100, 255, 600]))
        units = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 10, 16, 17, 33]))
        act = ACTS[int(rng.integers(len(ACTS)))]
        cases.append(fc_s16_case(f"fc_s16_r{seed}_{i}_b{batches}_d{depth}_u{units}_{act}", seed * 1000 + i,
                                 batches, depth, units, act, has_bias=rng.random() > 0.1))
    return cases


def random_misc_s16_cases(seed: int, count: int) -> list[Case]:
    """Pools, softmax, add and mul on int16."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    while len(cases) < count:
        i = len(cases)
        kind = i % 5
        act = ACTS[int(rng.integers(len(ACTS)))]
        try:
            if kind in (0, 1):
                n = 2 if rng.random() < 0.1 else 1
                h, w = int(rng.integers(1, 11)), int(rng.integers(1, 11))
                c = int(rng.choice(S16_CHANNELS))
                kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
                stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                pad = "SAME" if rng.random() < 0.5 else "VALID"
                pk = "avg" if kind == 0 else "max"
                cases.append(pool_s16_case(f"{pk}pool_s16_r{seed}_{i}_{n}x{h}x{w}x{c}_k{kh}x{kw}_{pad}_{act}",
                                           seed * 1000 + i, pk, (n, h, w, c), (kh, kw), stride, pad, act))
            elif kind == 2:
                rows = int(rng.choice([1, 2, 3]))
                size = int(rng.choice([1, 2, 7, 10, 16, 33, 100]))
                cases.append(softmax_s16_case(f"softmax_s16_r{seed}_{i}_{rows}x{size}", seed * 1000 + i, rows, size,
                                              float(rng.choice([1.0, 0.5, 2.0]))))
            else:
                size = int(rng.choice([1, 3, 7, 8, 16, 17, 31, 100]))
                shape = (1, size) if rng.random() < 0.5 else (1, 2, size, 3)
                make = add_s16_case if kind == 3 else mul_s16_case
                cases.append(make(f"{'add' if kind == 3 else 'mul'}_s16_r{seed}_{i}_{size}_{act}", seed * 1000 + i,
                                  shape, act))
        except ValueError:
            continue
    return cases


def special_s16_cases() -> list[Case]:
    """Hand-picked 16x8 cases: kernel sizes 1-7, strides 1-3, dilation, SAME / VALID, 1x1
    direct path, channel counts not multiple of 4 / 8, ch_mult > 1, wide accumulations
    (int64 needed), int32 bias, activations."""
    c = []
    for i, k in enumerate(range(1, 8)):
        c.append(conv_s16_case(f"conv_s16_k{k}", 900 + i, (1, 8, 7, 5), 6, (k, k), (1 + i % 3, 1 + i % 3),
                               "SAME" if i % 2 == 0 else "VALID", activation=ACTS[i % len(ACTS)]))
    c.append(conv_s16_case("conv_s16_1x1_direct", 910, (1, 6, 6, 19), 9, (1, 1), padding="VALID"))
    c.append(conv_s16_case("conv_s16_1x1_s2", 911, (2, 7, 7, 8), 5, (1, 1), (2, 2)))
    c.append(conv_s16_case("conv_s16_dilated", 912, (1, 10, 9, 6), 7, (3, 3), dilation_hw=(2, 3)))
    c.append(conv_s16_case("conv_s16_wide_k", 913, (1, 5, 5, 64), 4, (5, 5), has_bias=False))
    c.append(conv_s16_case("conv_s16_b32", 914, (1, 6, 6, 3), 8, (3, 3), int32_bias=True))
    c.append(conv_s16_case("conv_s16_direct_entry", 915, (1, 6, 5, 7), 3, (3, 2), entry=1))
    c.append(conv_s16_case("conv_s16_1xn", 916, (1, 1, 13, 9), 11, (1, 5), (1, 2)))
    for i, (cin, cm, k, s, pad, dil) in enumerate([(16, 1, 3, 1, "SAME", 1), (5, 1, 3, 2, "SAME", 1),
                                                   (9, 1, 5, 1, "VALID", 1), (17, 1, 7, 3, "SAME", 1),
                                                   (12, 1, 3, 1, "SAME", 2), (3, 2, 3, 1, "SAME", 1),
                                                   (4, 3, 5, 2, "VALID", 1), (1, 4, 3, 1, "SAME", 1),
                                                   (33, 1, 1, 1, "VALID", 1), (8, 1, 3, 2, "VALID", 1)]):
        c.append(dw_s16_case(f"dw_s16_c{cin}_m{cm}_k{k}_s{s}_d{dil}_{pad}", 920 + i, (1, 8, 7, cin), (k, k), (s, s),
                             pad, cm, (dil, dil), ACTS[i % len(ACTS)], has_bias=i != 4, entry=int(i == 9)))
    c.append(dw_s16_case("dw_s16_batch2", 931, (2, 5, 6, 10), (3, 3)))
    for i, (b, d, u) in enumerate([(1, 16, 10), (3, 37, 5), (2, 100, 12), (1, 1, 1), (1, 700, 7), (2, 9, 33)]):
        c.append(fc_s16_case(f"fc_s16_b{b}_d{d}_u{u}", 940 + i, b, d, u, ACTS[i % len(ACTS)], has_bias=i != 2))
    c.append(pool_s16_case("avgpool_s16_2x2", 950, "avg", (1, 8, 8, 12), (2, 2), (2, 2)))
    c.append(pool_s16_case("maxpool_s16_same", 951, "max", (1, 7, 9, 5), (3, 3), (2, 2), "SAME", "RELU"))
    c.append(softmax_s16_case("softmax_s16_rows", 952, 3, 17))
    c.append(add_s16_case("add_s16", 953, (1, 37), "RELU6"))
    c.append(mul_s16_case("mul_s16", 954, (1, 2, 5, 3)))
    return c


def s16_default_cases() -> list[Case]:
    """The bounded default 16x8 sweep (host and QEMU)."""
    return (special_s16_cases() + random_conv_s16_cases(11, 24) + random_dw_s16_cases(12, 20)
            + random_fc_s16_cases(13, 10) + random_misc_s16_cases(14, 15))


#: Cases per family of the exhaustive 16x8 sweep.
S16_FULL_SWEEP = {"conv": 600, "dw": 400, "fc": 150, "misc": 200}


def s16_full_sweep_cases() -> list[Case]:
    return (random_conv_s16_cases(111, S16_FULL_SWEEP["conv"]) + random_dw_s16_cases(112, S16_FULL_SWEEP["dw"])
            + random_fc_s16_cases(113, S16_FULL_SWEEP["fc"]) + random_misc_s16_cases(114, S16_FULL_SWEEP["misc"]))


def library_sources() -> list[Path]:
    return sorted(LIB_DIR.glob("Source/*/*.c"))


def build_host_driver(out_dir: Path, cc: str = "gcc", extra_flags: Sequence[str] = ()) -> Path:
    """Compile the kernels (portable path) and host_main.c with -Wall -Wextra -Werror."""
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = out_dir / "cmsis_nn_host"
    cmd = [cc, "-O2", "-std=gnu99", "-Wall", "-Wextra", "-Werror", "-I", str(LIB_DIR / "Include"),
           "-I", str(FW_PKG / "include"), *extra_flags, *map(str, library_sources()), str(HOST_MAIN),
           "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"host driver build failed:\n{proc.stderr}")
    return exe


@dataclass
class Result:
    status: int
    scratch: int
    output: np.ndarray
    instructions: int | None = None


def run_host(exe: Path, cases: Sequence[Case], work: Path) -> list[Result]:
    work.mkdir(parents=True, exist_ok=True)
    cin, cout = work / "cases.bin", work / "results.bin"
    cin.write_bytes(pack_cases(cases))
    proc = subprocess.run([str(exe), str(cin), str(cout)], capture_output=True, text=True,
                          check=False, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"host driver failed ({proc.returncode}): {proc.stderr}{proc.stdout}")
    data = cout.read_bytes()
    results, pos = [], 0
    for case in cases:
        status, scratch, n = struct.unpack_from("<3i", data, pos)
        pos += 12
        out = np.frombuffer(data, case.expected.dtype, n // case.expected.itemsize, pos).copy()
        pos += n + (-n) % 4
        results.append(Result(status, scratch, out))
    return results


def compare(cases: Sequence[Case], results: Sequence[Result]) -> list[str]:
    """One line per case that failed (status, or mismatching elements)."""
    bad = []
    for case, res in zip(cases, results):
        if res.status != 0:
            bad.append(f"{case.name}: status {res.status} ({STATUS_TEXT.get(res.status, '?')})")
            continue
        if case.op in SIZE_OPS:
            continue
        diff = np.flatnonzero(res.output != case.expected)
        if diff.size:
            i = int(diff[0])
            bad.append(f"{case.name}: {diff.size}/{case.expected.size} mismatches, first at {i}: "
                       f"got {int(res.output[i])} expected {int(case.expected[i])}")
    return bad


# ---------------------------------------------------------------------------------------
# Corstone-300 firmware (QEMU)
# ---------------------------------------------------------------------------------------

def write_case_data_source(cases: Sequence[Case], out_dir: Path) -> Path:
    """A C source embedding the case blobs (with expected outputs) in the constants region."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blob_path = out_dir / "cases_with_expected.bin"
    data = pack_cases(cases, with_expected=True)
    blob_path.write_bytes(data)
    src = out_dir / "cases_data.c"
    src.write_text(
        "/* Generated by kernels_c/test/cmsis_nn_testlib.py: CMSIS-NN kernel test cases. */\n"
        "#include <stdint.h>\n"
        "__asm__(\".section .rodata.byoc_constants.cases,\\\"a\\\"\\n\"\n"
        "        \".balign 16\\n\"\n"
        "        \".global cmsis_nn_case_data\\n\"\n"
        "        \"cmsis_nn_case_data:\\n\"\n"
        f"        \".incbin \\\"{blob_path}\\\"\\n\"\n"
        "        \".previous\\n\");\n"
        f"const uint32_t cmsis_nn_case_data_size = {len(data)}u;\n")
    return src


def build_case_firmware(cases: Sequence[Case], build_dir: Path, path: str = "mve",
                        icount_shift: int | None = None, cmsis_nn_path: Path | str | None = None) -> Path:
    """Firmware running ``cases`` with the kernels compiled for ``path`` (mve / dsp / c on the
    Cortex-M55, or a core of FIRMWARE_CORES: m0plus / m3 / m4 / m7 / m33).

    ``cmsis_nn_path``: an Arm CMSIS-NN source tree to link instead of byoc's kernels (same path
    flags; Arm's sources are compiled without -Werror)."""
    from byoc.platform import corstone300 as platform

    cpu, flags, _ = firmware_config(path)
    src = write_case_data_source(cases, build_dir / "gen")
    kwargs = {}
    if icount_shift is not None:
        kwargs["icount_shift"] = icount_shift
    if cmsis_nn_path is None:
        cmake_args = [f"-DCMSIS_NN_EXTRA_FLAGS=-Werror {flags}".strip()]
    else:
        cmake_args = [f"-DCMSIS_NN_PATH={cmsis_nn_path}", f"-DCMSIS_NN_EXTRA_FLAGS={flags}"]
    return platform.build_firmware(
        FW_PKG, [FW_MAIN, src], build_dir / "cmake", cpu=cpu, constants_region="DDR",
        cmake_args=cmake_args, **kwargs)


def run_case_firmware(elf: Path, cases: Sequence[Case], timeout_s: float = 300.0):
    """Run the firmware on QEMU; returns (per-case dicts, RunResult)."""
    from byoc.platform import corstone300 as platform

    run = platform.run_firmware(elf, backend="qemu", timeout_s=timeout_s)
    rows = [platform.parse_key_values(line) for line in run.stdout.splitlines()
            if line.startswith("CASE index=")]
    if len(rows) != len(cases):
        raise RuntimeError(f"firmware reported {len(rows)} of {len(cases)} cases; "
                           f"output tail: {run.stdout[-2000:]}")
    return rows, run


def firmware_failures(cases: Sequence[Case], rows) -> list[str]:
    bad = []
    for case, row in zip(cases, rows):
        status, mism = int(row["status"]), int(row["mismatches"])
        if status != 0 or mism != 0:
            bad.append(f"{case.name}: status {status} ({STATUS_TEXT.get(status, '?')}), "
                       f"{mism} mismatches")
    return bad


def build_library_for_cpu(cpu: str, build_dir: Path,
                          cmake_args: Sequence[str] = ()) -> tuple[bool, str]:
    """Build only the kernel library for ``cpu`` with the project's toolchain file and -Werror.

    Returns (True, compiled path name) or (False, the key compiler lines)."""
    from byoc.platform import corstone300 as platform

    build_dir.mkdir(parents=True, exist_ok=True)
    configure = ["cmake", "-G", "Ninja", "-S", str(HERE / "lib_only"), "-B", str(build_dir),
                 f"-DCMAKE_TOOLCHAIN_FILE={platform.TOOLCHAIN_FILE}", f"-DBYOC_CPU={cpu}",
                 "-DCMAKE_BUILD_TYPE=Release", "-DCMSIS_NN_EXTRA_FLAGS=-Werror", *cmake_args]
    for cmd in (configure, ["cmake", "--build", str(build_dir)]):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        (build_dir / "build.log").open("a").write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stdout + proc.stderr).splitlines()
                     if "error" in ln.lower()][:5]
            return False, " | ".join(lines) or proc.stdout[-500:]
    flags = ""
    for line in (build_dir / "CMakeCache.txt").read_text().splitlines():
        if line.startswith("CMAKE_C_FLAGS:"):
            flags = line.split("=", 1)[1]
    gcc = shutil.which("arm-none-eabi-gcc") or "arm-none-eabi-gcc"
    probe = '#include "arm_nn_math_types.h"\nbyoc_path ARM_NN_PATH_NAME\n'
    proc = subprocess.run([gcc, *flags.split(), "-E", "-P", "-I", str(LIB_DIR / "Include"), "-x", "c", "-"],
                          input=probe, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("byoc_path"):
            return True, line.split()[1].strip('"')
    return False, f"cannot read the kernel path: {proc.stderr[-300:]}"


def jobs() -> int:
    return max(1, os.cpu_count() or 1)
