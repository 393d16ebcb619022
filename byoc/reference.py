"""Reference interpreters: TFLM (golden) and LiteRT's reference kernels (second opinion)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import ToolError


#: Quantized TFLite operators the pinned tflite-micro has no kernel for (its op resolver
#: refuses a model with one: "failed to allocate tensors"); byoc.validate compares such a
#: model with LiteRT's reference kernels instead, and says so.
TFLM_MISSING_KERNELS = frozenset({"RELU_N1_TO_1"})


def tflm_arena_size(activation_bytes: int) -> int:
    """A TFLM arena that always suffices: a too-small arena crashes TFLM's Python binding
    (segfault) instead of raising, so never probe. Bytes."""
    return 4 * activation_bytes + 2 * 1024 * 1024


def run_tflm(model_bytes: bytes, samples: list[list[np.ndarray]],
             activation_bytes: int, num_outputs: int,
             timeout_s: float = 600.0) -> list[list[np.ndarray]]:
    """Run TFLM's host interpreter on each sample (a list of input arrays, in model order).

    ``activation_bytes`` is the total size of the model's non-constant tensors. TFLM runs
    in a child process: its kernels abort the process on some inputs (e.g. an int8 SOFTMAX
    whose sum of exponentials reaches 512 trips a fixed-point assertion) and print their
    own log; byoc reports either as one ``ToolError`` line naming TFLM and the reason."""
    with tempfile.TemporaryDirectory(prefix="byoc_tflm_") as tmp:
        work = Path(tmp)
        (work / "model.tflite").write_bytes(model_bytes)
        np.savez(work / "inputs.npz", **{f"s{s}_{i}": np.ascontiguousarray(a)
                                         for s, sample in enumerate(samples)
                                         for i, a in enumerate(sample)})
        cmd = [sys.executable, "-c", "import sys; from byoc.reference import _child_main; "
               "sys.exit(_child_main(sys.argv[1:]))", str(work), str(len(samples)),
               str(activation_bytes), str(num_outputs)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  errors="replace", env=_child_env())
        except subprocess.TimeoutExpired:
            raise ToolError(f"TFLM (the reference) did not finish within {timeout_s:.0f} s"
                            ) from None
        if proc.returncode != 0:
            raise ToolError(f"TFLM (the reference) cannot run the model: "
                            f"{_failure_reason(proc)}")
        with np.load(work / "outputs.npz", allow_pickle=False) as z:
            return [[np.array(z[f"s{s}_{k}"]) for k in range(num_outputs)]
                    for s in range(len(samples))]


def _failure_reason(proc: subprocess.CompletedProcess) -> str:
    """One line: byoc's reason from the child, else TFLM's last log lines, else the signal."""
    for line in proc.stderr.splitlines():
        if line.startswith(_ERROR_TAG):
            return line[len(_ERROR_TAG):].strip()
    log = [" ".join(ln.split()) for ln in (proc.stdout + "\n" + proc.stderr).splitlines()
           if ln.strip() and "Traceback" not in ln]
    if proc.returncode < 0:
        try:
            sig = signal.Signals(-proc.returncode).name
        except ValueError:
            sig = f"signal {-proc.returncode}"
        what = f"it aborted ({sig})" if sig == "SIGABRT" else f"it crashed ({sig})"
        return what + (f" after logging: {' / '.join(log[-2:])[:200]}" if log else
                       " without a message (TFLM's kernels abort on internal assertion "
                       "failures, e.g. an int8 SOFTMAX whose sum of exponentials reaches "
                       "512)")
    return " / ".join(log[-3:])[:300] or f"exit code {proc.returncode}"


_ERROR_TAG = "BYOC_TFLM_ERROR:"


def _child_env() -> dict:
    """The environment of the child, with this byoc importable however it was started."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    return env


