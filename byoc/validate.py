"""``byoc validate``: compile, build, run on random inputs, compare with TFLM."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import compiler, host, reference
from .errors import ByocError
from .tflite.reader import TFLiteModel, load_model

BACKENDS = ("host",)

# Float models only (int8 paths are compared bit-exactly): our C and TFLM's reference
# kernels sum the products of a convolution/matmul in different orders, and the C compiler
# may contract a*b+c into a fused multiply-add, so float32 sums round differently in the
# last bits. For sums of up to a few hundred products of magnitude ~1 the difference stays
# below 1e-4 absolute.
FLOAT_TOLERANCE = 1e-4


@dataclass
class ValidationResult:
    """Outcome of one validation. Sizes are bytes; ``mismatches`` counts output elements
    that differ from the reference over all samples."""

    status: str                  # "pass" or "fail"
    mismatches: int
    max_abs_diff: int
    target: str
    backend: str
    samples: int
    seed: int
    arena_bytes: int
    arena_lower_bound_bytes: int
    constant_bytes: int
    reference: str = "tflm"
    tolerance: float = 0.0
    litert_mismatches: int | None = None
    output_dir: str = ""
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def random_inputs(model: TFLiteModel, count: int, seed: int) -> list[list[np.ndarray]]:
    """``count`` samples of random inputs covering each input's whole integer range."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        sample = []
        for t in model.inputs:
            dt = np.dtype(t.dtype)
            if dt.kind in "iu":
                info = np.iinfo(dt)
                arr = rng.integers(info.min, info.max + 1, size=t.shape, dtype=np.int64).astype(dt)
            else:
                arr = rng.standard_normal(size=t.shape).astype(dt)
            sample.append(arr)
        samples.append(sample)
    return samples


def compare(got: list[list[np.ndarray]], want: list[list[np.ndarray]]) -> tuple[int, int]:
    """(differing elements, max |difference|) over all samples and outputs."""
    mismatches, max_diff = 0, 0
    for g_sample, w_sample in zip(got, want):
        for g, w in zip(g_sample, w_sample):
            if g.shape != w.shape:
                raise ByocError(f"output shape {g.shape} differs from the reference's {w.shape}")
            diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
            mismatches += int(np.count_nonzero(diff))
            max_diff = max(max_diff, float(diff.max()) if diff.size else 0.0)
    return mismatches, int(max_diff) if float(max_diff).is_integer() else max_diff


def validate(
    model: "str | os.PathLike | bytes | TFLiteModel",
    target: str = "c",
    backend: str = "host",
    inputs: int = 3,
    seed: int = 0,
    cpu: str | None = None,
    litert: bool = False,
    work_dir: "str | os.PathLike | None" = None,
    tolerance: float | None = None,
) -> ValidationResult:
    """Compile ``model`` for ``target``, run it on ``backend`` with ``inputs`` random
    samples and compare every output element with TFLM. ``tolerance`` is the largest
    absolute difference (in output units) still counted as equal: 0 means bit-exact; the
    default is 0 for quantized models and ``FLOAT_TOLERANCE`` for float models."""
    if backend not in BACKENDS:
        raise ByocError(f"unknown backend '{backend}'; available: {', '.join(BACKENDS)}")
    if inputs < 1:
        raise ByocError("--inputs must be at least 1")
    tfl = model if isinstance(model, TFLiteModel) else load_model(model)
    if tolerance is None:
        tolerance = FLOAT_TOLERANCE if tfl.is_float() else 0.0
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="byoc_validate_"))
    work.mkdir(parents=True, exist_ok=True)
    compiled = compiler.compile(tfl, target=target, cpu=cpu or "host",
                                output_dir=work / "package", force=True)
    samples = random_inputs(tfl, inputs, seed)
    program = compiled.program
    exe = host.build_host(compiled.output_dir, compiled.prefix, program.inputs,
                          program.outputs, work / "build")
    got = host.run_host(exe, samples, program.outputs, work)
    activation_bytes = sum(t.nbytes for t in tfl.tensors if not t.is_constant)
    want = reference.run_tflm(tfl.data, samples, activation_bytes, len(tfl.outputs))
    mismatches, max_diff = compare_with_tolerance(got, want, tolerance)
    result = ValidationResult(
        status="pass" if mismatches == 0 else "fail",
        mismatches=mismatches, max_abs_diff=max_diff, target=target, backend=backend,
        samples=inputs, seed=seed, arena_bytes=compiled.arena_bytes,
        arena_lower_bound_bytes=compiled.arena_lower_bound_bytes,
        constant_bytes=compiled.constant_bytes, output_dir=str(compiled.output_dir),
        tolerance=tolerance)
    if litert:
        second = reference.run_litert(tfl.data, samples)
        result.litert_mismatches = compare(got, second)[0]
    return result


def compare_with_tolerance(got, want, tolerance: float) -> tuple[int, float]:
    """Like ``compare`` but differences up to ``tolerance`` count as equal."""
    if tolerance == 0:
        return compare(got, want)
    mismatches, max_diff = 0, 0.0
    for g_sample, w_sample in zip(got, want):
        for g, w in zip(g_sample, w_sample):
            diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
            mismatches += int(np.count_nonzero(diff > tolerance))
            max_diff = max(max_diff, float(diff.max()) if diff.size else 0.0)
    return mismatches, max_diff
