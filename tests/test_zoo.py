"""Bundled reference networks (byoc.zoo) and the real trained models in tests/data/models.

* The MLPerf Tiny networks built by our TFLite writer: deterministic from their seed, the
  reference architectures (operator sequence, shapes, MACs computed here from the layer
  list), int8 with per-channel weights, activations spread over the int8 range (not
  collapsed, not saturated), loadable by TFLM, bit-exact with TFLM on the host and on the
  Corstone-300 (QEMU).
* Real int8 models trained by Silicon Labs' MLTK (see tests/data/models/README.md), with
  their dynamic batch pinned to 1: bit-exact with TFLM.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tflite

import byoc
from byoc import reference
from byoc.tflite.reader import load_model
from byoc.validate import random_inputs
from byoc.zoo import MLPERF_TINY, MODELS, ds_cnn, small_cnn
from toolchain import require_tools

DATA = Path(__file__).parent / "data" / "models"


def needs_toolchain():
    require_tools()


# ------------------------------------------------------------------ architectures

def _conv_macs(h, w, cout, kh, kw, cin):
    return h * w * cout * kh * kw * cin


def _ds_cnn_macs():
    return (_conv_macs(25, 5, 64, 10, 4, 1)
            + 4 * (_conv_macs(25, 5, 64, 3, 3, 1) + _conv_macs(25, 5, 64, 1, 1, 64))
            + 64 * 12)


MOBILENET_BLOCKS = [  # (output size, input channels, output channels) of each separable block
    (48, 8, 16), (24, 16, 32), (24, 32, 32), (12, 32, 64), (12, 64, 64), (6, 64, 128),
    (6, 128, 128), (6, 128, 128), (6, 128, 128), (6, 128, 128), (6, 128, 128), (3, 128, 256),
    (3, 256, 256)]


def _mobilenet_macs():
    macs = _conv_macs(48, 48, 8, 3, 3, 3) + 256 * 2
    for size, cin, cout in MOBILENET_BLOCKS:
        macs += _conv_macs(size, size, cin, 3, 3, 1) + _conv_macs(size, size, cout, 1, 1, cin)
    return macs


def _resnet8_macs():
    return (_conv_macs(32, 32, 16, 3, 3, 3)
            + 2 * _conv_macs(32, 32, 16, 3, 3, 16)
            + _conv_macs(16, 16, 32, 3, 3, 16) + _conv_macs(16, 16, 32, 3, 3, 32)
            + _conv_macs(16, 16, 32, 1, 1, 16)
            + _conv_macs(8, 8, 64, 3, 3, 32) + _conv_macs(8, 8, 64, 3, 3, 64)
            + _conv_macs(8, 8, 64, 1, 1, 32)
            + 64 * 10)


def _autoencoder_macs():
    dims = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
    return sum(a * b for a, b in zip(dims, dims[1:]))


DW, CONV, FC = "DEPTHWISE_CONV_2D", "CONV_2D", "FULLY_CONNECTED"
HEAD = ["AVERAGE_POOL_2D", "RESHAPE", FC, "SOFTMAX"]
ARCH = {
    # ops, input shape, output shape, MACs, parameters (weights + biases)
    "ds_cnn": ([CONV] + [DW, CONV] * 4 + HEAD, (1, 49, 10, 1), (1, 12), _ds_cnn_macs()),
    "mobilenet_v1_025": ([CONV] + [DW, CONV] * 13 + HEAD, (1, 96, 96, 3), (1, 2),
                         _mobilenet_macs()),
    "resnet8": ([CONV] + [CONV, CONV, "ADD"] + [CONV, CONV, CONV, "ADD"] * 2 + HEAD,
                (1, 32, 32, 3), (1, 10), _resnet8_macs()),
    "fc_autoencoder": ([FC] * 10, (1, 640), (1, 640), _autoencoder_macs()),
}


def test_registry():
    assert set(MLPERF_TINY) == set(ARCH)
    assert set(MODELS) == {"small_cnn", *MLPERF_TINY}
    assert MODELS["small_cnn"] is small_cnn


@pytest.mark.parametrize("name", MLPERF_TINY)
def test_reference_architecture(name):
    ops, in_shape, out_shape, macs = ARCH[name]
    m = load_model(MODELS[name]())
    assert [op.type for op in m.operators] == ops
    assert [t.shape for t in m.inputs] == [in_shape] and [t.shape for t in m.outputs] == [out_shape]
    assert m.total_macs() == macs
    assert m.precision() == "int8" and not m.dynamic_tensors()
    # int8 activations, int8 per-channel weights, int32 biases
    for op in m.operators:
        if op.type in (CONV, DW, FC):
            w, b = (m.tensors[i] for i in op.inputs[1:3])
            assert w.dtype == "int8" and w.is_per_channel and b.dtype == "int32"
            out = m.tensors[op.outputs[0]]
            assert out.dtype == "int8" and len(out.scale) == 1


def test_published_sizes():
    """MLPerf Tiny's reference figures: ~2.7 M, 7.5 M, 12.5 M and 0.26 M MACs."""
    macs = {n: load_model(MODELS[n]()).total_macs() for n in MLPERF_TINY}
    assert macs == {"ds_cnn": 2_656_768, "mobilenet_v1_025": 7_489_664,
                    "resnet8": 12_501_632, "fc_autoencoder": 264_192}


