"""Stateful streaming models: CALL_ONCE initialisers, resource variables, the frame-moving
operators (STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, CONCATENATION) and the uint8 output
QUANTIZE, compared with TFLM over a stream of frames (one TFLM interpreter, one byoc state
buffer), then reset and compared again.

* Models written here with byoc's TFLite writer (a ring of frames in a variable; splits,
  slices and a second variable), and real microWakeWord streaming models (Apache-2.0, from
  the pymicro-wakeword wheel, see tests/data/models/streaming/README.md).
* Host runs use AddressSanitizer/UBSan; QEMU runs compare every step on the Corstone-300.
* Refusals: control flow, a computing initialiser, a variable nobody initialises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc import reference
from byoc.errors import ModelError
from byoc.tflite.builder import LayerBuilder, ModelBuilder, Quant, RESOURCE
from byoc.tflite.reader import load_model
from byoc.validate import random_inputs
from sweep import sweep
from toolchain import require_tools

STREAMING = Path(__file__).parent / "data" / "models" / "streaming"
HEY_JARVIS = STREAMING / "hey_jarvis.tflite"
OKAY_NABU = STREAMING / "okay_nabu.tflite"


def ring_model(seed: int = 1) -> bytes:
    """A 4-frame ring buffer in a variable: concat(old ring, new frame) -> conv over the
    window; the newest 3 frames (STRIDED_SLICE with a negative begin) become the ring."""
    lb = LayerBuilder(seed=seed)
    x = lb.input((1, 1, 1, 8), scale=0.1)
    ring = lb.variable((1, 3, 1, 8), scale=0.1, zero_point=-128)
    win = lb.concatenation([lb.read_variable(ring), x], axis=1)
    lb.assign_variable(ring, lb.strided_slice(win, [0, -3, 0, 0], [1, 4, 1, 8]))
    y = lb.conv2d(win, 6, (4, 1), padding="VALID", activation="RELU")
    lb.output(lb.quantize(lb.fully_connected(lb.reshape(y, (1, -1)), 4)))
    return lb.build()


def split_model(seed: int = 2) -> bytes:
    """Two variables (one with a non-uniform initial value), SPLIT, SPLIT_V (with -1),
    SLICE, a five-way CONCATENATION, depthwise + pointwise conv, FC and a uint8 output."""
    lb = LayerBuilder(seed=seed)
    x = lb.input((1, 2, 1, 16), scale=0.1)
    ring = lb.variable((1, 4, 1, 16), scale=0.1, zero_point=-128)
    aux = lb.variable((1, 2, 1, 8), scale=0.1, zero_point=-128,
                      init=np.arange(16).reshape(1, 2, 1, 8) - 100)
    win = lb.concatenation([lb.read_variable(ring), x], axis=1)            # 1x6x1x16
    lb.assign_variable(ring, lb.strided_slice(win, [0, 2, 0, 0], [1, 6, 1, 16]))
    a, b = lb.split(win, 2, axis=3)                                         # 1x6x1x8
    p, q, r = lb.split_v(a, [1, 2, -1], axis=1)
    s = lb.slice(b, [0, 1, 0, 0], [1, 2, -1, -1])
    old_aux = lb.read_variable(aux)
    lb.assign_variable(aux, s)
    cat = lb.concatenation([p, q, r, s, old_aux], axis=1)                   # 1x10x1x8
    y = lb.conv2d(lb.depthwise_conv2d(cat, (3, 1), padding="VALID"), 8, 1, activation="RELU")
    lb.output(lb.quantize(lb.fully_connected(lb.reshape(y, (1, -1)), 3)))
    return lb.build()


def _tflm_fresh(data: bytes, frames) -> list:
    """Each frame through a fresh interpreter (initial state every time)."""
    m = load_model(data)
    act = sum(t.nbytes for t in m.tensors if not t.is_constant)
    return [reference.run_tflm(data, [f], act, len(m.outputs))[0] for f in frames]


@pytest.mark.parametrize("make", [ring_model, split_model])
def test_state_matters_in_tflm(make):
    """The test models really are stateful: TFLM's stream differs from frame-by-frame."""
    data = make()
    m = load_model(data)
    frames = random_inputs(m, 6, seed=0)
    act = sum(t.nbytes for t in m.tensors if not t.is_constant)
    stream = reference.run_tflm(data, frames, act, len(m.outputs))
    fresh = _tflm_fresh(data, frames)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(stream, fresh))


