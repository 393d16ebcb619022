"""``byoc validate``: compile, build, run on random inputs, compare with TFLM.

Backends: ``qemu`` (default) and ``fvp`` build a Corstone-300 firmware with the inputs and
TFLM's outputs embedded and run it (``byoc.firmware``); ``host`` builds the package with
gcc for this machine. Every backend reads the outputs back, and the comparison with TFLM
(mismatches, max |diff|) is done here in Python, the same way for all of them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import compiler, firmware, host, progress, reference
from .errors import ByocError, ToolError
from .libraries import Libraries
from .tflite.reader import TFLiteModel, load_model

BACKENDS = ("qemu", "fvp", "host")
#: Backends that run firmware on the Corstone-300 (and the core they compile for by default).
CORSTONE_BACKENDS = ("qemu", "fvp")
CORSTONE_CPU = "cortex-m55"

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
    cpu: str = ""
    # Corstone-300 backends only (None for host): per-inference count of the run function
    # (the largest over the samples; "instructions" on QEMU, DWT cycles on the FVP, see
    # ``counter``) and the model's code and read-only data (constants included) in the ELF.
    instructions: int | None = None
    instructions_per_sample: list[int] | None = None
    counter: str | None = None
    code_bytes: int | None = None
    rodata_bytes: int | None = None
    # With profile=True: one entry per operator call of the first sample
    # ({"index", "name", "instructions", "calls"}).
    profile: list[dict] | None = None
    # With an ethos-u55-* target: Vela's estimated NPU cycles (sum over the NPU regions).
    npu_cycles: int | None = None
    # A stateful (streaming) model: its state buffer (bytes, beside the arena); ``samples``
    # consecutive steps ran through one state, then ``reset_steps`` steps again after
    # <prefix>_reset (compared with the stream's first steps; counted in ``mismatches``).
    state_bytes: int = 0
    steps: int | None = None
    reset_steps: int = 0
    # The kernel libraries the build linked (byoc.libraries record: "cmsis-nn",
    # "ethos-u-driver" -> {"source": "byoc"|"arm", "path", ...}).
    libraries: dict = field(default_factory=dict)
    # Corstone-300 with an ethos-u55-* target: the firmware's Ethos-U driver ("byoc" or "arm":
    # the NPU device does the NPU's work, ``instructions`` are the CPU's alone; "model": the
    # functional model in the firmware computes it, ``instructions`` include it) and the NPU
    # cycles the NPU's PMU counted per inference (largest over the samples; "model": the
    # model's estimate).
    npu_driver: str | None = None
    npu_pmu_cycles: int | None = None

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
    backend: str = "qemu",
    inputs: int = 3,
    seed: int = 0,
    cpu: str | None = None,
    litert: bool = False,
    work_dir: "str | os.PathLike | None" = None,
    tolerance: float | None = None,
    profile: bool = False,
    timeout_s: float | None = None,
    arena_region: str = "SRAM2",
    memory: dict[str, int] | None = None,
    sanitize: bool = False,
    vela: dict | None = None,
    allow_float: bool = False,
    steps: int | None = None,
    cmsis_nn_path: "str | os.PathLike | None" = None,
    ethosu_driver_path: "str | os.PathLike | None" = None,
    cmsis_path: "str | os.PathLike | None" = None,
) -> ValidationResult:
    """Compile ``model`` for ``target``, run it on ``backend`` with ``inputs`` random
    samples and compare every output element with TFLM. ``tolerance`` is the largest
    absolute difference (in output units) still counted as equal: 0 means bit-exact; the
    default is 0 for quantized models and ``FLOAT_TOLERANCE`` for float models.

    ``backend``: "qemu" (default) or "fvp" run a Corstone-300 firmware (``cpu`` defaults
    to cortex-m55; ``profile`` adds per-operator instruction counts; ``timeout_s``,
    ``arena_region`` and ``memory`` are passed to ``byoc.firmware.run_on_corstone``);
    "host" builds and runs the package on this machine with gcc (``sanitize`` adds
    AddressSanitizer and UndefinedBehaviorSanitizer: any out-of-bounds access or undefined
    behaviour in the generated code makes the run fail). ``allow_float``: see
    ``byoc.compile``.

    ``steps`` (default ``inputs``): a stream of that many consecutive random frames. A
    stateful model runs them through one state (``<prefix>_init`` first) and TFLM through
    one interpreter, every step compared; then ``<prefix>_reset`` and the first steps again
    (``reset_steps``, compared with the stream's first outputs).

    ``cmsis_nn_path``, ``ethosu_driver_path``, ``cmsis_path``: build against Arm's CMSIS-NN /
    ethos-u-core-driver / CMSIS_6 checkouts instead of byoc's trees (see ``byoc.compile``;
    Corstone-300 backends only; Arm's driver needs an emulator with an NPU: the FVP)."""
    cpu, libraries = _check_request(target, backend, inputs, steps, seed, cpu, profile,
                                    (cmsis_nn_path, ethosu_driver_path, cmsis_path))
    if steps is not None:
        inputs = steps
    on_corstone = backend in CORSTONE_BACKENDS
    tfl = model if isinstance(model, TFLiteModel) else load_model(model)
    if tolerance is None:
        tolerance = FLOAT_TOLERANCE if tfl.is_float() else 0.0
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="byoc_validate_"))
    firmware.make_work_dir(work)
    compiled = compiler.compile(tfl, target=target, cpu=cpu, output_dir=work / "package",
                                force=True, vela=vela, allow_float=allow_float,
                                cmsis_nn_path=libraries.cmsis_nn,
                                ethosu_driver_path=libraries.ethosu_driver,
                                cmsis_path=libraries.cmsis)
    samples, want, reset_steps, reset_before, ref_label = _reference_run(tfl, inputs, seed)
    details: list[str] = []
    run = None
    if on_corstone:
        progress.note(f"building the firmware and running it on Corstone-300 ({backend})")
        run = firmware.run_on_corstone(compiled, samples, want, backend=backend, profile=profile,
                                       work_dir=work / "firmware", timeout_s=timeout_s,
                                       tolerance=tolerance, arena_region=arena_region,
                                       memory=memory, reset_before=reset_before)
        got = run.outputs
        assert got is not None
        details += _firmware_details(compiled.prefix, run)
    else:
        progress.note("building and running on the host")
        program = compiled.program
        exe = host.build_host(compiled.output_dir, compiled.prefix, program.inputs,
                              program.outputs, work / "build", sanitize=sanitize,
                              opt="-O1" if sanitize else "-O2")
        got = host.run_host(exe, samples, program.outputs, work, reset_before=reset_before)
    mismatches, max_diff = compare_with_tolerance(got, want, tolerance)
    if run is not None and run.mismatches is not None and run.mismatches != mismatches:
        details.append(f"the firmware counted {run.mismatches} mismatching elements, the "
                       f"outputs it printed {mismatches}")
    # Python's comparison decides (same for every backend); the firmware's own verdict
    # only adds the run function's return codes.
    ok = mismatches == 0 and (run is None or all(rc == 0 for rc in run.run_status))
    result = ValidationResult(
        status="pass" if ok else "fail",
        mismatches=mismatches, max_abs_diff=max_diff, target=target, backend=backend,
        samples=inputs, seed=seed, arena_bytes=compiled.arena_bytes,
        arena_lower_bound_bytes=compiled.arena_lower_bound_bytes,
        constant_bytes=compiled.constant_bytes, output_dir=str(compiled.output_dir),
        tolerance=tolerance, details=details, cpu=cpu, reference=ref_label,
        npu_cycles=compiled.metadata.get("npu_cycles"), state_bytes=compiled.state_bytes,
        steps=steps, reset_steps=reset_steps,
        libraries=run.libraries if run is not None else compiled.metadata.get("libraries", {}))
    if run is not None:
        _add_firmware_figures(result, run, profile)
    if litert:
        second = reference.run_litert(tfl.data, samples[:inputs])
        result.litert_mismatches = compare(got[:inputs], second)[0]
    return result


