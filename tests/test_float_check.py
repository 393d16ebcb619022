"""The float check: a quantized operator without an integer kernel is refused by default.

SIN on int8 tensors is imported by TVM's frontend as dequantize -> sin -> quantize and has
no integer kernel (TFLM has none either), so it stays a float computation for good.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import byoc
from byoc.cli import main
from byoc.errors import UnsupportedOperatorError
from byoc.tflite.builder import LayerBuilder


def _conv_sin_conv() -> bytes:
    lb = LayerBuilder(seed=3)
    x = lb.input((1, 6, 6, 4))
    y = lb.conv2d(x, 4, 3)
    z = lb.op("SIN", [y], y.shape, 1 / 128, 0)
    lb.output(lb.conv2d(z, 4, 1))
    return lb.build()


@pytest.fixture()
def sin_model(tmp_path):
    path = tmp_path / "sin.tflite"
    path.write_bytes(_conv_sin_conv())
    return path


def test_compile_refuses_float_with_index_and_type(sin_model, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UnsupportedOperatorError,
                       match=r"SIN #1 would be computed in float: no integer kernel; "
                             r"pass --allow-float") as info:
        byoc.compile(sin_model, target="c", output_dir=out)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_cli_refusal_exit_code_and_no_output(sin_model, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(sin_model), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SIN #1 would be computed in float" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_allow_float_compiles_and_records(sin_model, tmp_path, target):
    res = byoc.compile(sin_model, target=target, output_dir=tmp_path / "out", allow_float=True)
    meta = json.loads((res.output_dir / "metadata.json").read_text())
    assert meta["allow_float"] is True
    assert [(f["index"], f["type"], f["reason"]) for f in meta["float_operators"]] == \
        [(1, "SIN", "no integer kernel")]
    assert "relax.sin" in meta["float_operators"][0]["relax_ops"]


def test_integer_model_records_no_float(tmp_path):
    lb = LayerBuilder(seed=1)
    lb.output(lb.conv2d(lb.input((1, 5, 5, 3)), 4, 3))
    res = byoc.compile(lb.build(), target="c", output_dir=tmp_path / "out")
    assert res.metadata["float_operators"] == [] and res.metadata["allow_float"] is False


def test_info_shows_float_operators(sin_model, capsys):
    assert main(["info", str(sin_model)]) == 0
    text = capsys.readouterr().out
    assert "Computed in float (1 operator(s)" in text
    assert any(line.split()[:2] == ["1", "SIN"] for line in text.splitlines())
    assert main(["info", str(sin_model), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [f["type"] for f in summary["float_operators"]] == ["SIN"]


def test_info_placement_marks_float(sin_model, capsys):
    assert main(["info", str(sin_model), "--target", "cmsis-nn,c"]) == 0
    lines = [ln.split(None, 3) for ln in capsys.readouterr().out.splitlines()]
    row = [ln for ln in lines if ln[:2] == ["1", "SIN"]][-1]
    assert row[2] == "generic" and row[3].startswith("computed in float")


def test_skipped_chain_reason_is_named():
    # a 16x8 depthwise with an int32 bias is matched but left in float (TFLM reads int64)
    lb = LayerBuilder(seed=2, dtype=np.int16)
    lb.bias_dtype = np.int32
    lb.output(lb.depthwise_conv2d(lb.input((1, 6, 6, 4)), 3))
    with pytest.raises(UnsupportedOperatorError,
                       match=r"DEPTHWISE_CONV_2D #0 would be computed in float: int16 "
                             r"DEPTHWISE_CONV_2D with an int32 bias"):
        byoc.compile(lb.build(), target="c")


def test_float_model_is_not_checked(tmp_path):
    lb = LayerBuilder(seed=0)
    x = lb.input((1, 8), dtype=np.float32)
    y = lb.mb.add_tensor("y", (1, 8), np.float32)
    lb.mb.add_operator("LOGISTIC", [x.index], [y])
    lb.mb.outputs.append(y)
    res = byoc.compile(lb.build(), target="c", output_dir=tmp_path / "out")
    assert res.metadata["float_operators"] == []
