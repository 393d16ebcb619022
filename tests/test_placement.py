"""byoc.placement: where each TFLite operator goes for every target, exact by operator index.

The model is built so that each operator's placement is known by construction:
RELU_N1_TO_1 has no CMSIS-NN kernel and is not offered to Vela (generic C on every
target), RESHAPE is a view (no code) on the CPU targets, the convolutions and the fully
connected layer are CMSIS-NN v7 kernels. ``byoc info``'s rows and ``byoc.compile``'s metadata must agree.
"""

import pytest

import byoc
import byoc.compiler
from byoc.placement import OperatorPlacement, format_table
from byoc.tflite.builder import LayerBuilder

GEN_OP, VIEW = 3, 4


def _model() -> bytes:
    lb = LayerBuilder(seed=3)
    x = lb.input((1, 16, 16, 4))
    y = lb.conv2d(x, 4, 3)
    y = lb.conv2d(y, 4, 1, stride=4)
    y = lb.conv2d(y, 4, 1)
    y = lb.op("RELU_N1_TO_1", [y], y.shape, 0.05, 3, None, None)
    y = lb.reshape(y, (1, 64))
    lb.output(lb.fully_connected(y, 8))
    return lb.build()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("placement") / "m.tflite"
    path.write_bytes(_model())
    return path


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_cpu_targets(model, target):
    rows = byoc.compiler.placement(model, target)
    assert [r["index"] for r in rows] == list(range(6))
    kernels = [0, 1, 2, 5]
    lib = "cmsis-nn" if target.startswith("cmsis-nn") else "generic"
    assert [rows[i]["backend"] for i in kernels] == [lib] * 4
    assert rows[VIEW]["backend"] == "none"
    assert rows[GEN_OP]["backend"] == "generic"
    if lib == "cmsis-nn":
        assert rows[GEN_OP]["reason"] == "no CMSIS-NN kernel for RELU_N1_TO_1"
        assert [rows[i]["reason"] for i in kernels] == ["arm_convolve_wrapper_s8"] * 3 + \
            ["arm_fully_connected_per_channel_s8"]


@pytest.mark.parametrize("target", ["ethos-u55-256,c", "ethos-u55-256,cmsis-nn,c"])
def test_npu_targets(model, tmp_path, target):
    """The NPU rows are the operators of the NPU regions (each region lists its own
    operators), not a count of types; the rest says why the NPU did not take it."""
    rows = byoc.compiler.placement(model, target)
    c = byoc.compile(model, target=target, output_dir=tmp_path / "p")
    assert [{k: op[k] for k in ("index", "type", "backend", "reason")}
            for op in c.metadata["operators"]] == rows
    on_npu = [r["index"] for r in rows if r["backend"] == "ethos-u"]
    assert len(on_npu) == sum(len(r["operators"]) for r in c.metadata["npu_regions"])
    assert GEN_OP not in on_npu and 0 in on_npu
    assert rows[GEN_OP]["backend"] == "generic"
    assert rows[GEN_OP]["reason"].endswith("(not on the NPU: byoc does not offer "
                                          "RELU_N1_TO_1 to Vela)")
    table = format_table([OperatorPlacement(**r) for r in rows], target)
    assert f"{len(on_npu)} on ethos-u" in table and "1 on generic" in table


def test_fused_pad_is_its_own_row(tmp_path):
    """A PAD fused into the following CMSIS-NN convolution is placed at its own index."""
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 8, 8, 4), zero_point=-3)
    p = lb.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    lb.output(lb.conv2d(p, 4, 3, padding="VALID"))
    rows = byoc.compiler.placement(lb.build(), "cmsis-nn,c")
    assert [(r["index"], r["type"], r["backend"]) for r in rows] == \
        [(0, "PAD", "cmsis-nn"), (1, "CONV_2D", "cmsis-nn")]
    assert rows[0]["reason"].startswith("fused into the padding of the following CONV_2D")
