"""Generic C path, int16 activations (TFLite "16x8"): every operator byoc.qnn has an int16
kernel for, bit-exact with TFLM.

Each case writes an int16 model with ``LayerBuilder(dtype=np.int16)`` (int16 activations
with zero point 0, int8 per-channel or per-tensor weights, int64 biases), compiles it with
``--target c``, builds the package with gcc (-Wall -Wextra -Werror, AddressSanitizer +
UBSan), runs it on full-range random int16 inputs and compares every output element with
TFLM (tolerance 0). Every call of the compiled model must be one of byoc's integer kernels
(``<prefix>_q<kind>_<n>``), so a chain that silently stayed in float fails even where the
float path happens to round the same way.

A small int16 CNN also runs on the Corstone-300 (QEMU). ``BYOC_FULL_SWEEP=1`` adds a random
parameter sweep.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc.qnn import ops, quant_math as qm
from byoc.tflite.builder import LayerBuilder
from qnn_util import tflm_run
from sweep import full_sweep_only
from toolchain import require_tools

SAMPLES = 3
I16 = np.int16

# An integer kernel of byoc.qnn, or a reshape (no arithmetic, left to LegalizeOps).
_INTEGER_CALL = re.compile(r"^model_(q[a-z0-9_]+_\d+|reshape\w*)$")


def build(shape, fn, seed=0, dtype=I16, **input_kw) -> bytes:
    lb = LayerBuilder(seed=seed, dtype=dtype)
    x = lb.input(shape, **input_kw)
    out = fn(lb, x)
    for o in (out if isinstance(out, (list, tuple)) else [out]):
        lb.output(o)
    return lb.build()


def quantize(lb, x, scale, zero_point=0):
    """TFLite QUANTIZE to the builder's dtype (requantize, or float -> integer)."""
    return lb.op("QUANTIZE", [x], x.shape, scale, zero_point)


def validate(tmp_path: Path, name: str, data: bytes, backend: str = "host", **kw):
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(data)
    if backend == "host":
        kw.setdefault("sanitize", True)
    res = byoc.validate(model, target="c", backend=backend, inputs=SAMPLES, seed=1,
                        work_dir=tmp_path / "work", **kw)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0
    meta = json.loads((Path(res.output_dir) / "metadata.json").read_text())
    calls = [c["function"] for c in meta["calls"]]
    assert calls and all(_INTEGER_CALL.match(c) for c in calls), calls
    return res, calls