def _check_request(target: str, backend: str, inputs: int, steps: int | None, seed: int,
                   cpu: str | None, profile: bool,
                   library_paths: tuple) -> tuple[str, Libraries]:
    """Refuse inconsistent ``validate`` options (one line each); the core to compile for
    (default: cortex-m55 on a Corstone-300 backend, else the host) and the checked
    libraries."""
    if backend not in BACKENDS:
        raise ByocError(f"unknown backend '{backend}'; available: {', '.join(BACKENDS)}")
    if inputs < 1:
        raise ByocError("--inputs must be at least 1")
    if steps is not None and steps < 1:
        raise ByocError("--steps must be at least 1")
    if seed < 0:
        raise ByocError(f"--seed {seed}: the seed must be >= 0")
    libraries = Libraries.from_options(*library_paths).check_complete()
    on_corstone = backend in CORSTONE_BACKENDS
    if libraries.any_arm and not on_corstone:
        raise ByocError("--cmsis-nn-path / --ethosu-driver-path build Corstone-300 firmware "
                        "(--backend qemu or fvp); the host backend builds byoc's bundled kernels")
    firmware.check_npu_backend(libraries, any(t.startswith("ethos-u") for t in target.split(",")),
                               backend)
    if profile and not on_corstone:
        raise ByocError(f"--profile needs a Corstone-300 backend ({', '.join(CORSTONE_BACKENDS)}), "
                        f"not '{backend}'")
    if not on_corstone:
        return cpu or "host", libraries
    firmware.check_backend(backend)
    cpu = cpu or CORSTONE_CPU
    if cpu not in firmware.platform.RUNNABLE_CPUS:
        raise ByocError(f"backend '{backend}' runs {', '.join(firmware.platform.RUNNABLE_CPUS)} "
                        f"only, not --cpu {cpu}")
    return cpu, libraries


