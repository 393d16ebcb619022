"""Compile a TFLite model for the Arm Ethos-U55 with Vela 5.2, in-process.

``compile_vela(model_bytes, "ethos-u55-256")`` runs Vela's C++ compiler core ("Regor",
``ethosu.regor.compile``) and returns a ``VelaResult``: what firmware needs to call the Ethos-U
driver (``ethosu_invoke_v3``) for each NPU part of the model, plus Vela's estimates.

Units: sizes and offsets in bytes, cycles in NPU clock cycles (Vela's analytical estimate,
not a measurement).

How the result is obtained
--------------------------
Regor has two output formats. The "raw" format (``CompiledRawModel``: ``command_stream``,
``read_only.data``, ``scratch.size``, ``inputs[i].address/.region``) refuses any model with an
operator left on the CPU ("RawWriter expects a graph without passthrough/CPU operations"), so
this module always uses the TFLite output format and reads Vela's output model:

* every ``ethos-u`` CUSTOM operator is one NPU call (``NpuCall``); its inputs are, in order,
  the command stream (uint8 tensor holding the driver payload: "COP1" header + register
  commands), the read-only blob (weights, scales, LUTs: NPU region 0), the scratch tensor (the
  tensor arena: region 1), scratch_fast (region 2; the same tensor in ``Shared_Sram`` mode), then
  the IFMs; its outputs are the OFMs;
* the model metadata ``OfflineMemoryAllocation`` (int32 words: version, subgraph count, tensor
  count, then one arena offset per tensor, -1 = not planned) gives the offset of every IO tensor
  inside the scratch area: the command stream addresses IFMs/OFMs as region 1 + that offset;
* every other operator stayed on the CPU (``CpuOperator``);
* ``perf_report.npuCycles`` of the compiled model is Vela's NPU cycle estimate.

For an all-NPU model the raw format gives the same command stream, blob and offsets (checked by
tests/test_ethosu_model.py).

Driver contract (Arm's ``ethos-u-core-driver`` and byoc's model in ``kernels_c/ethosu``)::

    uint64_t base[] = {read_only, scratch, scratch_fast, ifm..., ofm...};   /* addresses */
    size_t   size[] = {sizeof read_only, scratch_size, scratch_fast_size, ...};
    ethosu_invoke_v3(drv, command_stream, sizeof command_stream, base, size, n, NULL);

The read-only blob, the scratch area and every buffer the NPU touches must be 16-byte aligned.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ByocError, ModelError, ToolError

#: Accelerator configurations (``--accelerator-config``) this module compiles for.
ACCELERATORS = ("ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256")
#: Defaults of Vela's shipped ``Arm/vela.ini``.
DEFAULT_SYSTEM_CONFIG = "Ethos_U55_High_End_Embedded"
DEFAULT_MEMORY_MODE = "Shared_Sram"
#: Vela's optimisation strategies.
OPTIMISE = ("Performance", "Size")

#: NPU regions (base-address indices) of Vela's command streams.
REGION_READ_ONLY = 0
REGION_SCRATCH = 1
REGION_SCRATCH_FAST = 2

_CUSTOM_CODE = b"ethos-u"
# Vela's core is not re-entrant and the warnings are captured through file descriptors 1/2:
# one compilation at a time per process.
_LOCK = threading.Lock()
_VELA_INI = "Arm/vela.ini"
_TFL_TO_NP = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool",
              7: "int16", 9: "int8"}


@dataclass(frozen=True)
class NpuTensor:
    """An IFM or OFM of an NPU call, as placed by Vela.

    ``offset`` is the byte offset inside NPU region ``region`` (always the scratch area,
    region 1, for Vela's tensors) or None if Vela did not plan the tensor into the arena.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    region: int | None
    offset: int | None
    size: int
    scale: float | None = None
    zero_point: int | None = None


@dataclass(frozen=True)
class NpuCall:
    """One ``ethos-u`` custom operator: one ``ethosu_invoke_v3`` call.

    ``command_stream`` is the driver payload passed as ``custom_data_ptr``; ``read_only`` is
    the content of region 0; the scratch area (region 1, ``scratch_size`` bytes) holds the IFMs,
    OFMs and intermediates; ``scratch_fast_size`` is the size of region 2 (0 or the scratch
    size when it is the same tensor, as in ``Shared_Sram`` mode).
    """

    command_stream: bytes
    read_only: bytes
    scratch_size: int
    scratch_fast_size: int
    scratch_fast_is_scratch: bool
    inputs: tuple[NpuTensor, ...]
    outputs: tuple[NpuTensor, ...]
    operator_index: int


@dataclass(frozen=True)
class CpuOperator:
    """An operator Vela left on the CPU: its index in Vela's output model and type name."""

    index: int
    type: str
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class VelaResult:
    """Outcome of ``compile_vela``.

    ``calls`` are the NPU calls in execution order, ``cpu_operators`` the operators Vela left
    on the CPU, ``inputs``/``outputs`` the model's inputs and outputs in the ORIGINAL model's
    order with their place in the tensor arena (= the scratch area, region 1; an NPU call lists
    its IFMs in Vela's own order, which may differ), ``npu_cycles`` Vela's NPU cycle estimate
    (cycles), ``total_cycles`` that plus its CPU estimate, ``macs`` the model's multiply-
    accumulates and ``tflite`` Vela's output model. The properties ``command_stream``,
    ``read_only`` and ``scratch_size`` are those of the single NPU call of a fully NPU-mapped
    model (ByocError otherwise).
    """

    accelerator: str
    system_config: str
    memory_mode: str
    calls: tuple[NpuCall, ...]
    cpu_operators: tuple[CpuOperator, ...]
    inputs: tuple[NpuTensor, ...]
    outputs: tuple[NpuTensor, ...]
    npu_cycles: int
    total_cycles: int
    macs: int
    tflite: bytes
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def _single(self) -> NpuCall:
        if len(self.calls) != 1:
            raise ByocError(f"Vela split the model into {len(self.calls)} NPU calls "
                            f"({len(self.cpu_operators)} operator(s) on the CPU); use .calls")
        return self.calls[0]

    @property
    def command_stream(self) -> bytes:
        return self._single().command_stream

    @property
    def read_only(self) -> bytes:
        return self._single().read_only

    @property
    def scratch_size(self) -> int:
        return self._single().scratch_size


# --------------------------------------------------------------------------------- helpers

@contextlib.contextmanager
def _captured_fds() -> Iterator[list[str]]:
    """Capture what the C++ core prints on file descriptors 1 and 2 (its warnings)."""
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            for fd in (1, 2):
                os.dup2(tmp.fileno(), fd)
            yield lines
        finally:
            for fd, old in zip((1, 2), saved):
                os.dup2(old, fd)
                os.close(old)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            lines.extend(ln.rstrip() for ln in text.splitlines() if ln.strip())


def _import_vela():
    try:
        from ethosu import regor  # noqa: F401
        from ethosu.vela import architecture_features, vela
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ToolError(f"ethos-u-vela is not installed ({exc}); run `make setup`") from None
    return regor, architecture_features, vela


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip() or "unknown error"


def _builtin_names() -> dict[int, str]:
    import tflite
    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _parse_output(out: bytes) -> tuple[list[NpuCall], list[CpuOperator], list[NpuTensor],
                                      list[NpuTensor]]:
    """Read Vela's output TFLite model: NPU calls, CPU operators, arena offsets."""
    import tflite

    try:
        model = tflite.Model.GetRootAsModel(out, 0)
        offsets: list[int] | None = None
        for i in range(model.MetadataLength()):
            meta = model.Metadata(i)
            if meta.Name() == b"OfflineMemoryAllocation":
                raw = model.Buffers(meta.Buffer()).DataAsNumpy()
                offsets = np.frombuffer(np.asarray(raw, np.uint8).tobytes(), "<i4").tolist()
        sg = model.Subgraphs(0)
        tensors = [sg.Tensors(i) for i in range(sg.TensorsLength())]
    except Exception as exc:  # malformed output would be a Vela bug
        raise ToolError(f"cannot read Vela's output model: {exc}") from None
    if offsets is None or len(offsets) < 3 or offsets[2] != len(tensors) \
            or len(offsets) != 3 + len(tensors):
        raise ToolError("Vela's output model has no valid OfflineMemoryAllocation metadata")
    arena = offsets[3:]

    def buffer_bytes(ti: int) -> bytes:
        buf = model.Buffers(tensors[ti].Buffer())
        if buf.DataLength() == 0:
            return b""
        return np.asarray(buf.DataAsNumpy(), np.uint8).tobytes()

    def tensor_bytes(t) -> int:
        shape = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []
        return int(np.prod(shape, dtype=np.int64)) * np.dtype(_TFL_TO_NP.get(t.Type(), "uint8")).itemsize

    def npu_tensor(ti: int) -> NpuTensor:
        t = tensors[ti]
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        q = t.Quantization()
        scale = zp = None
        if q is not None and q.ScaleLength() == 1:
            scale, zp = float(q.Scale(0)), int(q.ZeroPoint(0))
        off = arena[ti]
        return NpuTensor(t.Name().decode("utf-8", "replace"), shape,
                         _TFL_TO_NP.get(t.Type(), f"type{t.Type()}"),
                         REGION_SCRATCH if off >= 0 else None, off if off >= 0 else None,
                         tensor_bytes(t), scale, zp)

    names = _builtin_names()
    calls: list[NpuCall] = []
    cpu: list[CpuOperator] = []
    for oi in range(sg.OperatorsLength()):
        op = sg.Operators(oi)
        code = model.OperatorCodes(op.OpcodeIndex())
        ins = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(i) for i in op.OutputsAsNumpy()] if op.OutputsLength() else []
        builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
        if names.get(builtin) == "CUSTOM" and code.CustomCode() == _CUSTOM_CODE:
            if len(ins) < 4:
                raise ToolError(f"Vela's ethos-u operator {oi} has {len(ins)} inputs (expected >= 4)")
            cmd, ro, scratch, fast = ins[:4]
            calls.append(NpuCall(
                command_stream=buffer_bytes(cmd),
                read_only=buffer_bytes(ro) if ro >= 0 else b"",
                scratch_size=tensor_bytes(tensors[scratch]) if scratch >= 0 else 0,
                scratch_fast_size=tensor_bytes(tensors[fast]) if fast >= 0 else 0,
                scratch_fast_is_scratch=fast == scratch,
                inputs=tuple(npu_tensor(i) for i in ins[4:]),
                outputs=tuple(npu_tensor(i) for i in outs),
                operator_index=oi))
        else:
            kind = code.CustomCode().decode("utf-8", "replace") if code.CustomCode() \
                else names.get(builtin, f"BUILTIN_{builtin}")
            cpu.append(CpuOperator(oi, kind, tuple(tensors[i].Name().decode("utf-8", "replace")
                                                   for i in outs if i >= 0)))
    model_inputs = [npu_tensor(int(i)) for i in sg.InputsAsNumpy()] if sg.InputsLength() else []
    model_outputs = [npu_tensor(int(i)) for i in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
    return calls, cpu, model_inputs, model_outputs


# --------------------------------------------------------------------------------- API

def compile_vela(
    model: bytes,
    accelerator: str = "ethos-u55-256",
    *,
    system_config: str = DEFAULT_SYSTEM_CONFIG,
    memory_mode: str = DEFAULT_MEMORY_MODE,
    config_ini: str | None = None,
    optimise: str = "Performance",
    arena_cache_size: int | None = None,
) -> VelaResult:
    """Compile TFLite flatbuffer bytes with Vela 5.2 for an Ethos-U55 configuration.

    Args:
        model: the int8 TFLite model (bytes of a ``.tflite`` file).
        accelerator: one of ACCELERATORS (the NPU's MACs per cycle: 32, 64, 128 or 256).
        system_config / memory_mode: section names in the Vela configuration; the defaults are
            those of Vela's shipped ``Arm/vela.ini``.
        config_ini: text of a vela.ini to use instead of the shipped one.
        optimise: "Performance" or "Size".
        arena_cache_size: Vela's ``--arena-cache-size`` in bytes (None = from the config).

    Returns:
        VelaResult (sizes in bytes, cycles in NPU cycles).

    Raises:
        ByocError: unsupported accelerator configuration, unknown system config or memory mode,
            a model that is not TFLite, or Vela failing (one-line message with Vela's reason).
    """
    if accelerator not in ACCELERATORS:
        raise ByocError(f"accelerator configuration '{accelerator}' is not supported; "
                        f"choose one of {', '.join(ACCELERATORS)}")
    if optimise not in OPTIMISE:
        raise ByocError(f"optimise '{optimise}' is not one of {', '.join(OPTIMISE)}")
    if not isinstance(model, (bytes, bytearray, memoryview)):
        raise ModelError(f"model must be TFLite bytes, not {type(model).__name__}")
    model = bytes(model)
    if len(model) < 8 or model[4:8] != b"TFL3":
        raise ModelError("model is not a TFLite flatbuffer (no TFL3 identifier)")
    regor, arch_mod, vela_mod = _import_vela()

    with tempfile.TemporaryDirectory(prefix="byoc_vela_") as tmp:
        if config_ini is None:
            ini_path = Path(arch_mod.CONFIG_FILES_PATH) / _VELA_INI
        else:
            ini_path = Path(tmp) / "vela.ini"
            ini_path.write_text(config_ini)
        arch_output = io.StringIO()
        try:
            with contextlib.redirect_stdout(arch_output):
                arch = arch_mod.ArchitectureFeatures(
                    vela_config_files=[str(ini_path)], system_config=system_config,
                    memory_mode=memory_mode, accelerator_config=accelerator,
                    max_blockdep=arch_mod.ArchitectureFeatures.MAX_BLOCKDEP, verbose_config=False,
                    arena_cache_size=arena_cache_size)
        except Exception as exc:  # VelaError / CliOptionError / configparser errors
            text = getattr(exc, "data", None) or str(exc)
            raise ByocError(f"Vela configuration: {_first_line(text)}") from None
        ini_text = ini_path.read_text()

    sysconfig = (f"[architecture]\nmacs={arch.num_macs_per_cycle}\ncores={arch.ncores}\n"
                 f"[vela]\nsystem_config_name={arch.system_config}\n"
                 f"memory_mode_name={arch.memory_mode}\n" + ini_text)
    options = vela_mod.get_compiler_config(
        enable_debug_db=False, verbose_all=False, verbose_high_level_command_stream=False,
        verbose_register_command_stream=False, optimize=optimise,
        arena_cache_size=arch.arena_cache_size, verbose_schedule=False, verbose_allocation=False,
        verbose_graph=False, verbose_quantization=False, verbose_packing=False,
        verbose_performance=False, show_cpu_operations=True, output_format="tflite",
        disable_chaining=False, disable_fwd=False, disable_cascading=False,
        disable_buffering=False, disable_ifm_reuse=False, cop_format="COP1",
        separate_io_regions=False, cpu_tensor_alignment=16, tensor_allocator="HillClimb",
        softmax_int16_neg_exp_range=10.0, ignore_ops="")
    with _LOCK, _captured_fds() as printed:
        try:
            compiled = regor.compile("EthosU55", model, "TFLITE", sysconfig, options=options,
                                     verbose=False)
            error = None
        except Exception as exc:
            error = exc
    if error is not None:
        detail = _first_line(str(error)).removeprefix("Compilation failed: ")
        raise ByocError(f"Vela could not compile the model for {accelerator}: {detail}")
    calls, cpu, model_inputs, model_outputs = _parse_output(bytes(compiled.model))
    report = compiled.perf_report
    return VelaResult(
        accelerator=accelerator, system_config=system_config, memory_mode=memory_mode,
        calls=tuple(calls), cpu_operators=tuple(cpu), inputs=tuple(model_inputs),
        outputs=tuple(model_outputs), npu_cycles=int(report.npuCycles),
        total_cycles=int(report.totalCycles), macs=int(report.macCount),
        tflite=bytes(compiled.model),
        warnings=tuple(ln.strip() for ln in arch_output.getvalue().splitlines() if ln.strip())
        + tuple(printed))
