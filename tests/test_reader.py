"""Tests for byoc.tflite.reader: loading, validation and description of TFLite models.

Expected shapes, quantization and MAC counts are computed here by hand from the layer
parameters, independently of the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite

from byoc.errors import ByocError, ModelError
from byoc.tflite import builder as builder_mod
from byoc.tflite.builder import LayerBuilder, ModelBuilder, Quant
from byoc.tflite.reader import (FILE_IDENTIFIER, TFLiteModel, format_info, load_model)

LABEL = "model_under_test.tflite"


# -----------------------------------------------------------------------------------------
# helpers
# -----------------------------------------------------------------------------------------


def expect_error(source, label: str, *fragments: str, cls=ModelError) -> str:
    """load_model(source) must raise ``cls`` with a one-line message naming ``label``."""
    kwargs = {} if not isinstance(source, (bytes, bytearray)) else {"name": label}
    with pytest.raises(cls) as info:
        load_model(source, **kwargs)
    msg = str(info.value)
    assert isinstance(info.value, ByocError)
    assert label in msg, msg
    assert "\n" not in msg and msg.strip() == msg, repr(msg)
    for frag in fragments:
        assert frag.lower() in msg.lower(), f"{frag!r} not in {msg!r}"
    return msg


def small_model(seed: int = 0) -> bytes:
    lb = LayerBuilder(seed=seed)
    x = lb.input((1, 6, 6, 2))
    y = lb.conv2d(x, 4, 3, activation="RELU")
    lb.output(lb.softmax(lb.fully_connected(lb.reshape(y, (1, -1)), 3)))
    return lb.build()


def big_model() -> bytes:
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 16, 16, 3))
    y = lb.conv2d(x, 8, 3, stride=2)
    y = lb.depthwise_conv2d(y, 3)
    y = lb.avg_pool2d(y)
    lb.output(lb.fully_connected(lb.reshape(y, (1, -1)), 10))
    return lb.build()


def raw_model(n_subgraphs: int = 1, version: int = 3,
              opcode: tuple[int | None, int | None] = (25, 25)) -> bytes:
    """A hand-written flatbuffer: ``n_subgraphs`` copies of x -> op -> y (int8 [1, 4]).

    ``opcode`` is (deprecated_builtin_code, builtin_code); None leaves a field unset (as
    old converters did for builtin_code).
    """
    b = flatbuffers.Builder(256)

    def ivec(start, values):
        start(b, len(values))
        for v in reversed(values):
            b.PrependInt32(v)
        return b.EndVector()

    def tvec(start, offs):
        start(b, len(offs))
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    tflite.BufferStart(b)
    empty = tflite.BufferEnd(b)
    subgraphs = []
    for _ in range(n_subgraphs):
        tensors = []
        for name in ("x", "y"):
            n = b.CreateString(name)
            shape = ivec(tflite.TensorStartShapeVector, [1, 4])
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape)
            tflite.TensorAddType(b, tflite.TensorType.INT8)
            tflite.TensorAddName(b, n)
            tensors.append(tflite.TensorEnd(b))
        ins = ivec(tflite.OperatorStartInputsVector, [0])
        outs = ivec(tflite.OperatorStartOutputsVector, [1])
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, 0)
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        op = tflite.OperatorEnd(b)
        tv = tvec(tflite.SubGraphStartTensorsVector, tensors)
        ov = tvec(tflite.SubGraphStartOperatorsVector, [op])
        iv = ivec(tflite.SubGraphStartInputsVector, [0])
        outv = ivec(tflite.SubGraphStartOutputsVector, [1])
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tv)
        tflite.SubGraphAddOperators(b, ov)
        tflite.SubGraphAddInputs(b, iv)
        tflite.SubGraphAddOutputs(b, outv)
        subgraphs.append(tflite.SubGraphEnd(b))
    tflite.OperatorCodeStart(b)
    if opcode[0] is not None:
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, opcode[0])
    if opcode[1] is not None:
        tflite.OperatorCodeAddBuiltinCode(b, opcode[1])
    tflite.OperatorCodeAddVersion(b, 1)
    oc = tflite.OperatorCodeEnd(b)
    ocv = tvec(tflite.ModelStartOperatorCodesVector, [oc])
    sgv = tvec(tflite.ModelStartSubgraphsVector, subgraphs)
    bv = tvec(tflite.ModelStartBuffersVector, [empty])
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, version)
    tflite.ModelAddOperatorCodes(b, ocv)
    tflite.ModelAddSubgraphs(b, sgv)
    tflite.ModelAddBuffers(b, bv)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def same(size: int, stride: int) -> int:
    return -(-size // stride)


def valid(size: int, k: int, stride: int, dilation: int = 1) -> int:
    return (size - (k - 1) * dilation - 1) // stride + 1


# -----------------------------------------------------------------------------------------
# bad inputs
# -----------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    p = tmp_path / "nope.tflite"
    expect_error(p, str(p), "no such file")
    expect_error(str(p), str(p), "no such file")


def test_missing_parent_directory(tmp_path):
    p = tmp_path / "a_file"
    p.write_bytes(b"x")
    expect_error(p / "model.tflite", str(p / "model.tflite"), "no such file")


def test_directory(tmp_path):
    expect_error(tmp_path, str(tmp_path), "directory")


def test_unreadable_file(tmp_path, monkeypatch):
    p = tmp_path / "locked.tflite"
    p.write_bytes(small_model())

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    expect_error(p, str(p), "cannot read", "permission denied")


def test_unreadable_file_chmod(tmp_path):
    import os
    if os.geteuid() == 0:
        pytest.skip("root can read mode-000 files")
    p = tmp_path / "locked.tflite"
    p.write_bytes(small_model())
    p.chmod(0)
    try:
        expect_error(p, str(p), "cannot read")
    finally:
        p.chmod(0o644)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.tflite"
    p.write_bytes(b"")
    expect_error(p, str(p), "empty")
    expect_error(b"", LABEL, "empty")


def test_tiny_file(tmp_path):
    p = tmp_path / "tiny.tflite"
    p.write_bytes(b"\x10\x00\x00\x00TF")
    expect_error(p, str(p), "too small")


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(7)
    p = tmp_path / "noise.bin"
    p.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    expect_error(p, str(p), "not a TFLite model", "TFL3")


def test_random_bytes_with_identifier():
    rng = np.random.default_rng(8)
    for _ in range(50):
        data = bytearray(rng.integers(0, 256, int(rng.integers(8, 2000)), dtype=np.uint8))
        data[4:8] = FILE_IDENTIFIER
        expect_error(bytes(data), LABEL, "corrupt")


def test_wrong_identifier(tmp_path):
    data = bytearray(small_model())
    data[4:8] = b"TFL2"
    p = tmp_path / "old.tflite"
    p.write_bytes(bytes(data))
    msg = expect_error(p, str(p), "not a TFLite model", "file identifier")
    assert "TFL2" in msg


def test_text_file(tmp_path):
    p = tmp_path / "model.tflite"
    p.write_text("this is not a model, just some text\n")
    expect_error(p, str(p), "not a TFLite model")


@pytest.mark.parametrize("fraction", [0.05, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_file(tmp_path, fraction):
    data = big_model()
    p = tmp_path / "cut.tflite"
    p.write_bytes(data[:max(8, int(len(data) * fraction))])
    expect_error(p, str(p), "truncated")


def test_truncated_every_length():
    """Every proper prefix of a valid model is rejected with ModelError, nothing else."""
    data = small_model()
    load_model(data)  # the full model is fine
    for n in range(len(data)):
        with pytest.raises(ModelError) as info:
            load_model(data[:n], name=LABEL)
        assert LABEL in str(info.value)


def test_trailing_bytes_are_accepted():
    # Bytes after the flatbuffer are legal (large models store buffers there).
    m = load_model(small_model() + b"\0" * 64)
    assert m.operators[0].type == "CONV_2D"


def test_corrupted_bytes_never_escape_as_other_errors():
    """Random byte corruption either still loads or raises ModelError (fuzz)."""
    base = small_model()
    rng = np.random.default_rng(3)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        data = bytearray(base)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(8, len(data)))
            data[pos] = int(rng.integers(0, 256))
        try:
            m = load_model(bytes(data), name=LABEL)
            format_info(m)
            json.dumps(m.summary())
            outcomes["ok"] += 1
        except ModelError as e:
            assert LABEL in str(e) and "\n" not in str(e)
            outcomes["error"] += 1
    assert outcomes["error"] > 0


def test_corrupted_root_offset():
    data = bytearray(small_model())
    data[0:4] = (len(data) + 100).to_bytes(4, "little")
    expect_error(bytes(data), LABEL, "corrupt")


def test_no_subgraph():
    expect_error(raw_model(n_subgraphs=0), LABEL, "0 subgraphs", "single-subgraph")


def test_two_subgraphs(tmp_path):
    p = tmp_path / "two.tflite"
    p.write_bytes(raw_model(n_subgraphs=2))
    expect_error(p, str(p), "2 subgraphs", "only single-subgraph models are supported")


def test_schema_version():
    expect_error(raw_model(version=2), LABEL, "schema version 2")


def test_operator_input_out_of_range():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    y = mb.add_tensor("y", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.add_operator("RELU", [x], [y])
    mb.add_operator("RELU", [7], [y])
    mb.set_io([x], [y])
    expect_error(mb.build(), LABEL, "operator 1", "RELU", "tensor 7", "input 0")


def test_operator_output_out_of_range():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.add_operator("RELU", [x], [-1])
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "operator 0", "output 0", "tensor -1")


def test_optional_input_minus_one_is_accepted():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 8), np.int8, quant=Quant.per_tensor(0.1, 0))
    w = mb.add_tensor("w", (4, 8), np.int8, np.ones((4, 8)), Quant.per_tensor(0.01, 0))
    y = mb.add_tensor("y", (1, 4), np.int8, quant=Quant.per_tensor(0.2, 0))
    mb.add_operator("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnectedOptions", {})
    mb.set_io([x], [y])
    m = load_model(mb.build())
    assert m.operators[0].inputs == [0, 1, -1]
    assert m.operators[0].macs == 4 * 8


def test_subgraph_io_out_of_range():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.set_io([x], [5])
    expect_error(mb.build(), LABEL, "subgraph output 0", "tensor 5")


def test_tensor_buffer_out_of_range():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.tensors[x].buffer = 42
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "tensor 0 'x'", "buffer 42")


def test_opcode_index_out_of_range():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.add_operator("RELU", [x], [x])
    mb.operators[0].opcode = 3
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "operator 0", "operator code 3")


def test_constant_size_mismatch():
    mb = ModelBuilder()
    w = mb.add_tensor("w", (2, 3), np.int8, np.zeros((2, 3)))
    mb.tensors[w].shape = (2, 4)
    mb.set_io([w], [w])
    expect_error(mb.build(), LABEL, "tensor 0 'w'", "6 bytes")


@pytest.mark.parametrize("np_dtype,tfl_type,tname", [
    (np.complex64, tflite.TensorType.COMPLEX64, "COMPLEX64"),
    (np.void, tflite.TensorType.STRING, "STRING"),
    (np.uint16, tflite.TensorType.INT4, "INT4"),
    (np.dtype("V2"), 99, "unknown type code 99"),
])
def test_unsupported_tensor_type(monkeypatch, tmp_path, np_dtype, tfl_type, tname):
    monkeypatch.setitem(builder_mod._NP_TO_TFL, np.dtype(np_dtype), tfl_type)
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    s = mb.add_tensor("odd", (1, 4), np_dtype)
    mb.add_operator("ADD", [x, s], [x])
    mb.set_io([x], [x])
    p = tmp_path / "odd.tflite"
    p.write_bytes(mb.build())
    expect_error(p, str(p), "tensor 1 'odd'", "unsupported type", tname)


def test_quantization_length_mismatch():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant([0.1, 0.2], [0]))
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "tensor 0 'x'", "2 quantization scales", "1 zero points")


def test_per_channel_axis_mismatch():
    mb = ModelBuilder()
    w = mb.add_tensor("w", (3, 4), np.int8, np.zeros((3, 4)),
                      Quant([0.1, 0.2], [0, 0], axis=0))
    mb.set_io([w], [w])
    expect_error(mb.build(), LABEL, "tensor 0 'w'", "per-channel")


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf")])
def test_invalid_scale(bad):
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(bad, 0))
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "tensor 0 'x'", "scale")


def test_zero_scale_is_tolerated():
    mb = ModelBuilder()
    w = mb.add_tensor("w", (2, 4), np.int8, np.zeros((2, 4)), Quant([0.0, 0.1], [0, 0]))
    mb.set_io([w], [w])
    assert load_model(mb.build()).tensors[0].scale == [0.0, pytest.approx(0.1)]


def test_signature_rank_mismatch():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0),
                      shape_signature=(-1, 4, 1))
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "tensor 0 'x'", "shape signature")


def test_newline_in_tensor_name_keeps_message_one_line():
    mb = ModelBuilder()
    x = mb.add_tensor("evil\nname", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.tensors[x].buffer = 9
    mb.set_io([x], [x])
    expect_error(mb.build(), LABEL, "buffer 9")


def test_rejects_non_path_source():
    with pytest.raises(TypeError):
        load_model(123)  # type: ignore[arg-type]


# -- models that load but cannot be compiled ----------------------------------------------


def dynamic_model() -> bytes:
    lb = LayerBuilder(seed=2)
    x = lb.input((1, 8, 8, 3), shape_signature=(-1, 8, 8, 3), name="image")
    lb.output(lb.conv2d(x, 4, 3))
    return lb.build()


def test_dynamic_shape_signature(tmp_path):
    p = tmp_path / "dyn.tflite"
    p.write_bytes(dynamic_model())
    m = load_model(p)
    dyn = m.dynamic_tensors()
    assert [t.name for t in dyn] == ["image"]
    assert dyn[0].shape == (1, 8, 8, 3) and dyn[0].shape_signature == (-1, 8, 8, 3)
    assert m.inputs[0].is_dynamic and not m.outputs[0].is_dynamic
    assert m.summary()["dynamic_tensors"] == [0]
    assert "[?, 8, 8, 3]" in format_info(m) and "dynamic" in format_info(m)
    with pytest.raises(ModelError) as info:
        m.require_static_quantized()
    msg = str(info.value)
    assert str(p) in msg and "dynamic" in msg and "image" in msg and "\n" not in msg


def test_static_signature_is_not_dynamic():
    lb = LayerBuilder()
    x = lb.input((1, 4), shape_signature=(1, 4))
    lb.output(lb.softmax(x))
    m = load_model(lb.build())
    assert m.dynamic_tensors() == []
    assert m.inputs[0].shape_signature == (1, 4)
    m.require_static_quantized()


def float_model() -> bytes:
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 8, 8, 3), np.float32)
    w = mb.add_tensor("w", (4, 3, 3, 3), np.float32, np.ones((4, 3, 3, 3)))
    b = mb.add_tensor("b", (4,), np.float32, np.zeros(4))
    y = mb.add_tensor("y", (1, 6, 6, 4), np.float32)
    mb.add_operator("CONV_2D", [x, w, b], [y], "Conv2DOptions",
                    {"Padding": tflite.Padding.VALID, "StrideW": 1, "StrideH": 1})
    mb.set_io([x], [y])
    return mb.build()


def test_float_model(tmp_path):
    p = tmp_path / "float.tflite"
    p.write_bytes(float_model())
    m = load_model(p)
    assert m.is_float()
    assert m.precision() == "float"
    assert m.inputs[0].dtype == "float32" and m.inputs[0].scale == []
    assert m.operators[0].macs == 1 * 6 * 6 * 4 * 3 * 3 * 3
    s = m.summary()
    assert s["is_float"] is True and s["precision"] == "float"
    assert "float model" in format_info(m)
    with pytest.raises(ModelError) as info:
        m.require_static_quantized()
    msg = str(info.value)
    assert str(p) in msg and "float" in msg and "\n" not in msg


def test_int8_model_with_float_io_is_not_float():
    mb = ModelBuilder()
    q = Quant.per_tensor(0.05, -3)
    xf = mb.add_tensor("xf", (1, 10), np.float32)
    xq = mb.add_tensor("xq", (1, 10), np.int8, quant=q)
    yq = mb.add_tensor("yq", (1, 10), np.int8, quant=Quant.per_tensor(1 / 256, -128))
    yf = mb.add_tensor("yf", (1, 10), np.float32)
    mb.add_operator("QUANTIZE", [xf], [xq])
    mb.add_operator("SOFTMAX", [xq], [yq], "SoftmaxOptions", {"Beta": 1.0})
    mb.add_operator("DEQUANTIZE", [yq], [yf])
    mb.set_io([xf], [yf])
    m = load_model(mb.build())
    assert not m.is_float()
    assert m.precision() == "int8"
    assert [t.name for t in m.activation_tensors()] == ["xq", "yq"]
    m.require_static_quantized()


# -----------------------------------------------------------------------------------------
# good models
# -----------------------------------------------------------------------------------------


def test_load_from_path_str_bytes_and_name(tmp_path):
    data = small_model()
    p = tmp_path / "m.tflite"
    p.write_bytes(data)
    by_path, by_str = load_model(p), load_model(str(p))
    assert by_path.path == p and by_path.name == str(p)
    assert by_str.path == p
    mem = load_model(data)
    assert mem.path is None and mem.name == "<memory>"
    assert load_model(bytearray(data), name="x").name == "x"
    assert load_model(memoryview(data)).data == data
    assert load_model(p, name="alias").name == "alias"
    assert by_path.data == data
    assert isinstance(by_path.model, tflite.Model)
    assert by_path.model.SubgraphsLength() == 1
    assert by_path.description == "byoc test model"


def test_conv2d():
    lb = LayerBuilder(seed=11)
    x = lb.input((1, 15, 17, 3), scale=0.02, zero_point=-5, name="in")
    y = lb.conv2d(x, 8, (3, 5), stride=2, padding="SAME", activation="RELU6")
    z = lb.conv2d(y, 6, 3, stride=1, padding="VALID", dilation=2)
    lb.output(z)
    m = load_model(lb.build())

    oh, ow = same(15, 2), same(17, 2)                     # 8, 9
    assert (oh, ow) == (8, 9)
    zh, zw = valid(oh, 3, 1, 2), valid(ow, 3, 1, 2)       # 4, 5
    assert (zh, zw) == (4, 5)

    inp = m.inputs[0]
    assert inp.name == "in" and inp.shape == (1, 15, 17, 3) and inp.dtype == "int8"
    assert inp.scale == [pytest.approx(0.02)] and inp.zero_point == [-5]
    assert not inp.is_constant and inp.nbytes == 15 * 17 * 3
    assert m.outputs[0].shape == (1, zh, zw, 6)

    c0, c1 = m.operators
    assert c0.type == "CONV_2D" and c1.type == "CONV_2D"
    w0 = m.tensors[c0.inputs[1]]
    assert w0.shape == (8, 3, 5, 3) and w0.is_constant and w0.dtype == "int8"
    assert len(w0.scale) == 8 and w0.quantized_dimension == 0 and w0.zero_point == [0] * 8
    assert w0.is_per_channel and w0.nbytes == 8 * 3 * 5 * 3
    b0 = m.tensors[c0.inputs[2]]
    assert b0.dtype == "int32" and b0.shape == (8,) and b0.nbytes == 32
    for s_b, s_w in zip(b0.scale, w0.scale):
        assert s_b == pytest.approx(0.02 * s_w, rel=1e-6)
    assert m.tensors[c0.outputs[0]].shape == (1, oh, ow, 8)
    assert m.tensors[c0.outputs[0]].zero_point == [-128]  # RELU6 output

    assert c0.options["padding"] == "SAME" and c0.options["activation"] == "RELU6"
    assert c0.options["strides"] == [2, 2] and c0.options["stride_w"] == 2
    assert c0.options["filter_size"] == [3, 5] and c0.options["dilation"] == [1, 1]
    assert c1.options["padding"] == "VALID" and c1.options["dilation"] == [2, 2]
    assert c1.options["activation"] == "NONE"

    assert c0.macs == (1 * oh * ow * 8) * (3 * 5 * 3)     # 25,920
    assert c0.macs == 25920
    assert c1.macs == (1 * zh * zw * 6) * (3 * 3 * 8)
    assert m.total_macs() == c0.macs + c1.macs

    # Constant data round-trips exactly.
    np.testing.assert_array_equal(m.tensor_data(w0),
                                  np.frombuffer(lb.mb.buffers[w0.buffer], np.int8)
                                  .reshape(8, 3, 5, 3))
    assert m.tensor_data(inp) is None


def test_depthwise_conv2d():
    lb = LayerBuilder(seed=12)
    x = lb.input((1, 10, 10, 4))
    y = lb.depthwise_conv2d(x, 3, stride=2, depth_multiplier=2, padding="SAME",
                            activation="RELU")
    lb.output(y)
    m = load_model(lb.build())
    op = m.operators[0]
    assert op.type == "DEPTHWISE_CONV_2D"
    w = m.tensors[op.inputs[1]]
    assert w.shape == (1, 3, 3, 8) and len(w.scale) == 8 and w.quantized_dimension == 3
    out = m.tensors[op.outputs[0]]
    assert out.shape == (1, 5, 5, 8)
    assert op.options["depth_multiplier"] == 2 and op.options["strides"] == [2, 2]
    assert op.options["filter_size"] == [3, 3] and op.options["activation"] == "RELU"
    assert op.macs == (5 * 5 * 8) * (3 * 3) == 1800


@pytest.mark.parametrize("per_channel", [True, False])
def test_fully_connected(per_channel):
    lb = LayerBuilder(seed=13)
    x = lb.input((1, 40))
    y = lb.fully_connected(x, 12, activation="RELU", per_channel=per_channel)
    lb.output(y)
    m = load_model(lb.build())
    op = m.operators[0]
    assert op.type == "FULLY_CONNECTED"
    w = m.tensors[op.inputs[1]]
    assert w.shape == (12, 40) and len(w.scale) == (12 if per_channel else 1)
    assert m.outputs[0].shape == (1, 12)
    assert op.options["activation"] == "RELU" and op.options["keep_num_dims"] is False
    assert op.options["weights_format"] == "DEFAULT"
    assert op.macs == 12 * 40


def test_fully_connected_keep_num_dims():
    lb = LayerBuilder(seed=14)
    x = lb.input((2, 3, 16))
    lb.output(lb.fully_connected(x, 5, keep_num_dims=True))
    m = load_model(lb.build())
    op = m.operators[0]
    assert m.outputs[0].shape == (2, 3, 5) and op.options["keep_num_dims"] is True
    assert op.macs == (2 * 3 * 5) * 16


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_pools(kind):
    lb = LayerBuilder(seed=15)
    x = lb.input((1, 9, 9, 6), scale=0.1, zero_point=3)
    pool = lb.avg_pool2d if kind == "avg" else lb.max_pool2d
    y = pool(x, size=3, stride=2, padding="VALID")
    z = pool(y, size=2, stride=2, padding="SAME")
    lb.output(z)
    m = load_model(lb.build())
    p0, p1 = m.operators
    assert p0.type == p1.type == {"avg": "AVERAGE_POOL_2D", "max": "MAX_POOL_2D"}[kind]
    assert m.tensors[p0.outputs[0]].shape == (1, valid(9, 3, 2), valid(9, 3, 2), 6) \
        == (1, 4, 4, 6)
    assert m.outputs[0].shape == (1, 2, 2, 6)
    assert p0.options["filter_size"] == [3, 3] and p0.options["strides"] == [2, 2]
    assert p0.options["padding"] == "VALID" and p1.options["padding"] == "SAME"
    assert m.outputs[0].scale == [pytest.approx(0.1)] and m.outputs[0].zero_point == [3]
    assert p0.macs == 0 and p1.macs == 0


def test_softmax():
    lb = LayerBuilder(seed=16)
    x = lb.input((1, 10))
    lb.output(lb.softmax(x, beta=0.5))
    m = load_model(lb.build())
    op = m.operators[0]
    assert op.type == "SOFTMAX" and op.options == {"beta": 0.5}
    assert m.outputs[0].scale == [pytest.approx(1 / 256)]
    assert m.outputs[0].zero_point == [-128]
    assert op.macs == 0


def test_add_mul_broadcast():
    lb = LayerBuilder(seed=17)
    a = lb.input((1, 4, 4, 8), scale=0.1, zero_point=0)
    b = lb.constant((1, 1, 1, 8), scale=0.05, zero_point=2)
    s = lb.add(a, b, activation="RELU")
    p = lb.mul(s, a, out_scale=0.3, out_zp=7)
    lb.output(p)
    m = load_model(lb.build())
    add, mul = m.operators
    assert add.type == "ADD" and mul.type == "MUL"
    assert add.options["activation"] == "RELU" and mul.options["activation"] == "NONE"
    const = m.tensors[add.inputs[1]]
    assert const.is_constant and const.shape == (1, 1, 1, 8)
    assert const.scale == [pytest.approx(0.05)] and const.zero_point == [2]
    assert m.tensors[add.outputs[0]].shape == (1, 4, 4, 8)
    assert m.tensors[add.outputs[0]].scale == [pytest.approx((0.1 + 0.05) * 0.7)]
    assert m.outputs[0].scale == [pytest.approx(0.3)] and m.outputs[0].zero_point == [7]
    assert add.macs == 0 and mul.macs == 0


def test_reshape_pad_concat_mean():
    lb = LayerBuilder(seed=18)
    x = lb.input((1, 4, 4, 3))
    r = lb.reshape(x, (1, 16, 3))
    pd = lb.pad(x, [(0, 0), (1, 2), (0, 1), (0, 0)])
    c = lb.concatenation([x, x], axis=3)
    mn = lb.mean(pd, [1, 2], keep_dims=True)
    mn2 = lb.mean(c, [1, 2], keep_dims=False)
    for t in (r, mn, mn2):
        lb.output(t)
    m = load_model(lb.build())
    types = [op.type for op in m.operators]
    assert types == ["RESHAPE", "PAD", "CONCATENATION", "MEAN", "MEAN"]
    reshape, pad, concat, mean1, mean2 = m.operators
    assert reshape.options["new_shape"] == [1, 16, 3]
    assert m.tensors[reshape.outputs[0]].shape == (1, 16, 3)
    assert pad.options["paddings"] == [[0, 0], [1, 2], [0, 1], [0, 0]]
    assert m.tensors[pad.outputs[0]].shape == (1, 4 + 3, 4 + 1, 3)
    assert concat.options["axis"] == 3 and m.tensors[concat.outputs[0]].shape == (1, 4, 4, 6)
    assert mean1.options == {"keep_dims": True, "axis": [1, 2]}
    assert mean2.options == {"keep_dims": False, "axis": [1, 2]}
    assert [t.shape for t in m.outputs] == [(1, 16, 3), (1, 1, 1, 3), (1, 6)]
    shape_tensor = m.tensors[reshape.inputs[1]]
    assert shape_tensor.dtype == "int32" and shape_tensor.is_constant
    assert shape_tensor.scale == [] and shape_tensor.nbytes == 12
    assert m.total_macs() == 0


def full_model() -> tuple[bytes, int]:
    """A small network touching every layer kind, with its MAC count worked out by hand."""
    lb = LayerBuilder(seed=5)
    x = lb.input((1, 16, 16, 3), name="image")
    y = lb.conv2d(x, 8, 3, stride=2, activation="RELU")      # (1, 8, 8, 8)
    y = lb.depthwise_conv2d(y, 3, depth_multiplier=2)          # (1, 8, 8, 16)
    y = lb.max_pool2d(y)                                       # (1, 4, 4, 16)
    y = lb.pad(y, [(0, 0), (1, 1), (1, 1), (0, 0)])            # (1, 6, 6, 16)
    y = lb.conv2d(y, 16, 1, padding="VALID")                   # (1, 6, 6, 16)
    y = lb.avg_pool2d(y, 3, 3)                                 # (1, 2, 2, 16)
    m = lb.mean(y, [1, 2], keep_dims=False)                    # (1, 16)
    z = lb.add(m, lb.constant((1, 16)))
    z = lb.mul(z, z)
    z = lb.concatenation([z, m], axis=-1)                      # (1, 32)
    f = lb.fully_connected(lb.reshape(z, (1, -1)), 10)         # (1, 10)
    lb.output(lb.softmax(f))
    macs = (8 * 8 * 8) * (3 * 3 * 3) + (8 * 8 * 16) * (3 * 3) + (6 * 6 * 16) * 16 + 10 * 32
    return lb.build(), macs


def test_full_model_counts_summary_and_info(tmp_path):
    data, macs = full_model()
    p = tmp_path / "net.tflite"
    p.write_bytes(data)
    m = load_model(p)
    assert isinstance(m, TFLiteModel)
    assert m.total_macs() == macs == 13824 + 9216 + 9216 + 320
    assert m.operator_counts() == {
        "CONV_2D": 2, "DEPTHWISE_CONV_2D": 1, "MAX_POOL_2D": 1, "PAD": 1,
        "AVERAGE_POOL_2D": 1, "MEAN": 1, "ADD": 1, "MUL": 1, "CONCATENATION": 1,
        "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1}
    assert not m.is_float() and m.precision() == "int8"
    assert m.dynamic_tensors() == []
    m.require_static_quantized()
    assert [op.index for op in m.operators] == list(range(13))

    s = m.summary()
    round_trip = json.loads(json.dumps(s))
    assert round_trip == s
    assert s["inputs"][0]["name"] == "image" and s["inputs"][0]["shape"] == [1, 16, 16, 3]
    assert s["inputs"][0]["dtype"] == "int8"
    assert s["inputs"][0]["scale"] == [pytest.approx(0.05)]
    assert s["inputs"][0]["zero_point"] == [-128]
    assert s["outputs"][0]["shape"] == [1, 10]
    assert s["outputs"][0]["zero_point"] == [-128]
    assert s["total_macs"] == macs and s["is_float"] is False and s["precision"] == "int8"
    assert s["operators"][0] == {"index": 0, "type": "CONV_2D", "macs": 13824,
                                 "inputs": m.operators[0].inputs,
                                 "outputs": m.operators[0].outputs}
    assert s["operator_counts"]["CONV_2D"] == 2
    assert s["size_bytes"] == len(data)

    text = format_info(m)
    assert str(p) in text
    assert "image" in text and "[1, 16, 16, 3]" in text and "scale=0.05 zp=-128" in text
    assert "DEPTHWISE_CONV_2D" in text and "13,824" in text
    assert f"Total MACs: {macs:,}" in text
    assert "precision: int8" in text
    assert "Warning" not in text
    for op in m.operators:
        json.dumps(op.options)  # plain values only


def test_opcode_codes_deprecated_and_extended():
    # Old files: only the int8 deprecated field is set.
    assert load_model(raw_model(opcode=(25, None))).operators[0].type == "SOFTMAX"
    # New files: builtin_code > 127 with the placeholder in the deprecated field.
    assert load_model(raw_model(opcode=(127, 150))).operators[0].type == "GELU"
    # builtin_code set, deprecated field left at its default.
    m = load_model(raw_model(opcode=(None, 14)))
    assert m.operators[0].type == "LOGISTIC" and m.operators[0].opcode == 14
    m = load_model(raw_model(opcode=(127, 4000)))
    assert m.operators[0].type == "UNKNOWN_BUILTIN_4000"


def test_builder_opcode_above_127():
    lb = LayerBuilder()
    x = lb.input((1, 8))
    lb.output(lb.op("GELU", [x], (1, 8), 0.05, 0))
    m = load_model(lb.build())
    assert m.operators[0].type == "GELU" and m.operators[0].opcode == 150


def test_custom_operator():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    y = mb.add_tensor("y", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    mb.add_operator("CUSTOM", [x], [y], custom_code="ethos-u", custom_options=b"\x01\x02\x03")
    mb.set_io([x], [y])
    m = load_model(mb.build())
    op = m.operators[0]
    assert op.type == "CUSTOM:ethos-u" and op.custom_code == "ethos-u"
    assert op.options == {"custom_options_size": 3} and op.macs == 0
    assert m.operator_counts() == {"CUSTOM:ethos-u": 1}
    assert "CUSTOM:ethos-u" in format_info(m)


def test_model_without_operators_and_scalar_tensor():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (), np.int8, quant=Quant.per_tensor(0.5, 1))
    mb.set_io([x], [x])
    m = load_model(mb.build())
    t = m.inputs[0]
    assert t.shape == () and t.num_elements == 1 and t.nbytes == 1
    assert m.operators == [] and m.total_macs() == 0 and m.operator_counts() == {}
    assert "Total MACs: 0" in format_info(m)
    assert m.precision() == "int8"


def test_per_channel_description():
    lb = LayerBuilder(seed=3)
    x = lb.input((1, 4, 4, 2))
    lb.output(lb.conv2d(x, 4, 1))
    m = load_model(lb.build())
    w = m.tensors[m.operators[0].inputs[1]]
    text = w.describe_quantization()
    assert "per-channel axis 0" in text and "4 scales" in text and "zp=0" in text
    assert m.inputs[0].describe_quantization() == "scale=0.05 zp=-128"


def test_int16_and_other_dtypes():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (2, 3), np.int16, quant=Quant.per_tensor(0.001, 0))
    y = mb.add_tensor("y", (2, 3), np.int16, quant=Quant.per_tensor(0.001, 0))
    c = mb.add_tensor("c", (3,), np.int64, np.arange(3))
    f = mb.add_tensor("f", (2,), np.bool_, np.array([True, False]))
    mb.add_operator("RELU", [x], [y])
    mb.set_io([x], [y])
    m = load_model(mb.build())
    assert m.precision() == "int16"
    assert m.tensors[c].dtype == "int64" and m.tensors[c].nbytes == 24
    assert m.tensor_data(c).tolist() == [0, 1, 2]
    assert m.tensors[f].dtype == "bool" and m.tensor_data(f).tolist() == [True, False]