def _child_main(argv: list[str]) -> int:
    """The child process of ``run_tflm``: WORK SAMPLES ACTIVATION_BYTES NUM_OUTPUTS."""
    work, n_samples, activation_bytes, n_out = Path(argv[0]), *map(int, argv[1:4])
    try:
        from tflite_micro import runtime
    except ImportError:  # pragma: no cover - part of the test extras
        print(f"{_ERROR_TAG} tflite-micro is not installed (run `make setup`)", file=sys.stderr)
        return 3
    try:
        interp = runtime.Interpreter.from_bytes(
            (work / "model.tflite").read_bytes(), arena_size=tflm_arena_size(activation_bytes))
    except (RuntimeError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:250]
        print(f"{_ERROR_TAG} it could not load the model ({reason})", file=sys.stderr)
        return 3
    outputs = {}
    with np.load(work / "inputs.npz", allow_pickle=False) as z:
        for s in range(n_samples):
            k = 0
            while f"s{s}_{k}" in z:
                interp.set_input(z[f"s{s}_{k}"], k)
                k += 1
            try:
                interp.invoke()
            except (RuntimeError, ValueError) as exc:
                reason = " ".join(str(exc).split())[:250]
                print(f"{_ERROR_TAG} invoke failed on sample {s} ({reason})", file=sys.stderr)
                return 3
            for i in range(n_out):
                outputs[f"s{s}_{i}"] = np.array(interp.get_output(i))
    np.savez(work / "outputs.npz", **outputs)
    return 0


def run_tflm_tensors(model_bytes: bytes, samples: list[list[np.ndarray]],
                     activation_bytes: int, tensors: list[int]) -> list[dict[int, np.ndarray]]:
    """TFLM's value of each of ``tensors`` (tensor indices of the model's subgraph,
    intermediate ones included) after running each sample: one {tensor: array} per
    sample. Uses TFLM's ``kPreserveAllTensors`` mode (no arena reuse)."""
    try:
        from tflite_micro import runtime
    except ImportError as exc:  # pragma: no cover - part of the test extras
        raise ToolError("tflite-micro is not installed (run `make setup`)") from exc
    try:
        interp = runtime.Interpreter.from_bytes(
            model_bytes, arena_size=tflm_arena_size(activation_bytes),
            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    except RuntimeError as exc:
        raise ToolError(f"TFLM could not load the model: {exc}") from None
    results = []
    for sample in samples:
        for i, arr in enumerate(sample):
            interp.set_input(arr, i)
        interp.invoke()
        results.append({t: np.array(interp.GetTensor(t, 0)["tensor_data"]) for t in tensors})
    return results


_TFLM_ARENA_PROBE = r"""
import sys
from tflite_micro import runtime
data = open(sys.argv[1], "rb").read()
interp = runtime.Interpreter.from_bytes(data, arena_size=int(sys.argv[2]))
sys.stderr.flush()
interp.print_allocations()
"""


def tflm_arena(model_bytes: bytes, activation_bytes: int, label: str = "model") -> dict[str, int]:
    """TFLM's arena for the model, from ``print_allocations()`` (written to fd 2) in a child
    process (a too-small arena or a bad model can crash TFLM): {"total", "head", "tail"}
    in bytes. "head" holds the tensors (inputs and outputs included) and the kernels'
    scratch buffers; "tail" is host-pointer-sized bookkeeping."""
    with tempfile.TemporaryDirectory(prefix="byoc_tflm_arena_") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(model_bytes)
        proc = subprocess.run([sys.executable, "-c", _TFLM_ARENA_PROBE, str(path),
                               str(tflm_arena_size(activation_bytes))],
                              capture_output=True, text=True, timeout=300)
    found = dict(re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", proc.stderr))
    if proc.returncode != 0 or set(found) != {"total", "head", "tail"}:
        tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise ToolError(f"TFLM arena probe of {label} failed (exit {proc.returncode}): {tail}")
    return {k: int(v) for k, v in found.items()}


def run_litert(model_bytes: bytes, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Run LiteRT with its reference kernels (BUILTIN_REF) on each sample."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError as exc:  # pragma: no cover
        raise ToolError("ai-edge-litert is not installed (run `make setup`)") from exc
    interp = Interpreter(model_content=model_bytes, num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()
    results = []
    for sample in samples:
        for d, arr in zip(ins, sample):
            interp.set_tensor(d["index"], arr)
        interp.invoke()
        results.append([np.array(interp.get_tensor(d["index"])) for d in outs])
    return results