@pytest.mark.parametrize("name", MLPERF_TINY)
def test_deterministic_from_seed(name):
    fn = MODELS[name]
    assert fn() == fn()
    assert fn(seed=11) == fn(seed=11) != fn()


def test_ds_cnn_pool_covers_the_feature_map():
    m = load_model(ds_cnn())
    pool = next(op for op in m.operators if op.type == "AVERAGE_POOL_2D")
    assert m.tensors[pool.inputs[0]].shape == (1, 25, 5, 64)
    assert m.tensors[pool.outputs[0]].shape == (1, 1, 1, 64)


@pytest.mark.parametrize("name", MLPERF_TINY)
def test_activations_use_the_int8_range(name):
    """Realistic quantization: on random inputs every layer's output spreads over the int8
    range (TFLM's intermediate tensors): not collapsed to a few values, rarely saturated."""
    from tflite_micro import runtime
    data = MODELS[name]()
    m = load_model(data)
    interp = runtime.Interpreter.from_bytes(
        data, arena_size=reference.tflm_arena_size(sum(t.nbytes for t in m.activation_tensors())),
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    for sample in random_inputs(m, 2, seed=3):
        interp.set_input(sample[0], 0)
        interp.invoke()
        for op in m.operators:
            if op.type in ("RESHAPE", "SOFTMAX"):
                continue
            t = np.asarray(interp.GetTensor(op.outputs[0], 0)["tensor_data"])
            assert t.size and t.std() > 5, (op.index, op.type, t.std())
            assert (t == 127).mean() < 0.15, (op.index, op.type, (t == 127).mean())
        out = np.asarray(interp.get_output(0))
        assert len(np.unique(out)) > 1


# ------------------------------------------------------------------ bit-exactness

@pytest.mark.parametrize("name", MLPERF_TINY)
def test_bit_exact_on_host(name, tmp_path):
    res = byoc.validate(MODELS[name](), backend="host", inputs=3, seed=0, work_dir=tmp_path)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0 and res.tolerance == 0


@pytest.mark.parametrize("name", MLPERF_TINY)
def test_bit_exact_on_qemu(name, tmp_path):
    needs_toolchain()
    res = byoc.validate(MODELS[name](), backend="qemu", inputs=2, seed=1, work_dir=tmp_path)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.details == []
    assert res.instructions > load_model(MODELS[name]()).total_macs()  # at least 1 per MAC
    assert res.code_bytes > 0 and res.rodata_bytes >= res.constant_bytes
    assert res.arena_bytes >= res.arena_lower_bound_bytes > 0


# ------------------------------------------------------------------ real trained models

def pin_batch(data: bytes) -> bytes:
    """The model with its dynamic batch dimension (-1 first in a ``shape_signature``, 1 in
    ``shape``) pinned to 1, in place in the flatbuffer: what TFLM executes anyway."""
    buf = bytearray(data)
    model = tflite.Model.GetRootAs(bytes(buf), 0)
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        for i in range(sg.TensorsLength()):
            t = sg.Tensors(i)
            field = t._tab.Offset(18)  # Tensor.shape_signature
            if not field:
                continue
            start = t._tab.Vector(field)
            for j in range(t.ShapeSignatureLength()):
                if t.ShapeSignature(j) < 0:
                    assert j == 0 and t.Shape(0) == 1, (t.Name(), j)
                    struct.pack_into("<i", buf, start + 4 * j, 1)
    return bytes(buf)


REAL = ["keyword_spotting", "image_classification", "visual_wake_words"]


def real_model(name: str) -> bytes:
    return (DATA / f"mltk_{name}.tflite").read_bytes()


def test_real_models_have_a_dynamic_batch_that_pinning_removes():
    for name in REAL + ["anomaly_detection"]:
        data = real_model(name)
        assert [t.shape_signature[0] for t in load_model(data).dynamic_tensors()][:1] == [-1]
        pinned = load_model(pin_batch(data))
        assert not pinned.dynamic_tensors()
        assert len(pin_batch(data)) == len(data)


@pytest.mark.parametrize("name", REAL)
def test_real_model_bit_exact_on_host(name, tmp_path):
    model = load_model(pin_batch(real_model(name)))
    assert model.precision() == "int8"
    res = byoc.validate(model, backend="host", inputs=3, seed=0, work_dir=tmp_path)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0


def test_real_keyword_spotting_bit_exact_on_qemu(tmp_path):
    needs_toolchain()
    res = byoc.validate(pin_batch(real_model("keyword_spotting")), backend="qemu", inputs=2,
                        work_dir=tmp_path)
    assert res.status == "pass", res
    assert res.mismatches == 0 and res.max_abs_diff == 0 and res.instructions > 0


def test_real_anomaly_detection_bit_exact_on_host(tmp_path):
    """Its output RESHAPE takes a shape computed by SHAPE -> STRIDED_SLICE -> PACK, and its
    batch is dynamic in the file: both are compiled as static shapes (batch 1)."""
    res = byoc.validate(real_model("anomaly_detection"), backend="host", inputs=2,
                        work_dir=tmp_path)
    assert res.status == "pass", res
