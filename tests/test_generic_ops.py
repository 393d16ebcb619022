"""Generic C path: every supported operator, built for the host, bit-exact with TFLM.

Each case writes an int8 model with our builder, compiles it with ``--target c``, builds
the package with gcc (-Wall -Wextra -Werror, AddressSanitizer + UBSan), runs it on several
random inputs and compares every output element with TFLM (tolerance 0: bit-exact).
"""

from __future__ import annotations

import pytest

import byoc
from byoc.tflite.builder import LayerBuilder

SAMPLES = 4


def build(shape, fn, seed=0, **input_kw):
    lb = LayerBuilder(seed=seed)
    x = lb.input(shape, **input_kw)
    out = fn(lb, x)
    for o in (out if isinstance(out, (list, tuple)) else [out]):
        lb.output(o)
    return lb.build()


CASES = {
    # conv: kernel, stride, padding, dilation, activation, odd sizes, channels not % 4
    "conv3x3_same_relu": ((1, 9, 9, 3), lambda lb, x: lb.conv2d(x, 5, 3, activation="RELU")),
    "conv1x1": ((1, 8, 8, 16), lambda lb, x: lb.conv2d(x, 8, 1)),
    "conv5x5_s2_valid_relu6": ((1, 13, 11, 4),
                               lambda lb, x: lb.conv2d(x, 6, 5, stride=2, padding="VALID",
                                                       activation="RELU6")),
    "conv3x3_s2_same": ((1, 10, 10, 3), lambda lb, x: lb.conv2d(x, 8, 3, stride=2)),
    "conv3x3_dilation2": ((1, 12, 12, 2), lambda lb, x: lb.conv2d(x, 4, 3, dilation=2)),
    "conv_nonsquare": ((1, 7, 9, 3), lambda lb, x: lb.conv2d(x, 3, (1, 3), stride=(1, 2))),
    "conv_relu_n1_to_1": ((1, 6, 6, 3), lambda lb, x: lb.conv2d(x, 4, 3, activation="RELU_N1_TO_1")),
    # depthwise: multipliers, strides
    "dw3x3": ((1, 8, 8, 6), lambda lb, x: lb.depthwise_conv2d(x, 3, activation="RELU")),
    "dw3x3_mult2_s2": ((1, 9, 9, 3), lambda lb, x: lb.depthwise_conv2d(x, 3, stride=2,
                                                                         depth_multiplier=2)),
    "dw5x5_valid": ((1, 11, 11, 5), lambda lb, x: lb.depthwise_conv2d(x, 5, padding="VALID")),
    # fully connected: per-channel, per-tensor, activation
    "fc_per_channel": ((1, 40), lambda lb, x: lb.fully_connected(x, 10)),
    "fc_per_tensor_relu": ((1, 33), lambda lb, x: lb.fully_connected(x, 7, activation="RELU",
                                                                     per_channel=False)),
    "fc_batch2": ((2, 16), lambda lb, x: lb.fully_connected(x, 5)),
    # pools
    "avgpool2x2": ((1, 8, 8, 5), lambda lb, x: lb.avg_pool2d(x, 2, 2)),
    "avgpool3x3_same": ((1, 7, 7, 3), lambda lb, x: lb.avg_pool2d(x, 3, 1, padding="SAME")),
    "maxpool2x2": ((1, 8, 8, 5), lambda lb, x: lb.max_pool2d(x, 2, 2)),
    "maxpool3x3_s2_same": ((1, 9, 9, 4), lambda lb, x: lb.max_pool2d(x, 3, 2, padding="SAME")),
    # softmax
    "softmax": ((1, 10), lambda lb, x: lb.softmax(x)),
    "softmax_rows": ((3, 17), lambda lb, x: lb.softmax(x)),
    # elementwise
    "add": ((1, 5, 5, 4), lambda lb, x: lb.add(x, lb.constant((1, 5, 5, 4), 0.03, 5))),
    "add_broadcast_relu": ((1, 4, 4, 8), lambda lb, x: lb.add(x, lb.constant((1, 1, 1, 8), 0.1, -3),
                                                              activation="RELU")),
    "mul": ((1, 5, 5, 4), lambda lb, x: lb.mul(x, lb.constant((1, 5, 5, 4), 0.02, 1))),
    "mul_broadcast": ((1, 4, 4, 8), lambda lb, x: lb.mul(x, lb.constant((8,), 0.05, 0))),
    # data movement
    "reshape": ((1, 4, 4, 3), lambda lb, x: lb.reshape(x, (1, 48))),
    "pad": ((1, 5, 5, 3), lambda lb, x: lb.pad(x, [(0, 0), (1, 2), (2, 1), (0, 0)])),
    "concat_channels": ((1, 4, 4, 3), lambda lb, x: lb.concatenation(
        [lb.conv2d(x, 4, 1), lb.conv2d(x, 5, 3)], axis=3)),
    "concat_input_twice": ((1, 3, 3, 2), lambda lb, x: lb.concatenation([x, x], axis=1)),
    # reductions
    "mean_hw": ((1, 6, 6, 8), lambda lb, x: lb.mean(x, [1, 2], keep_dims=True)),
    "mean_hw_requant": ((1, 5, 7, 4), lambda lb, x: lb.mean(x, [1, 2], keep_dims=False,
                                                             out_scale=0.01, out_zp=3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_operator_bit_exact_on_host(name, tmp_path):
    shape, fn = CASES[name]
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(build(shape, fn, seed=len(name)))
    res = byoc.validate(model, target="c", backend="host", inputs=SAMPLES, seed=1,
                        work_dir=tmp_path / "work", sanitize=True)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0
    assert res.arena_lower_bound_bytes <= res.arena_bytes


def _residual_block(lb, x):
    y = lb.conv2d(x, 8, 3, activation="RELU")
    z = lb.depthwise_conv2d(y, 3)
    z = lb.conv2d(z, 8, 1)
    return lb.add(y, z, activation="RELU")


def _two_outputs(lb, x):
    y = lb.conv2d(x, 4, 3, activation="RELU")
    pooled = lb.max_pool2d(y, 2, 2)
    return [lb.softmax(lb.fully_connected(lb.reshape(pooled, (1, -1)), 6)), pooled]


GRAPHS = {
    "residual_block": ((1, 8, 8, 4), _residual_block),
    "two_outputs": ((1, 8, 8, 3), _two_outputs),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_small_graphs_bit_exact_on_host(name, tmp_path):
    shape, fn = GRAPHS[name]
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(build(shape, fn, seed=11))
    res = byoc.validate(model, target="c", backend="host", inputs=SAMPLES, seed=2,
                        work_dir=tmp_path / "work", sanitize=True)
    assert res.status == "pass", res
