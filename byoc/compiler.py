"""``byoc.compile``: .tflite (or Relax) -> partition -> codegens -> AOT -> output package.

Pipeline: TFLite -> Relax QDQ graph (``byoc.frontend``, not yet legalized) -> every backend
of ``--target`` in order (``byoc.backend``: Ethos-U regions and CMSIS-NN partitions with
their codegen, then the generic path's integer legalization of what is left, ``byoc.qnn``)
-> float check -> every backend's C functions (the generic path lowers LegalizeOps/FuseOps/
FuseTIR -> C) -> AOT assembly -> the package with every backend's parts.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

import tvm

from . import fault_injection, progress
from .aot import AOTProgram, IOTensor, assemble
from .backend import CompileContext, PackageParts
from .errors import ByocError, UnsupportedOperatorError
from .frontend import from_tflite
from .cpus import CPUS
from .generic import GenericBackend
from .libraries import Libraries
from .naming import c_identifier, generated_prefixes, unique_identifiers
from .package import PackageSources, check_output_dir, io_json, render, write_package
from .tflite.reader import TFLiteModel, load_model
from .version import __version__

NPU_TARGETS = ("ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256")
KNOWN_TARGETS = NPU_TARGETS + ("cmsis-nn", "c")


@dataclass
class CompiledModel:
    """Result of ``byoc.compile``: where the package is and what is in it.

    Memory figures are bytes. ``calls`` lists, in execution order, each operator call of
    the run function with the backend that executes it.
    """

    output_dir: Path
    prefix: str
    target: str
    cpu: str
    metadata: dict
    program: AOTProgram = field(repr=False)

    @property
    def arena_bytes(self) -> int:
        return self.metadata["memory"]["arena_bytes"]

    @property
    def arena_lower_bound_bytes(self) -> int:
        return self.metadata["memory"]["arena_lower_bound_bytes"]

    @property
    def constant_bytes(self) -> int:
        return self.metadata["memory"]["constant_bytes"]

    @property
    def state_bytes(self) -> int:
        """Bytes of the state buffer of a stateful model (0 when stateless)."""
        return self.metadata["memory"].get("state_bytes", 0)

    @property
    def is_stateful(self) -> bool:
        return bool(self.metadata.get("state"))

    @property
    def calls(self) -> list[dict]:
        return self.metadata["calls"]

    @property
    def placement(self) -> list[dict]:
        """Per TFLite operator: ``{"index", "type", "backend", "reason"}`` (with a
        kernel-library target; empty for ``--target c`` and Relax inputs)."""
        return [op for op in self.metadata["operators"] if "backend" in op]

    @property
    def header(self) -> Path:
        return self.output_dir / "include" / f"{self.prefix}.h"


def parse_target(target: str) -> list[str]:
    """Split "ethos-u55-256,cmsis-nn,c" into its parts and check each one."""
    parts = [t.strip() for t in target.split(",") if t.strip()]
    if not parts:
        raise ByocError("empty --target")
    for i, t in enumerate(parts):
        if t == "c" and i != len(parts) - 1:
            raise ByocError("target 'c' (the generic C path) must come last, e.g. 'cmsis-nn,c'")
        if parts.count(t) > 1:
            raise ByocError(f"target '{t}' is given twice")
        if t.startswith("ethos-u") and t not in NPU_TARGETS:
            raise ByocError(f"accelerator configuration '{t}' is not supported; "
                            f"choose one of {', '.join(NPU_TARGETS)}")
        if t not in KNOWN_TARGETS:
            raise ByocError(f"unknown target '{t}'; available: {', '.join(KNOWN_TARGETS)}")
        if t in NPU_TARGETS and i != 0:
            raise ByocError(f"the NPU target '{t}' must come first, e.g. '{t},cmsis-nn,c'")
    if parts[-1] != "c":
        parts.append("c")  # the generic C path always takes what is left
    return parts


def _versions() -> dict:
    out = {"byoc": __version__, "tvm": tvm.__version__}
    for pkg in ("ethos-u-vela", "tflite"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _io_from_tflite(model: TFLiteModel, prefix: str = "model"
                    ) -> tuple[list[IOTensor], list[IOTensor]]:
    """The model's own inputs and outputs (a stateful model's variables are not among
    them: they are its state)."""
    infos = list(model.inputs) + list(model.outputs)
    names = unique_identifiers([t.name for t in infos], reserved_prefixes=generated_prefixes(prefix))
    ios = [IOTensor(n, t.name, tuple(t.shape), t.dtype, list(t.scale), list(t.zero_point))
           for n, t in zip(names, infos)]
    return ios[:len(model.inputs)], ios[len(model.inputs):]


def _io_from_relax(mod: tvm.IRModule, prefix: str = "model"
                   ) -> tuple[list[IOTensor], list[IOTensor]]:
    from tvm import relax
    main = mod["main"]

    def shape_dtype(ty):
        return tuple(int(d) for d in ty.shape.values), str(ty.dtype)

    ins = []
    for p in main.params:
        shape, dtype = shape_dtype(p.ty)
        ins.append((p.name, shape, dtype))
    ret = main.ret_type if hasattr(main, "ret_type") else main.body.ty
    rets = list(ret.fields) if isinstance(ret, relax.TupleType) else [ret]
    outs = [(f"output_{i}",) + shape_dtype(t) for i, t in enumerate(rets)]
    names = unique_identifiers([n for n, _, _ in ins + outs],
                               reserved_prefixes=generated_prefixes(prefix))
    ios = [IOTensor(n, orig, s, d) for n, (orig, s, d) in zip(names, ins + outs)]
    return ios[:len(ins)], ios[len(ins):]


def backends_for(targets: list[str]) -> list:
    """The ``byoc.backend.Backend`` of every part of a parsed ``--target``, in order."""
    out = []
    for t in targets:
        if t in NPU_TARGETS:
            from .ethosu.backend import EthosUBackend
            out.append(EthosUBackend(t))
        elif t == "cmsis-nn":
            from .cmsisnn.backend import CmsisNNBackend
            out.append(CmsisNNBackend())
        else:
            out.append(GenericBackend())
    return out


@dataclass
class Partitioned:
    """The module after every backend partitioned it (the generic one: legalized), the
    backends with what each took, and the context they ran in."""

    mod: tvm.IRModule
    backends: list
    ctx: CompileContext

    @property
    def qnn_report(self) -> list:
        """byoc.qnn's legalization report (``byoc.qnn.legalize.legalize_quantized``)."""
        return self.ctx.qnn_report


