"""Mismatch localisation: the first operator whose output differs from TFLM's.

A case that mismatches is compiled once more from a *probe* model: the same graph with
every operator's output tensor added to the subgraph outputs (``byoc.tflite.edit``), so
the package hands back every intermediate tensor. It runs on the same backend, core and
inputs as the case; TFLM runs the original model with ``kPreserveAllTensors`` and gives
every intermediate tensor too. Walking the operators in execution order, the first one
with an output that differs is the culprit: its inputs all matched (they are model inputs
or outputs of earlier operators). Its index, type, placement (backend and kernel, from the
case's package metadata), the differing elements and max |diff| are reported, and a
minimal reproducer is written: the operator alone as a .tflite (original options and
constants), its inputs as TFLM computed them (``input_<i>.npy``), TFLM's outputs
(``expected_<k>.npy``) and byoc's (``got_<k>.npy``). The reproducer is then compiled and
run by itself on the same backend to say whether the fault shows in isolation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import compiler, firmware, host, reference
from ..errors import ByocError
from ..tflite.edit import (FileOperator, FileTensor, file_graph, operator_outputs,
                           single_operator, with_outputs)
from ..tflite.reader import TFLiteModel, load_model
from ..validate import compare_with_tolerance


@dataclass
class Divergence:
    """The first diverging operator of a mismatching case."""

    operator_index: int
    operator_type: str
    backend: str                    # "cmsis-nn", "ethos-u", "generic"
    kernel: str                     # the CMSIS-NN function / placement reason
    tensor: str                     # the differing output tensor's name
    tensor_index: int
    sample: int                     # first sample where it differs
    mismatches: int                 # differing elements of that tensor in that sample
    elements: int
    max_abs_diff: float
    reproducer: str | None = None   # folder with the one-operator model and arrays
    reproduces: bool | None = None  # the one-operator model alone mismatches too
    reproducer_mismatches: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        diff = int(self.max_abs_diff) if float(self.max_abs_diff).is_integer() \
            else self.max_abs_diff
        where = "generic C" if self.backend == "generic" else self.backend
        return (f"first diverging operator {self.operator_index} {self.operator_type} "
                f"on {where}" + (f" ({self.kernel})" if self.kernel else "") +
                f": {self.mismatches}/{self.elements} elements of '{self.tensor}' differ "
                f"(max |diff| {diff}, sample {self.sample})")


def run_package(compiled: compiler.CompiledModel, samples: list[list[np.ndarray]],
                backend: str, work: Path, timeout_s: float | None) -> list[list[np.ndarray]]:
    """Outputs of a compiled package on ``backend`` for each sample (no comparison)."""
    if backend == "host":
        exe = host.build_host(compiled.output_dir, compiled.prefix, compiled.program.inputs,
                              compiled.program.outputs, work / "build")
        return host.run_host(exe, samples, compiled.program.outputs, work)
    run = firmware.run_on_corstone(compiled, samples, None, backend=backend,
                                   work_dir=work / "firmware", timeout_s=timeout_s)
    failed = [rc for rc in run.run_status if rc != 0]
    if failed:
        raise ByocError(f"{compiled.prefix}_run returned {failed[0]}")
    assert run.outputs is not None
    return run.outputs


def _placement(model: TFLiteModel, metadata: dict, op: FileOperator,
               tensors: list[FileTensor]) -> tuple[str, str]:
    """(backend, kernel) of a file operator from the package metadata, whose operators are
    numbered like ``model.operators`` (the stateless rewrite for a stateful model: matched
    by type and output tensor name)."""
    names = {tensors[t].name for t in op.outputs if t >= 0}
    index = op.index
    if model.is_stateful:
        index = next((o.index for o in model.operators if o.type == op.type and
                      {model.tensors[t].name for t in o.outputs if t >= 0} == names), -1)
    ops = metadata.get("operators") or []
    entry = ops[index] if 0 <= index < len(ops) else {}
    return entry.get("backend") or "generic", entry.get("reason") or ""


def first_divergence(ops: list[FileOperator], tensors: list[FileTensor],
                     got: list[dict[int, np.ndarray]], want: list[dict[int, np.ndarray]],
                     tolerance: float) -> tuple | None:
    """(operator, tensor, sample, mismatches, max diff) of the first operator in execution
    order with an output that differs (float tensors within ``tolerance``), or None."""
    for op in ops:
        for t in (t for t in op.outputs if t >= 0):
            tol = tolerance if tensors[t].dtype.startswith("float") else 0.0
            for s, (g, w) in enumerate(zip(got, want)):
                if t not in g or t not in w:
                    continue
                ref = np.asarray(w[t]).reshape(np.asarray(g[t]).shape)
                bad, diff = compare_with_tolerance([[g[t]]], [[ref]], tol)
                if bad:
                    return op, t, s, bad, float(diff)
    return None


def localise(model: TFLiteModel, target: str, cpu: str, backend: str,
             samples: list[list[np.ndarray]], metadata: dict, work: Path,
             reproducer_dir: Path | None, tolerance: float = 0.0,
             timeout_s: float | None = None, vela: dict | None = None) -> Divergence | None:
    """Find the first diverging operator of ``model`` compiled for ``target``/``cpu`` on
    ``backend`` (see the module docstring); ``metadata`` is the failing case's package
    metadata (placement). Operators and tensors are numbered as in the model file. None
    when the probe build matches TFLM on every tensor. A stateful model's samples are the
    consecutive steps of one stream, for byoc and TFLM alike. Writes the reproducer to
    ``reproducer_dir`` when given."""
    ops, tensors = file_graph(model.data)
    wanted = operator_outputs(model.data)
    probe_bytes, order = with_outputs(model.data, wanted)
    probe = load_model(probe_bytes, name=f"{model.name} (intermediate tensors as outputs)")
    compiled = compiler.compile(probe, target=target, cpu=cpu, output_dir=work / "package",
                                force=True, vela=vela)
    outputs = run_package(compiled, samples, backend, work, timeout_s)
    got = [dict(zip(order, sample)) for sample in outputs]
    activation_bytes = sum(t.nbytes for t in model.tensors if not t.is_constant)
    want = reference.run_tflm_tensors(model.data, samples, activation_bytes, wanted)
    found = first_divergence(ops, tensors, got, want, tolerance)
    if found is None:
        return None
    op, t, s, bad, diff = found
    backend_name, kernel = _placement(model, metadata, op, tensors)
    div = Divergence(op.index, op.type, backend_name, kernel, tensors[t].name, t, s, bad,
                     int(np.asarray(got[s][t]).size), diff)
    if reproducer_dir is not None:
        write_reproducer(model, op, tensors, div, got[s], want[s], target, cpu, backend,
                         reproducer_dir, work / "reproducer", tolerance, timeout_s, vela)
    return div


def write_reproducer(model: TFLiteModel, op: FileOperator, tensors: list[FileTensor],
                     div: Divergence, got: dict[int, np.ndarray], want: dict[int, np.ndarray],
                     target: str, cpu: str, backend: str, dest: Path, work: Path,
                     tolerance: float, timeout_s: float | None, vela: dict | None) -> None:
    """The one-operator model of ``op`` with its inputs and outputs as .npy files in
    ``dest``, then compiled and run alone to record whether it reproduces."""
    name = f"op{op.index}_{op.type.lower().replace(':', '_')}.tflite"
    one = load_model(single_operator(model.data, op.index, model.name), name=name)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / name).write_bytes(one.data)
    originals = list(dict.fromkeys(t for t in op.inputs if t >= 0 and
                                   not tensors[t].is_constant))
    sample = [np.asarray(want[t]).reshape(tensors[t].shape).astype(tensors[t].dtype)
              for t in originals]
    for i, arr in enumerate(sample):
        np.save(dest / f"input_{i}.npy", arr)
    outs = [t for t in op.outputs if t >= 0]
    for k, t in enumerate(outs):
        np.save(dest / f"expected_{k}.npy", np.asarray(want[t]).reshape(tensors[t].shape))
        np.save(dest / f"got_{k}.npy", np.asarray(got[t]))
    div.reproducer = str(dest)
    try:
        expected = reference.run_tflm(one.data, [sample],
                                      sum(t.nbytes for t in one.tensors if not t.is_constant),
                                      len(one.outputs))
        compiled = compiler.compile(one, target=target, cpu=cpu,
                                    output_dir=work / "package", force=True, vela=vela)
        outputs = run_package(compiled, [sample], backend, work, timeout_s)
        bad, _ = compare_with_tolerance(outputs, expected, tolerance)
        div.reproduces, div.reproducer_mismatches = bad > 0, bad
    except Exception as exc:  # noqa: BLE001 - the reproducer is written either way
        div.notes.append(f"the one-operator model could not be checked alone: "
                         f"{' '.join(str(exc).split())[:300]}")
    inputs = " ".join(f"--input input_{i}.npy" for i in range(len(sample)))
    expect = " ".join(f"--expected expected_{k}.npy" for k in range(len(outs)))
    # `byoc run` runs on the Corstone-300: a host case's reproducer is shown for QEMU.
    run_cpu = cpu if backend != "host" else "cortex-m55"
    run_backend = backend if backend != "host" else "qemu"
    run = f"byoc run pkg {inputs} {expect} --backend {run_backend}"
    (dest / "README.md").write_text("\n".join([
        f"# Reproducer: operator {op.index} {op.type} of {model.name}",
        "",
        f"{div.summary()}.",
        "",
        f"Target `{target}`, cpu `{cpu}`, backend `{backend}`. The inputs are TFLM's values of "
        "the operator's input tensors in the failing sample; `expected_*.npy` are TFLM's "
        "outputs, `got_*.npy` byoc's in the whole model.",
        "",
        "```sh",
        f"byoc compile {name} --target {target} --cpu {run_cpu} -o pkg --force",
        run,
        "```",
        "",
        "Alone, the operator " + ("mismatches too" if div.reproduces else
                                  "does not mismatch" if div.reproduces is False else
                                  "could not be checked") + ".",
        ""]))
    (dest / "divergence.json").write_text(json.dumps(div.to_json(), indent=2) + "\n")