def _reference_outputs(tfl: TFLiteModel, samples: list) -> tuple[list, str]:
    """The reference's outputs and its name: TFLM; LiteRT's reference kernels only when TFLM
    cannot load the model and it has an operator TFLM has no kernel for (named in the
    label, e.g. "litert (TFLM has no RELU_N1_TO_1 kernel)")."""
    activation_bytes = sum(t.nbytes for t in tfl.tensors if not t.is_constant)
    progress.note(f"running TFLM on {len(samples)} input(s)")
    missing = sorted({op.type for op in tfl.operators} & reference.TFLM_MISSING_KERNELS)
    try:
        return reference.run_tflm(tfl.data, samples, activation_bytes, len(tfl.outputs)), "tflm"
    except ToolError:
        if not missing or tfl.is_stateful:
            raise
    progress.note(f"TFLM has no {', '.join(missing)} kernel: running LiteRT's reference kernels")
    return reference.run_litert(tfl.data, samples), \
        f"litert (TFLM has no {', '.join(missing)} kernel)"


def _reference_run(tfl: TFLiteModel, inputs: int, seed: int):
    """Random samples and the reference's outputs for them: (samples, outputs, reset_steps,
    reset_before, reference name). A stateful model's stream is followed by a reset and its
    first steps again, which must give the stream's first outputs."""
    samples = random_inputs(tfl, inputs, seed)
    want, label = _reference_outputs(tfl, samples)
    reset_steps, reset_before = 0, None
    if tfl.is_stateful:
        # after the stream: reset, then the first steps again must give the first outputs
        reset_steps, reset_before = min(2, inputs), inputs
        samples, want = samples + samples[:reset_steps], want + want[:reset_steps]
    return samples, want, reset_steps, reset_before, label


def _firmware_details(prefix: str, run: "firmware.FirmwareRun") -> list[str]:
    """Detail lines of a firmware run: failed run calls, then its warnings."""
    details = []
    failed_runs = [(s, rc) for s, rc in enumerate(run.run_status) if rc != 0]
    if failed_runs:
        s, rc = failed_runs[0]
        details.append(f"{prefix}_run returned {rc} on {len(failed_runs)} "
                       f"sample(s), first on sample {s}")
    return details + [f"warning: {w}" for w in run.warnings]


def _add_firmware_figures(result: ValidationResult, run: "firmware.FirmwareRun",
                          profile: bool) -> None:
    """Copy a firmware run's counts, sizes, NPU facts and profile into ``result``."""
    result.instructions = run.instructions
    result.instructions_per_sample = run.instructions_per_sample
    result.counter = run.counter or None
    result.code_bytes = run.code_bytes
    result.rodata_bytes = run.rodata_bytes
    result.npu_driver = run.npu_driver
    result.npu_pmu_cycles = run.npu_cycles
    if profile:
        result.profile = run.profile_json()


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