def partition(mod: tvm.IRModule, ctx: CompileContext) -> Partitioned:
    """Every backend of ``ctx.targets`` partitions ``mod`` in turn (the NPU first, the
    generic C path last: byoc.qnn's integer legalization of what is left)."""
    backends = backends_for(ctx.targets)
    for backend in backends:
        mod = backend.partition(mod, ctx)
    return Partitioned(mod, backends, ctx)


def partition_and_legalize(mod: tvm.IRModule, targets: list[str], cpu: str, prefix: str,
                           legalize: bool = True, vela: dict | None = None) -> Partitioned:
    """``partition`` with a fresh context: ``legalize=False`` for already legalized Relax
    inputs; ``vela``: Vela options (``system_config``, ``memory_mode``, ``optimise``,
    ``config`` = path of a vela.ini)."""
    return partition(mod, CompileContext(targets, cpu, prefix, vela, legalize=legalize))


@dataclass
class _Source:
    """The model to compile, imported: its Relax module and what metadata.json says of it."""

    mod: tvm.IRModule
    tfl: "TFLiteModel | None"
    inputs: list[IOTensor]
    outputs: list[IOTensor]
    name: str
    digest: str | None
    operators: list[dict]


def _import(model, prefix: str) -> _Source:
    """A Relax input as it is; a TFLite model through byoc's frontend (not legalized)."""
    if isinstance(model, tvm.IRModule):
        inputs, outputs = _io_from_relax(model, prefix)
        return _Source(model, None, inputs, outputs, "Relax IRModule", None, [])
    tfl = model if isinstance(model, TFLiteModel) else load_model(model)
    progress.note("importing the model with TVM's TFLite frontend")
    mod = from_tflite(tfl, legalize=False)
    inputs, outputs = _io_from_tflite(tfl, prefix)
    return _Source(mod, tfl, inputs, outputs, tfl.path.name if tfl.path else "model.tflite",
                   hashlib.sha256(tfl.data).hexdigest(),
                   [{"index": op.index, "type": op.type, "macs": op.macs}
                    for op in tfl.operators])