CASES = {
    # conv: kernel 1-7, stride 1-3, dilation, SAME/VALID, activations, per-tensor weights,
    # odd sizes, channels not a multiple of 4
    "conv3x3_same_relu": ((1, 9, 9, 3), lambda lb, x: lb.conv2d(x, 5, 3, activation="RELU")),
    "conv1x1": ((1, 6, 6, 16), lambda lb, x: lb.conv2d(x, 7, 1)),
    "conv5x5_s2_valid_relu6": ((1, 13, 11, 4), lambda lb, x: lb.conv2d(
        x, 6, 5, stride=2, padding="VALID", activation="RELU6")),
    "conv7x7_s3_same": ((1, 14, 13, 2), lambda lb, x: lb.conv2d(x, 3, 7, stride=3)),
    "conv3x3_dilation2": ((1, 11, 12, 2), lambda lb, x: lb.conv2d(x, 4, 3, dilation=2)),
    "conv_nonsquare": ((1, 7, 9, 3), lambda lb, x: lb.conv2d(x, 3, (1, 3), stride=(1, 2))),
    "conv_relu_n1_to_1": ((1, 6, 6, 3), lambda lb, x: lb.conv2d(
        x, 4, 3, activation="RELU_N1_TO_1")),
    "conv_per_tensor": ((1, 8, 7, 5), lambda lb, x: lb.conv2d(
        x, 6, 3, per_channel=False, activation="RELU")),
    # depthwise: multipliers, strides, dilation, per-tensor
    "dw3x3_relu": ((1, 8, 8, 6), lambda lb, x: lb.depthwise_conv2d(x, 3, activation="RELU")),
    "dw3x3_mult2_s2": ((1, 9, 9, 3), lambda lb, x: lb.depthwise_conv2d(
        x, 3, stride=2, depth_multiplier=2)),
    "dw5x5_valid_relu6": ((1, 11, 10, 5), lambda lb, x: lb.depthwise_conv2d(
        x, 5, padding="VALID", activation="RELU6")),
    "dw3x3_dilation2_s3": ((1, 13, 13, 7), lambda lb, x: lb.depthwise_conv2d(
        x, 3, stride=3, dilation=2)),
    "dw_single_channel_mult3": ((1, 7, 7, 1), lambda lb, x: lb.depthwise_conv2d(
        x, 3, depth_multiplier=3)),
    "dw_per_tensor": ((1, 6, 6, 4), lambda lb, x: lb.depthwise_conv2d(
        x, 3, per_channel=False)),
    # fully connected
    "fc_per_channel": ((1, 40), lambda lb, x: lb.fully_connected(x, 10)),
    "fc_per_tensor_relu": ((1, 33), lambda lb, x: lb.fully_connected(
        x, 7, activation="RELU", per_channel=False)),
    "fc_batch2_relu6": ((2, 17), lambda lb, x: lb.fully_connected(x, 5, activation="RELU6")),
    "fc_no_bias": ((1, 12), lambda lb, x: lb.fully_connected(x, 3, use_bias=False)),
    # pools
    "avgpool2x2": ((1, 8, 8, 5), lambda lb, x: lb.avg_pool2d(x, 2, 2)),
    "avgpool3x3_same": ((1, 7, 7, 3), lambda lb, x: lb.avg_pool2d(x, 3, 1, padding="SAME")),
    "avgpool3x3_s2_same_relu6": ((1, 9, 8, 3), lambda lb, x: lb.avg_pool2d(
        x, 3, 2, padding="SAME", activation="RELU6")),
    "maxpool2x2": ((1, 8, 8, 5), lambda lb, x: lb.max_pool2d(x, 2, 2)),
    "maxpool3x3_s2_same": ((1, 9, 9, 4), lambda lb, x: lb.max_pool2d(x, 3, 2, padding="SAME")),
    "maxpool2x2_relu": ((1, 6, 7, 3), lambda lb, x: lb.max_pool2d(x, 2, 2, activation="RELU")),
    # softmax: rows, beta, input scales (0.05: most exps underflow; 0.0005: spread)
    "softmax": ((1, 10), lambda lb, x: lb.softmax(x)),
    "softmax_rows_beta": ((3, 17), lambda lb, x: lb.softmax(x, beta=0.5)),
    "softmax_4d_beta2": ((1, 2, 3, 40), lambda lb, x: lb.softmax(x, beta=2.0)),
    # elementwise
    "add": ((1, 5, 5, 4), lambda lb, x: lb.add(x, lb.constant((1, 5, 5, 4), 0.03, 0))),
    "add_broadcast_relu": ((1, 4, 4, 8), lambda lb, x: lb.add(
        x, lb.constant((1, 1, 1, 8), 0.1, 0), activation="RELU")),
    "add_broadcast_rows_relu6": ((1, 3, 5, 2), lambda lb, x: lb.add(
        lb.constant((1, 3, 1, 1), 0.2, 0), x, activation="RELU6")),
    "mul": ((1, 5, 5, 4), lambda lb, x: lb.mul(x, lb.constant((1, 5, 5, 4), 0.02, 0))),
    "mul_broadcast": ((1, 4, 4, 8), lambda lb, x: lb.mul(x, lb.constant((8,), 0.05, 0))),
    "mul_broadcast_relu_n1_to_1": ((2, 3, 4), lambda lb, x: lb.mul(
        x, lb.constant((2, 1, 4), 0.01, 0), activation="RELU_N1_TO_1")),
    # data movement, requantization
    "pad": ((1, 5, 5, 3), lambda lb, x: lb.pad(x, [(0, 0), (1, 2), (2, 1), (0, 0)])),
    "reshape_fc": ((1, 4, 4, 3), lambda lb, x: lb.fully_connected(lb.reshape(x, (1, 48)), 4)),
    "requantize_down": ((1, 5, 7, 3), lambda lb, x: quantize(lb, x, 0.031)),
    "requantize_up": ((1, 5, 7, 3), lambda lb, x: quantize(lb, x, 0.2)),
    "concat_channels": ((1, 4, 4, 3), lambda lb, x: lb.concatenation(
        [lb.conv2d(x, 4, 1), lb.conv2d(x, 5, 3)], axis=3)),
    "concat_input_twice": ((1, 3, 3, 2), lambda lb, x: lb.concatenation([x, x], axis=1)),
    # int16 inputs of different quantization: TFLM (and LiteRT) copy the raw values
    "concat_mixed_quantization": ((1, 3, 3, 2), lambda lb, x: lb.concatenation(
        [x, lb.conv2d(x, 3, 1)], axis=3, unify_inputs=False)),
    # reductions
    "mean_hw": ((1, 6, 6, 8), lambda lb, x: lb.mean(x, [1, 2], keep_dims=True)),
    "mean_hw_requant": ((1, 5, 7, 4), lambda lb, x: lb.mean(
        x, [1, 2], keep_dims=False, out_scale=0.01)),
    "mean_last_axis": ((2, 5, 7), lambda lb, x: lb.mean(x, [2], keep_dims=True,
                                                         out_scale=0.02)),
    "mean_all_axes": ((3, 5, 7), lambda lb, x: lb.mean(x, [0, 1, 2], keep_dims=False,
                                                        out_scale=0.03)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_int16_operator_bit_exact_on_host(name, tmp_path):
    shape, fn = CASES[name]
    res, _ = validate(tmp_path, name, build(shape, fn, seed=len(name)))
    assert res.arena_lower_bound_bytes <= res.arena_bytes


@pytest.mark.parametrize("scale,beta", [(0.0005, 1.0), (1e-5, 1.0), (0.003, 0.7), (3.0, 2.0),
                                        (20.0, 1.0)])
def test_int16_softmax_input_scales(scale, beta, tmp_path):
    # scale * beta >= 5 makes TFLM's diff * 2^shift leave int32 (it wraps; so does byoc)
    data = build((4, 33), lambda lb, x: lb.softmax(x, beta=beta), seed=3, scale=scale)
    validate(tmp_path, "softmax", data)


@pytest.mark.parametrize("in_dtype,out_dtype,in_q,out_q", [
    (np.int8, I16, (0.05, -3), (0.001, 0)),
    (I16, np.int8, (0.001, 0), (0.05, 5)),
])
def test_requantize_between_int8_and_int16(in_dtype, out_dtype, in_q, out_q, tmp_path):
    lb = LayerBuilder(seed=5, dtype=out_dtype)
    x = lb.input((1, 4, 5, 3), dtype=in_dtype, scale=in_q[0], zero_point=in_q[1])
    lb.output(quantize(lb, x, *out_q))
    _, calls = validate(tmp_path, "requantize", lb.build())
    assert calls == ["model_qrequantize_0"]


@pytest.mark.parametrize("scale", [0.001, 0.0001])
def test_float_input_quantized_to_int16(scale, tmp_path):
    def fn(lb, x):
        return lb.conv2d(quantize(lb, x, scale), 3, 1)

    lb = LayerBuilder(seed=7, dtype=I16)
    x = lb.input((1, 4, 4, 3), dtype=np.float32)
    lb.output(fn(lb, x))
    data = lb.build()
    _, calls = validate(tmp_path, "quantize_float", data)
    assert calls[0].startswith("model_qquantize_")


def _without_bias(lb) -> None:
    lb.mb.operators[-1].inputs[2] = -1


@pytest.mark.parametrize("layer", ["conv", "fc"])
@pytest.mark.parametrize("bias", ["int32", "none"])
def test_16x8_bias_variants(layer, bias, tmp_path):
    """16x8 with an int32 bias accumulates in int32 with the int8 requantization (TFLM's
    kernels are templated on the bias type); without a bias the int64 path is used."""
    lb = LayerBuilder(seed=2, dtype=I16)
    if bias == "int32":
        lb.bias_dtype = np.int32
    x = lb.input((1, 6, 5, 4))
    y = lb.conv2d(x, 5, 3) if layer == "conv" else lb.fully_connected(
        lb.reshape(x, (1, -1)), 6)
    if bias == "none":
        _without_bias(lb)
    lb.output(y)
    validate(tmp_path, f"{layer}_{bias}", lb.build())


def test_16x8_depthwise_int32_bias_stays_float():
    # TFLM reads a 16x8 depthwise bias as int64 whatever its type (garbage for int32); the
    # chain is left to the float path. (Without a bias TFLM's int16 depthwise crashes.)
    from byoc.frontend import from_tflite
    from byoc.qnn.legalize import legalize_quantized
    lb = LayerBuilder(seed=2, dtype=I16)
    lb.bias_dtype = np.int32
    lb.output(lb.depthwise_conv2d(lb.input((1, 6, 6, 4)), 3))
    report: list = []
    legalize_quantized(from_tflite(lb.build(), legalize=False), report=report)
    assert report == [("skipped", "depthwise_conv2d: int16 DEPTHWISE_CONV_2D with an int32 "
                                  "bias (TFLM reads int64)")]


# ----------------------------------------------------------------------- a small network

def int16_cnn(seed: int = 11) -> bytes:
    """conv -> depthwise -> max pool / avg pool -> add, mul -> reshape -> FC -> softmax."""
    lb = LayerBuilder(seed=seed, dtype=I16)
    x = lb.input((1, 12, 12, 3), scale=0.002)
    y = lb.conv2d(x, 8, 3, activation="RELU")
    y = lb.depthwise_conv2d(y, 3, stride=2, activation="RELU6")
    a = lb.max_pool2d(y, 2, 2)
    b = lb.avg_pool2d(y, 2, 2)
    s = lb.add(a, b, activation="RELU")
    m = lb.mul(s, lb.constant((1, 1, 1, 8), 0.01, 0))
    f = lb.fully_connected(lb.reshape(m, (1, -1)), 10)
    lb.output(lb.softmax(f))
    return lb.build()


_CNN_KERNELS = {"qconv2d", "qdepthwise_conv2d", "qmax_pool2d", "qavg_pool2d", "qadd", "qmul",
                "qfully_connected", "qsoftmax"}


def _kernel_kinds(calls: list[str]) -> set[str]:
    return {re.sub(r"^model_(.*)_\d+$", r"\1", c) for c in calls if c.startswith("model_q")}


def test_int16_cnn_bit_exact_on_host(tmp_path):
    _, calls = validate(tmp_path, "int16_cnn", int16_cnn())
    assert _kernel_kinds(calls) == _CNN_KERNELS


def test_int16_cnn_bit_exact_on_qemu(tmp_path):
    require_tools()
    res, calls = validate(tmp_path, "int16_cnn", int16_cnn(), backend="qemu")
    assert _kernel_kinds(calls) == _CNN_KERNELS
    assert res.backend == "qemu" and res.instructions > 0


# ----------------------------------------------------------------------- numpy references

def test_softmax_s16_reference_matches_tflm():
    rng = np.random.default_rng(0)
    for scale, beta in [(0.05, 1.0), (0.0005, 0.5), (20.0, 1.0)]:
        lb = LayerBuilder(seed=1, dtype=I16)
        x = lb.input((5, 21), scale=scale)
        lb.output(lb.softmax(x, beta=beta))
        buf = lb.build()
        xs = rng.integers(-32768, 32768, size=(5, 21)).astype(I16)
        m, s = qm.softmax_s16_multiplier(scale, beta)
        assert np.array_equal(tflm_run(buf, [xs])[0], qm.softmax_s16_ref(xs, m, s))


def test_softmax_luts_are_tflites():
    exp_lut, recip_lut = qm.softmax_luts_s16()
    assert exp_lut.shape == recip_lut.shape == (513,)
    assert exp_lut.dtype == recip_lut.dtype == np.int16
    # exp(-10) ~ 1.5 Q0.15 units at the bottom, exp(0) at the top; 1/(1+x) from 1 to 1/2
    assert exp_lut[0] in (1, 2) and exp_lut[-1] == 32767
    assert recip_lut[0] == 32767 and recip_lut[-1] == 16384
    assert np.all(np.diff(exp_lut.astype(int)) >= 0) and np.all(np.diff(recip_lut.astype(int)) <= 0)
    # byoc.cmsisnn_params keeps its own copy for the CMSIS-NN path: both must agree
    from byoc import cmsisnn_params
    for a, b in zip((exp_lut, recip_lut), cmsisnn_params.softmax_luts_s16()):
        assert np.array_equal(a, b)


def test_int64_requantization_reference():
    # reduced multiplier: Q0.31 rounded to Q0.15, saturating at 0x7FFF
    assert qm.reduced_multiplier_s64(1 << 30, 0) == (1 << 14, 15)
    assert qm.reduced_multiplier_s64(0x7FFF0000, -3) == (0x7FFF, 18)
    assert qm.reduced_multiplier_s64(0x7FFEFFFF, 2) == (0x7FFF, 13)
    x = np.array([-(1 << 34), -12345, -16, -17, 15, 16, 12345, 1 << 34], np.int64)
    got = qm.multiply_by_quantized_multiplier_s64(x, 1 << 30, -4)
    # 0.5 * 2^-4 = 1/32, rounded half up
    assert np.array_equal(got, (x + 16) >> 5)
    with pytest.raises(ValueError):
        qm.reduced_multiplier_s64(1 << 30, 15)


def test_int16_kinds_cover_every_builder():
    assert ops.INT16_KINDS == {
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
        "SOFTMAX", "ADD", "MUL", "PAD", "QUANTIZE", "QUANTIZE_FLOAT", "CONCATENATION", "MEAN",
        # elementwise kernels of tests/test_int8_ops.py (their sweeps draw int16 cases too)
        "SUB", "LEAKY_RELU", "RELU", "RELU6", "MAXIMUM", "MINIMUM", "RESIZE_NEAREST_NEIGHBOR",
        "SUM", "ABS", "BATCH_MATMUL", "TRANSPOSE", "TANH", "LOGISTIC"}


# ----------------------------------------------------------------------- random sweep

def _random_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lb = LayerBuilder(seed=seed, dtype=I16)
    h, w = (int(v) for v in rng.integers(3, 14, size=2))
    c = int(rng.integers(1, 9))
    x = lb.input((1, h, w, c), scale=float(rng.choice([0.0005, 0.002, 0.05])))
    kind = seed % 6
    act = rng.choice([None, "RELU", "RELU6", "RELU_N1_TO_1"])
    k = int(rng.integers(1, min(h, w, 7) + 1))
    stride = int(rng.integers(1, 4))
    padding = str(rng.choice(["SAME", "VALID"]))
    if kind == 0:
        y = lb.conv2d(x, int(rng.integers(1, 10)), k, stride=stride, padding=padding,
                      activation=act, per_channel=bool(rng.integers(0, 2)))
    elif kind == 1:
        y = lb.depthwise_conv2d(x, k, stride=stride, padding=padding, activation=act,
                                depth_multiplier=int(rng.integers(1, 4)),
                                per_channel=bool(rng.integers(0, 2)))
    elif kind == 2:
        y = lb.fully_connected(lb.reshape(x, (1, -1)), int(rng.integers(1, 20)),
                               activation=act, per_channel=bool(rng.integers(0, 2)))
    elif kind == 3:
        pool = lb.avg_pool2d if rng.integers(0, 2) else lb.max_pool2d
        y = pool(x, k, stride, padding=padding, activation=act)
    elif kind == 4:
        other = lb.constant((1, 1, w, c) if rng.integers(0, 2) else (c,),
                            float(rng.uniform(0.001, 0.1)), 0)
        y = (lb.add if rng.integers(0, 2) else lb.mul)(x, other, activation=act)
        y = lb.softmax(lb.reshape(y, (h, -1)), beta=float(rng.choice([1.0, 0.5])))
    else:
        pads = [(0, 0)] + [tuple(int(v) for v in rng.integers(0, 3, size=2))
                           for _ in range(3)]
        y = lb.pad(x, pads)
        y = quantize(lb, y, float(rng.uniform(0.5, 2.0)) * x.scale)
        y = lb.concatenation([y, lb.conv2d(y, int(rng.integers(1, 4)), 1)], axis=3)
        axes = [a for a in (1, 2, 3) if rng.integers(0, 2)] or [1]
        y = lb.mean(y, axes, keep_dims=bool(rng.integers(0, 2)),
                    out_scale=float(rng.uniform(0.5, 2.0)) * y.scale)
    lb.output(y)
    return lb.build()


@full_sweep_only
@pytest.mark.parametrize("seed", range(60))
def test_int16_random_sweep(seed, tmp_path):
    validate(tmp_path, f"random_{seed}", _random_model(seed))
