"""TFLM's int8 operators on the generic C path: integer kernels, bit-exact with TFLM.

Per operator a random sweep (shapes, quantization, options drawn from a seeded generator):
each case is compiled with ``--target c`` (which refuses any float computation), built
with gcc -Wall -Wextra -Werror plus AddressSanitizer/UBSan, run on random inputs and
compared element by element with TFLM. The default run draws ``DEFAULT_CASES`` cases per
operator, ``BYOC_FULL_SWEEP=1`` draws ``FULL_CASES``. One model with every operator runs
on the Corstone-300 (QEMU) for every CPU-side target that takes them.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
import pytest

import byoc
from byoc.tflite.builder import LayerBuilder
from toolchain import require_tools

FULL_SWEEP = os.environ.get("BYOC_FULL_SWEEP") == "1"
DEFAULT_CASES = 2
FULL_CASES = 25


def _scale(rng, lo=0.002, hi=1.0) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _shape(rng, max_rank=4, max_dim=9) -> tuple[int, ...]:
    rank = int(rng.integers(1, max_rank + 1))
    return tuple(int(v) for v in rng.integers(1, max_dim + 1, size=rank))


def _logistic(rng):
    shape, s, zp = _shape(rng), _scale(rng, 0.001, 2.0), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        lb.output(lb.op("LOGISTIC", [x], shape, 1 / 256, -128))
    return fn


def _tanh(rng):
    shape, s, zp = _shape(rng), _scale(rng, 0.001, 2.0), int(rng.integers(-128, 128))

    def fn(lb):
        x = lb.input(shape, scale=s, zero_point=zp)
        lb.output(lb.op("TANH", [x], shape, 1 / 128, 0))
    return fn


#: operator -> case generator (rng -> model function for LayerBuilder)
SWEEPS: dict[str, Callable] = {
    "LOGISTIC": _logistic,
    "TANH": _tanh,
}


def _cases():
    n = FULL_CASES if FULL_SWEEP else DEFAULT_CASES
    return [(op, k) for op in sorted(SWEEPS) for k in range(n)]


def _build(fn, seed: int) -> bytes:
    lb = LayerBuilder(seed=seed)
    fn(lb)
    return lb.build()


@pytest.mark.parametrize("op,case", _cases())
def test_random_sweep_bit_exact_on_host(op, case, tmp_path):
    seed = 7919 * (sorted(SWEEPS).index(op) + 1) + case
    model = _build(SWEEPS[op](np.random.default_rng(seed)), seed)
    res = byoc.validate(model, target="c", backend="host", inputs=2, seed=case,
                        work_dir=tmp_path, sanitize=True)
    assert res.status == "pass" and res.max_abs_diff == 0, (op, case, res)


def _chain(lb):
    """Every operator of the sweep in one model (QEMU sample)."""
    x = lb.input((1, 6, 6, 8), scale=0.08, zero_point=-3)
    y = lb.conv2d(x, 8, 3)
    lg = lb.op("LOGISTIC", [y], y.shape, 1 / 256, -128)
    th = lb.op("TANH", [y], y.shape, 1 / 128, 0)
    lb.output(lb.add(lg, th))


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_operator_chain_bit_exact_on_qemu(target, tmp_path):
    require_tools()
    res = byoc.validate(_build(_chain, 5), target=target, backend="qemu", inputs=2, seed=3,
                        work_dir=tmp_path)
    assert res.status == "pass" and res.max_abs_diff == 0, res


@pytest.mark.parametrize("op,out_q", [("LOGISTIC", (1 / 128, 0)), ("TANH", (1 / 256, -128))])
def test_unsupported_output_quantization_is_refused(op, out_q):
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 8))
    lb.output(lb.op(op, [x], x.shape, *out_q))
    with pytest.raises(byoc.ByocError, match=rf"{op} #0 would be computed in float: int8 {op} "
                                             r"output must have scale"):
        byoc.compile(lb.build(), target="c")


def test_int16_without_kernel_is_refused():
    lb = LayerBuilder(seed=1, dtype=np.int16)
    x = lb.input((1, 8))
    lb.output(lb.op("LOGISTIC", [x], x.shape, 1 / 32768, 0))
    with pytest.raises(byoc.ByocError, match=r"LOGISTIC #0 would be computed in float: int16 "
                                             r"LOGISTIC has no integer kernel"):
        byoc.compile(lb.build(), target="c")