def _check_request(target: str, cpu: str, prefix: str, output_dir, force: bool,
                   plot_memory: bool, library_paths: tuple) -> tuple[list[str], Libraries]:
    """Refuse a bad target, core, prefix, library tree or output directory before any work."""
    targets = parse_target(target)
    libraries = Libraries.from_options(*library_paths).check_complete()
    if cpu not in CPUS:
        raise ByocError(f"unknown --cpu '{cpu}'; choose one of {', '.join(CPUS)}")
    if c_identifier(prefix) != prefix or prefix.lower() != prefix:
        raise ByocError(f"prefix '{prefix}' is not a lower-case C identifier "
                        f"(try '{c_identifier(prefix).lower()}')")
    if output_dir is not None:
        check_output_dir(Path(output_dir).absolute(), force)
    if plot_memory:
        from .memplot import require_matplotlib
        require_matplotlib()  # before any work
    return targets, libraries


def compile(  # noqa: A001 - the public name mirrors tvm.compile
    model: "str | os.PathLike | bytes | tvm.IRModule | TFLiteModel",
    target: str = "c",
    cpu: str = "cortex-m55",
    output_dir: "str | os.PathLike | None" = None,
    prefix: str = "model",
    force: bool = False,
    plot_memory: bool = False,
    vela: dict | None = None,
    allow_float: bool = False,
    cmsis_nn_path: "str | os.PathLike | None" = None,
    ethosu_driver_path: "str | os.PathLike | None" = None,
    cmsis_path: "str | os.PathLike | None" = None,
) -> CompiledModel:
    """Compile a model to a standalone C package.

    ``model`` is a .tflite path, its bytes, a loaded ``TFLiteModel`` or a Relax IRModule
    (already imported, e.g. by ``byoc.frontend.from_tflite``). ``output_dir`` receives the
    package (see ``byoc.package``); when None a fresh temporary directory is used.
    ``force`` replaces an existing non-empty output directory. ``plot_memory`` also writes
    ``memory.png``, a picture of the arena plan (``byoc.memplot``; needs matplotlib).
    ``vela`` (with an ``ethos-u55-*`` target): Vela options ``system_config``,
    ``memory_mode`` (defaults of Vela's Arm/vela.ini: Ethos_U55_High_End_Embedded,
    Shared_Sram), ``optimise`` ("Performance" or "Size"), ``config`` (path of a vela.ini).
    ``allow_float``: compile quantized operators that no integer kernel computes with float
    arithmetic (dequantize -> float op -> quantize) instead of refusing the model
    (``byoc.qnn.float_check``; the metadata lists them under ``float_operators``).
    ``cmsis_nn_path``, ``ethosu_driver_path``, ``cmsis_path``: Arm's CMSIS-NN,
    ethos-u-core-driver and CMSIS_6/CMSIS_5 checkouts the package's CMake builds by default
    instead of byoc's kernels / functional Ethos-U55 model (``byoc.libraries``; recorded
    under ``libraries`` in the metadata).
    """
    start = time.monotonic()
    targets, libraries = _check_request(target, cpu, prefix, output_dir, force, plot_memory,
                                        (cmsis_nn_path, ethosu_driver_path, cmsis_path))
    source = _import(model, prefix)
    # A Relax input was imported by the user, legalized unless cmsis-nn is to see its chains.
    ctx = CompileContext(targets, cpu, prefix, vela, libraries,
                         legalize=source.tfl is not None or "cmsis-nn" in targets)
    progress.note(f"partitioning for {target}")
    parts = partition(source.mod, ctx)
    floats = _float_check(parts, source.tfl, allow_float)
    progress.note("lowering the generic operators to TIR and C")
    lowered, owners = _codegen(parts)
    program = assemble(lowered, {callee: call.function for callee, (_, call) in owners.items()},
                       source.inputs, source.outputs, prefix,
                       {callee: call.label for callee, (_, call) in owners.items()},
                       state=source.tfl.state if source.tfl is not None else None)
    metadata = _metadata(source, parts, program, owners, floats, target, allow_float)
    metadata["compile_seconds"] = round(time.monotonic() - start, 3)
    if fault_injection.from_environment() is not None:   # a test's deliberately wrong package
        metadata["test_fault"] = os.environ[fault_injection.ENV]
    progress.note("writing the package")
    package_parts = sum((b.package_parts(ctx) for b in reversed(parts.backends)), PackageParts())
    files = render(PackageSources(program, metadata, source_model=source.name,
                                  **package_parts.as_kwargs()), __version__)
    dest = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="byoc_"))
    write_package(files, dest, force=force or output_dir is None)
    if plot_memory:
        from .memplot import plot_memory as _plot_memory
        _plot_memory(metadata, dest / "memory.png")
    return CompiledModel(dest.absolute(), prefix, target, cpu, metadata, program)


