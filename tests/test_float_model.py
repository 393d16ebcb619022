"""Float models: compiled on the generic C path with float math (documented choice).

Tolerance: float32 results may differ from TFLM's reference kernels in the last bits,
because our C and TFLM sum the products of a convolution in a different order and the C
compiler may contract a*b+c into one fused multiply-add; each reordering changes the
rounding of a float32 sum. For a sum of K products with magnitudes around 1 the difference
stays within a few K*2^-24 relative; 1e-4 absolute covers the K <= 100 used here.
"""

from __future__ import annotations

import numpy as np

import byoc
from byoc.tflite.builder import ModelBuilder

FLOAT_TOLERANCE = 1e-4


def float_conv_model() -> bytes:
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 6, 6, 3), np.float32)
    w = mb.add_tensor("w", (4, 3, 3, 3), np.float32,
                      (rng.standard_normal((4, 3, 3, 3)) * 0.2).astype(np.float32))
    b = mb.add_tensor("b", (4,), np.float32, rng.standard_normal(4).astype(np.float32))
    y = mb.add_tensor("y", (1, 6, 6, 4), np.float32)
    z = mb.add_tensor("z", (1, 3, 3, 4), np.float32)
    mb.add_operator("CONV_2D", [x, w, b], [y], "Conv2DOptions",
                    {"Padding": 0, "StrideW": 1, "StrideH": 1, "FusedActivationFunction": 1,
                     "DilationWFactor": 1, "DilationHFactor": 1})
    mb.add_operator("MAX_POOL_2D", [y], [z], "Pool2DOptions",
                    {"Padding": 1, "StrideW": 2, "StrideH": 2, "FilterWidth": 2,
                     "FilterHeight": 2})
    mb.set_io([x], [z])
    return mb.build()


def test_float_model_compiles_and_matches_within_tolerance(tmp_path):
    path = tmp_path / "float.tflite"
    path.write_bytes(float_conv_model())
    res = byoc.validate(path, target="c", backend="host", inputs=3,
                        work_dir=tmp_path / "w", tolerance=FLOAT_TOLERANCE)
    assert res.status == "pass", res
    assert res.max_abs_diff <= FLOAT_TOLERANCE
