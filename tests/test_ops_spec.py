"""The operator spec (byoc.qnn.ops) is the one per-operator table: the backends' tables are
derived from it, the generic kernels are named and dispatched through it, and its dtype
guard is what refuses an int16 chain of an int8-only operator."""

from __future__ import annotations

import numpy as np
import pytest

import byoc
from byoc.cmsisnn import partition as cmsis
from byoc.ethosu import partition as npu
from byoc.qnn import ops
from byoc.qnn import patterns as P
from byoc.tflite.builder import LayerBuilder


def test_backend_tables_follow_the_spec():
    for s in ops.SPECS:
        assert (s.kind in cmsis.KERNELS) == ("int8" in s.cmsis_nn)
        assert (s.kind in cmsis.KERNELS_S16) == ("int16" in s.cmsis_nn)
        assert (s.kind in npu.KINDS) == s.ethos_u
        assert (s.kind in npu.TRANSPARENT) == (s.ethos_u and s.transparent)
        assert cmsis.TFLITE_TYPES[s.kind] == s.op_type
        for dtype, fn in s.cmsis_nn.items():
            assert cmsis.kernel_name(s.kind, dtype) == fn
            assert dtype in s.dtypes, f"{s.kind}: CMSIS-NN takes {dtype}, generic C does not"
    # the Ethos-U partition's own data-movement kinds are not byoc.qnn operators
    assert set(npu.KINDS) | set(npu.OWN_KINDS) == set(npu.TFLITE_TYPES)


def test_pattern_order_is_the_spec_order():
    names = [name for name, *_ in ops.patterns()]
    kinds = list(dict.fromkeys(n[len(ops.PREFIX):] for n in names))
    assert kinds == [s.kind for s in ops.SPECS]
    # the conv chain with bias and clip is tried before its sub-chains
    conv = ops.spec("conv2d").patterns()
    assert len(conv) == 4


def test_one_vocabulary():
    # kind: lower-case pattern name; op_type: the TFLite operator type
    for s in ops.SPECS:
        assert s.kind == s.kind.lower() and s.op_type == s.op_type.upper()
        assert ops.op_type(s.kind) == s.op_type
    assert ops.op_type("reshape") == "RESHAPE"
    assert {s.op_type for s in ops.SPECS if s.kind.startswith("quantize")} == {"QUANTIZE"}
    assert "op_type" in P.QConv2D.__dataclass_fields__
    assert "kind" not in P.QConv2D.__dataclass_fields__


def test_int16_kinds_are_the_specs_with_int16():
    assert ops.INT16_KINDS == {("QUANTIZE_FLOAT" if s.kind == "quantize_float" else s.op_type)
                               for s in ops.SPECS if "int16" in s.dtypes}
    int8_only = {s.op_type for s in ops.SPECS if s.dtypes == ("int8",)}
    assert int8_only and not int8_only & ops.INT16_KINDS


def _int16_unary(op: str, out_q):
    lb = LayerBuilder(seed=2, dtype=np.int16)
    x = lb.input((1, 6), scale=1 / 4096)
    lb.output(lb.op(op, [x], x.shape, *out_q))
    return lb.build()


def _int16_binary(op: str):
    lb = LayerBuilder(seed=2, dtype=np.int16)
    a = lb.input((1, 6), scale=1 / 4096)
    b = lb.input((1, 6), scale=1 / 2048)
    lb.output(lb.op(op, [a, b], a.shape, 1 / 1024, 0))
    return lb.build()


@pytest.mark.parametrize("op,model", [
    ("HARD_SWISH", lambda: _int16_unary("HARD_SWISH", (1 / 4096, 0))),
    ("SQUARED_DIFFERENCE", lambda: _int16_binary("SQUARED_DIFFERENCE")),
])
def test_dtype_guard_refuses_int16_of_int8_only_operators(op, model):
    """The guard of the spec (not an extractor's own check) names the operator and the
    dtypes its kernel takes."""
    assert "int16" not in ops.BY_KIND[next(s.kind for s in ops.SPECS if s.op_type == op)].dtypes
    with pytest.raises(byoc.ByocError,
                       match=rf"{op} #0 would be computed in float: int16 {op} has no integer "
                             r"kernel on the generic path \(byoc and TFLM: int8\)"):
        byoc.compile(model(), target="c")