def _codegen(parts: Partitioned) -> tuple[tvm.IRModule, dict]:
    """Every backend's C functions: the module the AOT assembles (lowered by the generic
    backend) and {callee: (backend, byoc.backend.BackendCall)}."""
    mod, owners = parts.mod, {}
    for backend in parts.backends:
        mod, calls = backend.codegen(mod, parts.ctx)
        owners.update({callee: (backend, call) for callee, call in calls.items()})
    return mod, owners


def _call_rows(program, owners: dict, parts: Partitioned) -> list[dict]:
    """metadata ``calls``: every operator call in order with the backend that computes it and,
    when a backend gives one, why (a kernel library explains every generic call)."""
    reasons = [r for r in (b.generic_call_reasons(parts.mod, parts.ctx) for b in parts.backends)
               if r is not None]
    by_function = {call.function.name: (callee, backend, call)
                   for callee, (backend, call) in owners.items()}
    rows = []
    for c in program.calls:
        callee, backend, call = by_function[c.func.name]
        row = {"index": c.index, "function": c.func.name, "label": c.label,
               "backend": backend.name, "scratch_bytes": c.func.scratch_bytes}
        reason = call.reason if call.reason is not None or not reasons else reasons[0](callee)
        if reason is not None:
            row["reason"] = reason
        rows.append(row)
    return rows


