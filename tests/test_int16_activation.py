"""int16 TANH and LOGISTIC on the generic C path, bit-exact with TFLM's int16 kernels.

TFLM's int16 kernels bring the input onto the scale of a 256-point logistic table (1/(3*4096)
per unit) with a multiplier and right shift computed at Prepare (a power-of-two shortcut for
input scale 2^-12, and for TANH 2^-11), then interpolate the table. Each case is one model
with both operators on one int16 input of 8,192 elements (input scales that are powers of
two and scales that are not), compiled with ``--target c``, built with -Wall -Wextra
-Werror plus AddressSanitizer/UBSan and compared with TFLM on full-range random inputs.
The refusal cases are what TFLM's Prepare refuses (zero points other than 0, an output
scale other than 2^-15) and a multiplier TFLM's int32 arithmetic does not hold.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc.errors import ToolError
from byoc.qnn import quant_math as qm
from byoc.reference import run_tflm
from byoc.tflite.builder import LayerBuilder
from sweep import sweep

REPO = Path(__file__).resolve().parents[1]
OUT_SCALE = 1.0 / 32768.0

# input scales: TFLM's power-of-two shortcut (2^-12; 2^-11 for TANH only), powers of two on
# the general path, near powers of two (within CheckedLog2's tolerance or just outside),
# and log-uniform random scales up to the largest TFLM's multiplier holds
_FIXED_SCALES = [0.00123, 2.0 ** -11, 2.0 ** -12, 2.0 ** -13, 2.0 ** -16, 2.0 ** -7, 0.5,
                 2.0 ** -12 * 1.0003, 2.0 ** -11 * 1.003, 2.0, 1e-6]
_RNG = np.random.default_rng(1616)
SCALES = _FIXED_SCALES + [float(np.exp(v)) for v in _RNG.uniform(np.log(1e-5), np.log(2.6), 13)]


def _model(scale: float, shape=(2, 4096), zero_point: int = 0, out_scale: float = OUT_SCALE,
           out_zp: int = 0, ops=("TANH", "LOGISTIC")) -> bytes:
    lb = LayerBuilder(seed=3, dtype=np.int16)
    x = lb.input(shape, scale=scale, zero_point=zero_point)
    for op in ops:
        lb.output(lb.op(op, [x], shape, out_scale, out_zp))
    return lb.build()


@pytest.mark.parametrize("scale", sweep(SCALES, bounded=2))
def test_tanh_and_logistic_bit_exact_on_host(scale, tmp_path):
    res = byoc.validate(_model(scale), target="c", backend="host", inputs=2, seed=5,
                        work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, (scale, res)


def test_table_is_the_c_kernels_table():
    """One table: the generic kernel's (quant_math) and arm_nn_activation_s16.c's."""
    src = (REPO / "kernels_c/cmsis_nn/Source/ActivationFunctions/"
           "arm_nn_activation_s16.c").read_text()
    body = src.split("byoc_sigmoid_points_u16[256] = {")[1].split("};")[0]
    assert tuple(int(v) for v in re.findall(r"\d+", body)) == qm.SIGMOID_TABLE_U16


def test_arm_left_shift_equivalence():
    """TFLM's (multiplier, shift) and arm_nn_activation_s16's left_shift compute the same
    table-scale input on every int16 value whenever a left_shift is named for them."""
    x = np.arange(-32768, 32768, dtype=np.int64)
    for scale in SCALES + [2.0 ** k for k in range(-24, 2)]:
        for tanh in (False, True):
            m, s = qm.activation_s16_params(scale, tanh)
            ls = qm.activation_s16_left_shift(m, s)
            if ls is None:
                continue
            tflm = (x * m + ((1 << (s - 1)) if s else 0)) >> s
            arm = x * (3 << ls) if ls >= 0 else (x * 3 + (1 << (-ls - 1))) >> -ls
            assert np.array_equal(tflm, arm), (scale, tanh, m, s, ls)


@pytest.mark.parametrize("what,kw,message", [
    ("input zero point", dict(zero_point=3), r"int16 TANH needs zero points 0 \(TFLM: "
                                              r"input 3, output 0\)"),
    ("output zero point", dict(out_zp=-2), r"int16 TANH needs zero points 0"),
    ("output scale", dict(out_scale=1 / 16384), r"int16 TANH output must have scale "
                                                r"1/32768 \(TFLM\)"),
])
def test_what_tflm_refuses_is_refused(what, kw, message):
    model = _model(2.0 ** -12, shape=(1, 8), ops=("TANH",), **kw)
    with pytest.raises(ToolError, match="TFLM"):
        run_tflm(model, [[np.zeros((1, 8), np.int16)]], 64, 1)
    with pytest.raises(byoc.ByocError, match=r"TANH #0 would be computed in float: " + message):
        byoc.compile(model, target="c")


def test_multiplier_beyond_tflm_int32_arithmetic_is_refused():
    """Input scale 3: TFLM's multiplier 36864 is above the 32767 its Prepare asserts (debug
    builds; release builds compute on, and overflow from about scale 5.3)."""
    model = _model(3.0, shape=(1, 8), ops=("LOGISTIC",))
    with pytest.raises(byoc.ByocError, match=r"LOGISTIC #0 would be computed in float: int16 "
                                             r"LOGISTIC: input scale 3.0 gives TFLM's input "
                                             r"multiplier 36864"):
        byoc.compile(model, target="c")


def test_cmsis_nn_takes_the_scales_where_arm_equals_tflm(tmp_path):
    """arm_nn_activation_s16 for input scales 2^k / 4096 (its power-of-two left_shift), the
    generic kernel with the reason for any other scale; bit-exact with TFLM on the host."""
    lb = LayerBuilder(seed=4, dtype=np.int16)
    a = lb.input((2, 1024), scale=2.0 ** -13)
    b = lb.input((1, 3, 5, 7), scale=0.00123)
    for op, x in (("TANH", a), ("LOGISTIC", a), ("TANH", b)):
        lb.output(lb.op(op, [x], x.shape, OUT_SCALE, 0))
    model = lb.build()
    rows = byoc.compiler.placement(model, "cmsis-nn,c")
    assert [(r["backend"], r["reason"]) for r in rows[:2]] == [
        ("cmsis-nn", "arm_nn_activation_s16")] * 2
    assert rows[2]["backend"] == "generic"
    assert rows[2]["reason"] == ("int16 TANH input scale 0.00123: TFLM's input multiplier "
                                 "30953 >> 11 is not 3 * 2^k, and arm_nn_activation_s16 "
                                 "takes a power-of-two left_shift only (no multiplier)")
    res = byoc.validate(model, target="cmsis-nn,c", backend="host", inputs=2, seed=2,
                        work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, res