def test_stateless_form():
    """The reader keeps the model's own IO and describes the variables."""
    m = load_model(split_model())
    assert m.is_stateful and len(m.inputs) == 1 and len(m.outputs) == 1
    assert [v.shape for v in m.state.variables] == [(1, 4, 1, 16), (1, 2, 1, 8)]
    assert [v.offset for v in m.state.variables] == [0, 64]
    assert m.state.size == 80
    assert not any(op.type in ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")
                   for op in m.operators)
    assert m.outputs[0].dtype == "uint8"


@pytest.mark.parametrize("make", [ring_model, split_model])
@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_builder_models_host(make, target, tmp_path):
    r = byoc.validate(make(), target=target, backend="host", steps=12, sanitize=True,
                      work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.mismatches == 0 and r.reset_steps == 2 and r.steps == 12
    assert r.state_bytes == load_model(make()).state.size


def test_package_api(tmp_path):
    """Header: state size/alignment, init/reset, run with the state; metadata and
    the generated C agree; the initial values of a non-uniform variable are constants."""
    c = byoc.compile(split_model(), target="c", output_dir=tmp_path / "pkg")
    h = c.header.read_text()
    assert "#define MODEL_STATE_SIZE 80u" in h and "#define MODEL_STATE_ALIGNMENT 16u" in h
    assert "int32_t model_init(void* state_buffer);" in h
    assert "int32_t model_reset(void* state_buffer);" in h
    assert ("int32_t model_run(const struct model_inputs* inputs, struct model_outputs* "
            "outputs, void* workspace, void* state_buffer);") in h
    meta = json.loads((c.output_dir / "metadata.json").read_text())
    assert meta["memory"]["state_bytes"] == 80 and meta["state"]["bytes"] == 80
    assert [v["offset"] for v in meta["state"]["variables"]] == [0, 64]
    run_c = (c.output_dir / "src" / "model_run.c").read_text()
    assert "memcpy(state + 64, model_state_init_1, 16u);" in run_c
    # the model's own IO only: one input, one output
    assert "MODEL_NUM_INPUTS 1" in h and "MODEL_NUM_OUTPUTS 1" in h


def test_stateless_keeps_signature(tmp_path):
    lb = LayerBuilder(seed=0)
    lb.output(lb.conv2d(lb.input((1, 4, 4, 2)), 2, 1))
    c = byoc.compile(lb.build(), target="c", output_dir=tmp_path / "pkg")
    h = c.header.read_text()
    assert "STATE" not in h and "void* workspace);" in h
    assert c.state_bytes == 0 and c.metadata["state"] is None


# ------------------------------------------------------------------ refusals

def _expect_refusal(data: bytes, *words: str) -> None:
    with pytest.raises(ModelError) as exc:
        load_model(data)
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_refuses_control_flow():
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    y = mb.add_tensor("y", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    body = mb.add_subgraph("body")
    bx = body.add_tensor("bx", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    body.set_io([bx], [bx])
    mb.add_operator("WHILE", [x], [y], "WhileOptions", {"CondSubgraphIndex": 1,
                                                         "BodySubgraphIndex": 1})
    mb.set_io([x], [y])
    _expect_refusal(mb.build(), "operator 0 (WHILE)", "control flow is not supported")


def test_refuses_computing_initialiser():
    lb = LayerBuilder(seed=0)
    x = lb.input((1, 1, 1, 4))
    v = lb.variable((1, 2, 1, 4))
    lb.assign_variable(v, lb.strided_slice(lb.concatenation([lb.read_variable(v), x], axis=1),
                                           [0, 1, 0, 0], [1, 3, 1, 4]))
    lb.output(lb.quantize(x))
    init = lb.mb.subgraphs[0]
    t = init.add_tensor("c", (1, 2, 1, 4), np.int8, quant=Quant.per_tensor(0.05, -128))
    init.add_operator("RELU", [init.operators[1].inputs[1]], [t])
    _expect_refusal(lb.build(), "subgraph 1 operator 2 (RELU)", "initialiser")


def test_refuses_uninitialised_variable():
    lb = LayerBuilder(seed=0)
    x = lb.input((1, 1, 1, 4))
    lb.variable((1, 2, 1, 4), name="known")
    h = lb.mb.add_tensor("h", (), RESOURCE)
    lb.mb.add_operator("VAR_HANDLE", [], [h], "VarHandleOptions", {"SharedName": "unknown"})
    r = lb._act((1, 2, 1, 4), 0.05, -128)
    lb.mb.add_operator("READ_VARIABLE", [h], [r.index])
    lb.output(lb.concatenation([r, x], axis=1))
    _expect_refusal(lb.build(), "READ_VARIABLE", "'unknown'", "no CALL_ONCE initialiser")


def test_cli_validate_steps_json(tmp_path):
    model = tmp_path / "ring.tflite"
    model.write_bytes(ring_model())
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "validate", str(model),
                           "--backend", "host", "--steps", "5", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "pass" and out["state_bytes"] == 32 and out["steps"] == 5
    assert out["samples"] == 5 and out["reset_steps"] == 2


# ------------------------------------------------------------------ real wake-word models

def _tflm_arena_total(path: Path) -> int:
    """TFLM's whole arena for the model (head + tail: its variables live in the tail)."""
    m = load_model(path)
    return reference.tflm_arena(m.data, sum(t.nbytes for t in m.tensors if not t.is_constant),
                                path.name)["total"]


# okay_nabu (SPLIT_V) joins in the full sweep
WAKE_WORD_MODELS = sweep([HEY_JARVIS, OKAY_NABU], bounded=1)


@pytest.mark.parametrize("model", WAKE_WORD_MODELS, ids=lambda p: p.stem)
@pytest.mark.parametrize("target", ["c", "cmsis-nn,c", "ethos-u55-256,cmsis-nn,c"])
def test_wake_word_host(model, target, tmp_path):
    r = byoc.validate(model, target=target, backend="host", steps=20,
                      sanitize=target != "ethos-u55-256,cmsis-nn,c", work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.state_bytes == load_model(model).state.size
    # byoc's arena and state together fit in what TFLM allocates for the same model
    assert r.arena_bytes + r.state_bytes <= _tflm_arena_total(model)


def test_wake_word_qemu_cmsis_vs_c(tmp_path):
    """20 steps on the Corstone-300, bit-exact, reset checked; CMSIS-NN >= 3x fewer
    instructions per step than generic C."""
    require_tools()
    counts = {}
    for target in ("c", "cmsis-nn,c"):
        r = byoc.validate(HEY_JARVIS, target=target, backend="qemu", steps=20,
                          work_dir=tmp_path / target.replace(",", "_"))
        assert r.status == "pass", r.details
        assert len(r.instructions_per_sample) == 22          # 20 steps + 2 after reset
        counts[target] = r.instructions
    assert counts["c"] >= 3 * counts["cmsis-nn,c"], counts


def test_wake_word_qemu_ethos_u(tmp_path):
    """20 steps with the NPU regions run by byoc's functional Ethos-U55 model (~15 s)."""
    require_tools()
    steps = 20
    r = byoc.validate(HEY_JARVIS, target="ethos-u55-256,cmsis-nn,c", backend="qemu",
                      steps=steps, work_dir=tmp_path)
    assert r.status == "pass", r.details
    assert r.npu_cycles and len(r.instructions_per_sample) == steps + 2


def hazard_model(seed: int = 3) -> bytes:
    """State updates that cannot be written in place: the old ring value is read again
    after the new one exists (copied at the end of the step), a variable takes a model
    input directly, and a model output is a variable's old value (copied out before the
    update)."""
    lb = LayerBuilder(seed=seed)
    x = lb.input((1, 1, 1, 8), scale=0.1)
    ring = lb.variable((1, 3, 1, 8), scale=0.1, zero_point=-128)
    last = lb.variable((1, 1, 1, 8), scale=0.1, zero_point=-128,
                       init=np.arange(8).reshape(1, 1, 1, 8) * 3 - 90)
    old = lb.read_variable(ring)
    new = lb.strided_slice(lb.concatenation([old, x], axis=1), [0, 1, 0, 0], [1, 4, 1, 8])
    lb.assign_variable(ring, new)
    late = lb.concatenation([old, new], axis=1)                              # 1x6x1x8
    previous = lb.read_variable(last)
    lb.assign_variable(last, x)
    y = lb.conv2d(late, 4, (6, 1), padding="VALID")
    lb.output(lb.quantize(lb.fully_connected(lb.reshape(y, (1, -1)), 3)))
    lb.output(previous)
    return lb.build()


@pytest.mark.parametrize("target", ["c", "cmsis-nn,c"])
def test_state_updates_copied_when_needed(target, tmp_path):
    r = byoc.validate(hazard_model(), target=target, backend="host", steps=8, sanitize=True,
                      work_dir=tmp_path)
    assert r.status == "pass", r.details
    run_c = (Path(r.output_dir) / "src" / "model_run.c").read_text()
    body = run_c[run_c.index("int32_t model_run("):]
    # the two updates are end-of-step copies, after the output copy of the old value
    updates = [line for line in body.splitlines() if "memcpy(state + " in line]
    assert len(updates) == 2, body
    assert body.index("memcpy(outputs->") < body.index(updates[0])


def test_cli_run_steps(tmp_path):
    """`byoc run --steps N` drives a compiled stateful package as one stream on QEMU."""
    require_tools()
    data = ring_model()
    m = load_model(data)
    frames = random_inputs(m, 4, seed=5)
    act = sum(t.nbytes for t in m.tensors if not t.is_constant)
    want = reference.run_tflm(data, frames, act, 1)
    byoc.compile(data, target="cmsis-nn,c", output_dir=tmp_path / "pkg")
    np.save(tmp_path / "x.npy", np.stack([f[0] for f in frames]))
    np.save(tmp_path / "y.npy", np.stack([w[0] for w in want]))
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "run", str(tmp_path / "pkg"),
                           "--input", str(tmp_path / "x.npy"), "--expected",
                           str(tmp_path / "y.npy"), "--output", str(tmp_path / "o.npy"),
                           "--steps", "4", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert json.loads(proc.stdout)["mismatches"] == 0
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), np.stack([w[0] for w in want]))


# ------------------------------------------------------------------ the frame-moving kernels

def _slice_ops_model(seed: int) -> bytes:
    """One random stateless model over the slicing operators (random begin/end/strides
    with masks, shrink axes, SLICE, SPLIT, SPLIT_V, a requantizing uint8 QUANTIZE)."""
    rng = np.random.default_rng(seed)
    lb = LayerBuilder(seed=seed)
    shape = [1, int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(2, 9))]
    x = lb.input(shape, scale=0.05, zero_point=int(rng.integers(-128, 0)))
    begin = [0] + [int(rng.integers(-d, d)) for d in shape[1:]]
    end = [1] + [int(rng.integers(-d + 1, d + 1)) or d for d in shape[1:]]
    begin = [b if (b % d) < (e % d or d) else 0 for b, e, d in zip(begin, end, shape)]
    strides = [1] + [int(rng.integers(1, 3)) for _ in shape[1:]]
    masks = {"begin_mask": int(rng.integers(0, 16)), "end_mask": int(rng.integers(0, 16))}
    outs = [lb.strided_slice(x, begin, end, strides, **masks)]
    outs.append(lb.strided_slice(x, [0, 1, 0, 0], [1, 2, shape[2], shape[3]],
                                 shrink_axis_mask=2))
    b1 = int(rng.integers(0, shape[1]))
    outs.append(lb.slice(x, [0, b1, 0, 0], [1, -1, shape[2], int(rng.integers(1, shape[3] + 1))]))
    parts = shape[3] if shape[3] in (2, 3) else 2 if shape[3] % 2 == 0 else 1
    outs += lb.split(x, parts, axis=-1)
    cut = int(rng.integers(1, shape[1])) if shape[1] > 1 else 1
    outs += lb.split_v(x, [cut, -1] if cut < shape[1] else [-1], axis=1)
    outs.append(lb.quantize(x, scale=float(rng.uniform(0.02, 0.2)),
                            zero_point=int(rng.integers(0, 256))))
    for t in outs:
        if all(d > 0 for d in t.shape):
            lb.output(t)
    return lb.build()


@pytest.mark.parametrize("seed", sweep(range(40), bounded=6))
def test_slice_ops_host(seed, tmp_path):
    """STRIDED_SLICE / SLICE / SPLIT / SPLIT_V / int8 -> uint8 QUANTIZE bit-exact with TFLM
    (host, sanitizers)."""
    r = byoc.validate(_slice_ops_model(seed), target="c", backend="host", inputs=2,
                      sanitize=True, work_dir=tmp_path)
    assert r.status == "pass", r.details


def test_ethos_u_placement(tmp_path):
    """Under an NPU target Vela takes the strided slices of an operator's result (like plain
    Vela on the whole model): hey_jarvis, its LOGISTIC included, is one NPU region; the state
    is CPU memory."""
    c = byoc.compile(HEY_JARVIS, target="ethos-u55-256,cmsis-nn,c", output_dir=tmp_path / "p")
    backends = [(x["label"].split()[0], x["backend"]) for x in c.calls]
    assert backends == [("ETHOS-U", "ethos-u")], backends
    ops = {op["type"]: op["backend"] for op in c.metadata["operators"]
           if op["type"] == "STRIDED_SLICE"}
    assert ops == {"STRIDED_SLICE": "ethos-u"}


def test_cli_errors_one_line(tmp_path):
    """Bad input is one line on stderr and exit code 2: a control-flow model, --steps 0."""
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    y = mb.add_tensor("y", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    sub = mb.add_subgraph("then")
    t = sub.add_tensor("t", (1, 4), np.int8, quant=Quant.per_tensor(0.1, 0))
    sub.set_io([t], [t])
    mb.add_operator("IF", [x], [y], "IfOptions", {"ThenSubgraphIndex": 1,
                                                   "ElseSubgraphIndex": 1})
    mb.set_io([x], [y])
    bad = tmp_path / "if.tflite"
    bad.write_bytes(mb.build())
    ring = tmp_path / "ring.tflite"
    ring.write_bytes(ring_model())
    for argv, words in (([str(bad), "--target", "c", "-o", str(tmp_path / "o")],
                         ["operator 0 (IF)", "control flow"]),
                        ([str(ring), "--backend", "host", "--steps", "0"],
                         ["--steps must be at least 1"])):
        cmd = "compile" if "-o" in argv else "validate"
        proc = subprocess.run([sys.executable, "-m", "byoc.cli", cmd, *argv],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert all(w in proc.stderr for w in words), proc.stderr
    assert not (tmp_path / "o").exists()