def _metadata(source: _Source, parts: Partitioned, program, owners: dict, floats: list,
              target: str, allow_float: bool) -> dict:
    """metadata.json (see README.md; ``compile_seconds`` and ``test_fault`` come last)."""
    ctx, backends = parts.ctx, parts.backends
    calls = _call_rows(program, owners, parts)
    operators = [dict(op) for op in source.operators]
    if source.tfl is not None and len(ctx.targets) > 1:
        for op, row in zip(operators, _operator_rows(parts, source.tfl)):
            op["backend"], op["reason"] = row.backend, row.reason
    memory = program.plan.to_json()
    memory["constant_bytes"] = program.constant_bytes
    memory["state_bytes"] = program.state_bytes
    libraries: dict = {}
    for backend in backends:
        libraries.update(backend.libraries_json())
    metadata = {
        "npu_cycles": None,            # format fields of every target, filled by a backend
        "prefix": ctx.prefix,
        "target": target,
        "cpu": ctx.cpu,
        "model": {"source": source.name, "sha256": source.digest,
                  "inputs": [io_json(io) for io in source.inputs],
                  "outputs": [io_json(io) for io in source.outputs]},
        "operators": operators,
        "partitions": [s for s in (b.summary(calls) for b in backends) if s is not None],
        "npu_regions": [],
        "state": program.state.to_json() if program.state is not None else None,
        "calls": calls,
        "allow_float": allow_float,
        "float_operators": [f.to_json() for f in floats],
        "memory": memory,
        "libraries": ctx.libraries.to_json(**libraries),
        "versions": _versions(),
    }
    for backend in backends:
        metadata.update(backend.metadata())
    return metadata


def _float_check(parts: Partitioned, tfl: "TFLiteModel | None", allow_float: bool) -> list:
    """The float computations left after legalization; refuses them unless allowed (a Relax
    input is not checked: its operators cannot be named)."""
    if tfl is None:
        return []
    from .qnn.float_check import find_float_computations, refusal
    found = find_float_computations(parts.mod, tfl, parts.qnn_report)
    if found and not allow_float:
        label = str(tfl.path) if tfl.path else "model"
        raise UnsupportedOperatorError(refusal(found, label))
    return found


def float_computations(model: "str | os.PathLike | bytes | TFLiteModel", target: str = "c",
                       cpu: str = "cortex-m55", vela: dict | None = None) -> list[dict]:
    """The quantized operators ``byoc.compile`` would compute in float for ``target``
    (and refuse without ``allow_float``): ``[{"index", "type", "reason", "relax_ops"}]``."""
    from .qnn.float_check import find_float_computations
    targets = parse_target(target)
    tfl = model if isinstance(model, TFLiteModel) else load_model(model)
    parts = partition_and_legalize(from_tflite(tfl, legalize=False), targets, cpu, "model",
                                   vela=vela)
    return [f.to_json() for f in find_float_computations(parts.mod, tfl, parts.qnn_report)]


def placement(model: "str | os.PathLike | bytes | TFLiteModel", target: str = "cmsis-nn,c",
              cpu: str = "cortex-m55", vela: dict | None = None) -> list[dict]:
    """Where each TFLite operator of ``model`` goes for ``target`` and why, without
    compiling to C: ``[{"index", "type", "backend", "reason"}, ...]`` in model order
    (with an NPU target, the NPU regions are partitioned and compiled by Vela)."""
    targets = parse_target(target)
    if cpu not in CPUS:
        raise ByocError(f"unknown --cpu '{cpu}'; choose one of {', '.join(CPUS)}")
    tfl = model if isinstance(model, TFLiteModel) else load_model(model)
    parts = partition_and_legalize(from_tflite(tfl, legalize=False), targets, cpu, "model",
                                   vela=vela)
    out = [r.to_json() for r in _operator_rows(parts, tfl)]
    from .qnn.float_check import find_float_computations
    floats = {f.index: f for f in find_float_computations(parts.mod, tfl, parts.qnn_report)}
    for r in out:
        f = floats.get(r["index"])
        if f is not None:
            r["backend"] = "generic"
            r["reason"] = f"computed in float: {f.reason} (refused without --allow-float)"
    return out


def _operator_rows(parts: Partitioned, tfl: TFLiteModel) -> list:
    """``byoc.placement`` rows of every TFLite operator, from the target's backends."""
    from . import placement as pl
    rows = [r for r in (b.placement_rows(parts.mod, parts.ctx) for b in parts.backends)
            if r is not None]
    return pl.per_operator([(op.index, op.type) for op in tfl.operators], rows)
