"""SVDF int8 (keyword spotting): the activation state is a TFLite variable tensor that TFLM
updates in place on every invoke; byoc keeps it in the caller-owned state buffer
(``byoc.tflite.state``) and computes the operator with two integer kernels (state update,
output; ``byoc.qnn`` svdf_state / svdf).

* Streams of 20 frames compared with one TFLM interpreter step by step (``validate
  --steps``: then ``<prefix>_reset`` and the first two steps again), on the host with
  AddressSanitizer/UBSan; a bounded random sweep over rank, units, memory size, input
  size, int16/int8 state (TFLM's two integer forms) and the state's zero point; one QEMU
  run on the Corstone-300.
* Refusals: a variable tensor anywhere but SVDF's input 4, SVDF without a bias (TFLM's int8
  Prepare needs it), time weights of another type than the state (TFLM reads both as one
  type).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc import reference
from byoc.errors import ByocError, ModelError
from byoc.tflite.builder import LayerBuilder, Quant, T
from byoc.tflite.reader import load_model
from byoc.validate import random_inputs
from sweep import full_sweep_only, sweep
from toolchain import require_tools


def kws_model(seed: int = 0, state_dtype=np.int16, units: int = 6, rank: int = 2,
              memory: int = 8, depth: int = 12) -> bytes:
    """A keyword-spotting shape: FC (RELU) -> SVDF -> FC -> SOFTMAX."""
    lb = LayerBuilder(seed=seed)
    x = lb.input((1, 1, 1, 16), scale=0.1)
    h = lb.fully_connected(lb.reshape(x, (1, 16)), depth, activation="RELU")
    s = lb.svdf(h, units, rank, memory, state_dtype=state_dtype)
    lb.output(lb.softmax(lb.fully_connected(s, 3)))
    return lb.build()


def _random_case(seed: int, zero_state_zp: bool = False) -> dict:
    """Two SVDF layers in a row, each with random rank, units, memory, input size, state
    dtype and (int8 state) zero point (0 with ``zero_state_zp``: what the CMSIS-NN SVDF
    kernels take)."""
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(2):
        int8_state = bool(rng.integers(0, 2))
        layers.append(dict(units=int(rng.integers(1, 9)), rank=int(rng.integers(1, 4)),
                           memory=int(rng.integers(1, 11)),
                           state_dtype=np.int8 if int8_state else np.int16,
                           state_zp=int(rng.integers(-20, 21))
                           if int8_state and not zero_state_zp else 0))
    return dict(seed=seed, depth=int(rng.integers(1, 33)), layers=layers,
                batch=1 + int(seed % 3 == 2))


def random_model(case: dict) -> bytes:
    lb = LayerBuilder(seed=case["seed"])
    x = lb.input((case["batch"], case["depth"]), scale=0.05,
                 zero_point=int(np.random.default_rng(case["seed"]).integers(-30, 31)))
    for layer in case["layers"]:
        x = lb.svdf(x, **layer)
    lb.output(x)
    return lb.build()


# the bounded case (seed 0) has an int8 and an int16 state
CASES = sweep([_random_case(s) for s in range(12)], bounded=1)


def _describe(case: dict) -> str:
    return f"s{case['seed']}-" + "-".join(
        f"u{l_['units']}r{l_['rank']}m{l_['memory']}{np.dtype(l_['state_dtype']).name}"
        for l_ in case["layers"])


def test_bounded_cases_cover_both_state_types():
    dtypes = {np.dtype(layer["state_dtype"]).name for c in CASES for layer in c["layers"]}
    assert dtypes == {"int8", "int16"}


def test_state_matters_in_tflm():
    """The SVDF's state really persists in TFLM: its stream differs from fresh runs."""
    data = kws_model()
    m = load_model(data)
    frames = random_inputs(m, 3, seed=0)
    act = sum(t.nbytes for t in m.tensors if not t.is_constant)
    stream = reference.run_tflm(data, frames, act, 1)
    fresh = reference.run_tflm(data, frames[2:], act, 1)       # the third frame alone
    assert not np.array_equal(stream[2][0], fresh[0][0])


def test_stateless_form():
    """The variable tensor is a state variable named after it; TFLM's reset values (the
    zero point for int8, 0 for int16); the model keeps its own IO."""
    lb = LayerBuilder(seed=0)
    x = lb.input((1, 5), scale=0.1)
    y = lb.svdf(x, 3, 2, 4, state_dtype=np.int8, state_scale=0.02, state_zp=-7)
    lb.output(lb.svdf(y, 2, 1, 3))
    m = load_model(lb.build())
    assert m.is_stateful and len(m.inputs) == 1 and len(m.outputs) == 1
    v8, v16 = m.state.variables
    assert (v8.shape, v8.dtype, v8.zero_point, v8.scale) == ((1, 24), "int8", [-7], [float(np.float32(0.02))])
    assert (v16.shape, v16.dtype) == ((1, 6), "int16")
    assert np.all(v8.initial == -7) and np.all(v16.initial == 0)
    assert [v.offset for v in m.state.variables] == [0, 32] and m.state.size == 48
    svdfs = [op for op in m.operators if op.type == "SVDF"]
    assert [len(op.outputs) for op in svdfs] == [2, 2]     # output, updated state


def test_integer_kernels(tmp_path):
    """Both halves are integer kernels on the generic path: no float in the generated C;
    the state lives in the state buffer (its size in the header)."""
    c = byoc.compile(kws_model(), target="c", output_dir=tmp_path / "pkg")
    ops_c = (c.output_dir / "src" / "model_ops.c").read_text()
    assert "qsvdf_state" in ops_c and "qsvdf_" in ops_c
    assert "float" not in ops_c and "double" not in ops_c
    assert c.state_bytes == 6 * 2 * 8 * 2
    assert "#define MODEL_STATE_SIZE 192u" in c.header.read_text()


@pytest.mark.parametrize("case", CASES, ids=_describe)
def test_random_stream_host(case, tmp_path):
    r = byoc.validate(random_model(case), target="c", backend="host", steps=20,
                      sanitize=True, work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.mismatches == 0 and r.steps == 20 and r.reset_steps == 2


def _svdf_placement(output_dir) -> list[tuple]:
    meta = json.loads((Path(output_dir) / "metadata.json").read_text())
    return [(o["backend"], o["reason"]) for o in meta["operators"] if o["type"] == "SVDF"]


@full_sweep_only
def test_kws_model_ethos_u_host(tmp_path):
    """Under an Ethos-U target the SVDF (and its state) stays on the CPU, CMSIS-NN."""
    r = byoc.validate(kws_model(seed=1, state_dtype=np.int8), target="ethos-u55-256,cmsis-nn,c",
                      backend="host", steps=20, work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.mismatches == 0 and r.reset_steps == 2
    assert _svdf_placement(r.output_dir) == [("cmsis-nn", "arm_svdf_s8")]


# CMSIS-NN: the state zero point must be 0; seed 1 (two int16 states), seed 4 (two int8)
CMSIS_CASES = sweep([_random_case(s, zero_state_zp=True) for s in (4, 1, 2, 3, 5, 7, 8, 11)],
                    bounded=1)


@pytest.mark.parametrize("case", CMSIS_CASES, ids=_describe)
def test_random_stream_cmsis_nn_host(case, tmp_path):
    """One CMSIS-NN call per SVDF (arm_svdf_s8 / arm_svdf_state_s16_s8 of byoc's library,
    portable C), bit-exact with TFLM over the stream."""
    r = byoc.validate(random_model(case), target="cmsis-nn,c", backend="host", steps=20,
                      sanitize=True, work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.mismatches == 0 and r.reset_steps == 2
    want = [("cmsis-nn", "arm_svdf_s8" if np.dtype(layer["state_dtype"]) == np.int8
             else "arm_svdf_state_s16_s8") for layer in case["layers"]]
    assert _svdf_placement(r.output_dir) == want


def test_cmsis_nn_refuses_a_state_zero_point(tmp_path):
    """An int8 state with a zero point stays generic, with the reason."""
    lb = LayerBuilder(seed=0)
    lb.output(lb.svdf(lb.input((1, 6), scale=0.1), 3, 2, 4, state_dtype=np.int8,
                      state_zp=-9))
    c = byoc.compile(lb.build(), target="cmsis-nn,c", output_dir=tmp_path / "pkg")
    (backend, reason), = _svdf_placement(c.output_dir)
    assert backend == "generic" and "state zero point -9 != 0" in reason


@pytest.mark.parametrize("target, cpu, state", [("c", "cortex-m55", np.int16)] + sweep(
    [pytest.param("cmsis-nn,c", "cortex-m55", np.int8),   # Helium arm_svdf_s8: ctx sums
     pytest.param("cmsis-nn,c", "cortex-m4", np.int16)], bounded=1))
def test_kws_model_qemu(target, cpu, state, tmp_path):
    """20 steps on the Corstone-300, every step and the reset compared."""
    require_tools()
    r = byoc.validate(kws_model(state_dtype=state), target=target, backend="qemu", cpu=cpu,
                      steps=20, work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.mismatches == 0 and len(r.instructions_per_sample) == 22


# ------------------------------------------------------------------ refusals

def _svdf_by_hand(time_dtype=np.int16, state_dtype=np.int16, bias: bool = True) -> bytes:
    lb = LayerBuilder(seed=0)
    mb = lb.mb
    x = lb.input((1, 4), scale=0.1)
    wf = mb.add_tensor("wf", (6, 4), np.int8, np.ones((6, 4)), Quant.per_tensor(0.01, 0))
    wt = mb.add_tensor("wt", (6, 3), time_dtype, np.ones((6, 3)), Quant.per_tensor(0.001, 0))
    b = mb.add_tensor("b", (3,), np.int32, np.zeros(3), Quant.per_tensor(1e-6, 0)) \
        if bias else -1
    st = mb.add_tensor("st", (1, 18), state_dtype, quant=Quant.per_tensor(0.001, 0),
                       is_variable=True)
    y = lb._act((1, 3), 0.1, 0, dtype=np.int8)
    mb.add_operator("SVDF", [x.index, wf, wt, b, st], [y.index], "SVDFOptions", {"Rank": 2})
    lb.output(y)
    return lb.build()


def test_by_hand_model_compiles():
    """The hand-written form of the refusals below compiles when it is well-formed."""
    byoc.compile(_svdf_by_hand(), target="c")


def _refusal(data: bytes, *words: str) -> None:
    with pytest.raises(ByocError) as exc:
        byoc.compile(data, target="c")
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_refuses_svdf_without_bias():
    _refusal(_svdf_by_hand(bias=False), "operator 0 (SVDF)", "needs a bias")


def test_refuses_time_weights_of_another_type():
    _refusal(_svdf_by_hand(time_dtype=np.int16, state_dtype=np.int8), "SVDF", "same type")


def test_refuses_other_variable_tensor_users():
    lb = LayerBuilder(seed=0)
    x = lb.input((1, 4), scale=0.1)
    v = lb.mb.add_tensor("acc", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0),
                         is_variable=True)
    lb.output(lb.add(x, T(v, (1, 4), 0.1, 0)))
    with pytest.raises(ModelError) as exc:
        load_model(lb.build())
    msg = str(exc.value)
    assert "operator 0 (ADD)" in msg and "variable tensor 'acc'" in msg and "SVDF" in msg
