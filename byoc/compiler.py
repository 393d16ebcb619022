"""``byoc.compile``: .tflite (or Relax) -> partition -> codegens -> AOT -> output package.

Pipeline (``partition_and_legalize``): TFLite -> Relax QDQ graph (``byoc.frontend``, not yet
legalized) -> Ethos-U partitioning (future: ``_partition_ethosu``) -> CMSIS-NN partitioning
and codegen (when ``cmsis-nn`` is in ``--target``) -> integer legalization of what is left
(``byoc.qnn``) -> generic lowering (LegalizeOps/FuseOps/FuseTIR -> C) -> AOT assembly.
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
from .errors import ByocError, UnsupportedOperatorError
from .frontend import from_tflite
from .cpus import CPUS
from .generic import emit_generic_functions, lower_generic, primfuncs
from .libraries import Libraries
from .qnn.legalize import legalize_quantized
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


@dataclass
class Partitioned:
    """The module after partitioning and legalization, and what each backend took."""

    mod: tvm.IRModule
    cmsis_calls: dict = field(default_factory=dict)   # symbol -> byoc.cmsisnn.CmsisCall
    qnn_report: list = field(default_factory=list)    # byoc.qnn legalization report
    decisions: list = field(default_factory=list)     # byoc.cmsisnn partition decisions
    npu_regions: dict = field(default_factory=dict)   # symbol -> byoc.ethosu.codegen.Region
    npu_decisions: list = field(default_factory=list)  # byoc.ethosu partition decisions


def vela_options(targets: list[str], vela: dict | None):
    """``byoc.ethosu.partition.VelaOptions`` of the NPU target (None without one)."""
    npu = [t for t in targets if t in NPU_TARGETS]
    if not npu:
        return None
    from .ethosu.partition import VelaOptions
    vela = dict(vela or {})
    ini = vela.pop("config", None)
    if ini is not None:
        try:
            ini = Path(ini).read_text()
        except OSError as exc:
            raise ByocError(f"cannot read vela.ini '{ini}': {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ByocError(f"vela.ini '{ini}' is not a text file (an INI file is "
                            "expected)") from None
    unknown = set(vela) - {"system_config", "memory_mode", "optimise"}
    if unknown:
        raise ByocError(f"unknown Vela option(s): {', '.join(sorted(unknown))}")
    return VelaOptions(npu[0], vela.get("system_config"), vela.get("memory_mode"), ini,
                       vela.get("optimise") or "Performance")


def _partition_ethosu(mod: tvm.IRModule, targets: list[str], cpu: str, prefix: str = "model",
                      vela: dict | None = None, out: "Partitioned | None" = None) -> tvm.IRModule:
    """The Ethos-U partitioning and codegen, before CMSIS-NN (the NPU takes what it can
    first): regions become ``call_dps_packed`` calls of their C functions."""
    del cpu
    options = vela_options(targets, vela)
    if options is None:
        return mod
    from .ethosu import codegen as ethosu_codegen
    from .ethosu.partition import partition_for_ethosu
    decisions: list = []
    mod = partition_for_ethosu(mod, options.accelerator, system_config=options.system_config,
                               memory_mode=options.memory_mode, config_ini=options.config_ini,
                               optimise=options.optimise, report=decisions)
    mod, regions = ethosu_codegen.generate(mod, prefix, options)
    if out is not None:
        out.npu_regions, out.npu_decisions = regions, decisions
    return mod


def partition_and_legalize(mod: tvm.IRModule, targets: list[str], cpu: str, prefix: str,
                           legalize: bool = True, vela: dict | None = None) -> Partitioned:
    """Ethos-U regions -> CMSIS-NN partitions and their C functions -> byoc.qnn integer
    legalization of what is left (skipped with ``legalize=False``, for already legalized
    Relax inputs). ``vela``: Vela options (``system_config``, ``memory_mode``,
    ``optimise``, ``config`` = path of a vela.ini)."""
    out = Partitioned(mod)
    mod = _partition_ethosu(mod, targets, cpu, prefix, vela, out)
    if "cmsis-nn" in targets:
        from .cmsisnn import codegen as cmsisnn_codegen
        from .cmsisnn import partition_for_cmsisnn
        mod = partition_for_cmsisnn(mod, cpu, report=out.decisions)
        mod, out.cmsis_calls = cmsisnn_codegen.generate(mod, prefix, cpu)
    if legalize:
        mod = legalize_quantized(mod, report=out.qnn_report)
    out.mod = mod
    return out


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
    targets = parse_target(target)
    libraries = Libraries.from_options(cmsis_nn_path, ethosu_driver_path,
                                       cmsis_path).check_complete()
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

    tfl: TFLiteModel | None = None
    if isinstance(model, tvm.IRModule):
        mod = model
        inputs, outputs = _io_from_relax(mod, prefix)
        source_name, digest, operators = "Relax IRModule", None, []
    else:
        tfl = model if isinstance(model, TFLiteModel) else load_model(model)
        progress.note("importing the model with TVM's TFLite frontend")
        mod = from_tflite(tfl, legalize=False)
        inputs, outputs = _io_from_tflite(tfl, prefix)
        source_name = tfl.path.name if tfl.path else "model.tflite"
        digest = hashlib.sha256(tfl.data).hexdigest()
        operators = [{"index": op.index, "type": op.type, "macs": op.macs}
                     for op in tfl.operators]

    # A Relax input was imported by the user, legalized unless cmsis-nn is to see its chains.
    progress.note(f"partitioning for {target}")
    parts = partition_and_legalize(mod, targets, cpu, prefix,
                                   legalize=tfl is not None or "cmsis-nn" in targets,
                                   vela=vela)
    floats = _float_check(parts, tfl, allow_float)
    progress.note("lowering the generic operators to TIR and C")
    lowered = lower_generic(parts.mod)
    functions = emit_generic_functions(lowered, prefix)
    labels = {}
    for name, f in primfuncs(lowered).items():
        attrs = f.attrs or {}
        labels[name] = str(attrs["byoc.op"]) if "byoc.op" in attrs else name
    for symbol, c in parts.cmsis_calls.items():
        functions[symbol] = c.function
        labels[symbol] = c.label
    for symbol, r in parts.npu_regions.items():
        functions[symbol] = r.function
        labels[symbol] = r.label
    program = assemble(lowered, functions, inputs, outputs, prefix, labels,
                       state=tfl.state if tfl is not None else None)

    calls = [{"index": c.index, "function": c.func.name, "label": c.label, "backend": "generic",
              "scratch_bytes": c.func.scratch_bytes} for c in program.calls]
    partitions = [{"backend": "generic", "calls": len(calls)}]
    extra: dict = {}
    if "cmsis-nn" in targets:
        partitions = _placement(parts, calls, prefix)
        from . import cmsisnn
        if parts.cmsis_calls:
            extra = cmsisnn.package_parts(prefix, cpu, libraries.cmsis_nn)
    npu_cycles = None
    regions_json = []
    if parts.npu_regions:
        from .ethosu import codegen as ethosu_codegen
        names = {r.function.name: r for r in parts.npu_regions.values()}
        for call in calls:
            if call["function"] in names:
                call["backend"] = "ethos-u"
                call["reason"] = "Vela: on the NPU"
        regions_json = [r.to_json() for r in parts.npu_regions.values()]
        npu_cycles = sum(r["npu_cycles"] for r in regions_json)
        n_npu = sum(c["backend"] == "ethos-u" for c in calls)
        partitions = [{"backend": "ethos-u", "calls": n_npu,
                       "operators": sum(len(r["operators"]) for r in regions_json)}] + \
            [p for p in partitions if p["backend"] != "generic"] + \
            [{"backend": "generic", "calls": sum(c["backend"] == "generic" for c in calls)}]
        extra.setdefault("extra_includes", []).append(ethosu_codegen.HEADER)
        npu_config = next(t for t in targets if t in NPU_TARGETS)
        extra["extra_cmake"] = extra.get("extra_cmake", "") + ethosu_codegen.cmake_lines(
            prefix, npu_config, libraries.ethosu_driver, libraries.cmsis)
        extra["ops_preamble"] = extra.get("ops_preamble", "") + \
            ethosu_codegen.ops_preamble(prefix)
        extra.setdefault("extra_files", {}).update(ethosu_codegen.driver_sources())
        from .cmsisnn import cmake_module
        extra["extra_files"].update(cmake_module())
        extra["header_extra"] = ethosu_codegen.header_lines(prefix)
    if tfl is not None and len(targets) > 1:
        for op, row in zip(operators, _operator_rows(parts, targets, tfl)):
            op["backend"], op["reason"] = row.backend, row.reason
    memory = program.plan.to_json()
    memory["constant_bytes"] = program.constant_bytes
    memory["state_bytes"] = program.state_bytes
    metadata = {
        "npu_cycles": npu_cycles,
        "prefix": prefix,
        "target": target,
        "cpu": cpu,
        "model": {"source": source_name, "sha256": digest,
                  "inputs": [_io_json(io) for io in inputs],
                  "outputs": [_io_json(io) for io in outputs]},
        "operators": operators,
        "partitions": partitions,
        "npu_regions": regions_json,
        "state": program.state.to_json() if program.state is not None else None,
        "calls": calls,
        "allow_float": allow_float,
        "float_operators": [f.to_json() for f in floats],
        "memory": memory,
        "libraries": libraries.to_json(
            cmsis_nn=bool(parts.cmsis_calls), ethosu=bool(parts.npu_regions),
            npu_config=next((t for t in targets if t in NPU_TARGETS), None)),
        "versions": _versions(),
        "compile_seconds": round(time.monotonic() - start, 3),
    }
    if fault_injection.from_environment() is not None:   # a test's deliberately wrong package
        metadata["test_fault"] = os.environ[fault_injection.ENV]
    progress.note("writing the package")
    files = render(PackageSources(program, metadata, source_model=source_name, **extra),
                   __version__)
    dest = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="byoc_"))
    write_package(files, dest, force=force or output_dir is None)
    if plot_memory:
        from .memplot import plot_memory as _plot_memory
        _plot_memory(metadata, dest / "memory.png")
    return CompiledModel(dest.absolute(), prefix, target, cpu, metadata, program)


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
    out = [r.to_json() for r in _operator_rows(parts, targets, tfl)]
    from .qnn.float_check import find_float_computations
    floats = {f.index: f for f in find_float_computations(parts.mod, tfl, parts.qnn_report)}
    for r in out:
        f = floats.get(r["index"])
        if f is not None:
            r["backend"] = "generic"
            r["reason"] = f"computed in float: {f.reason} (refused without --allow-float)"
    return out


def _operator_rows(parts: Partitioned, targets: list[str], tfl: TFLiteModel) -> list:
    """``byoc.placement`` rows of every TFLite operator, from the target's backends."""
    from . import placement as pl
    backends = []
    if any(t in NPU_TARGETS for t in targets):
        from .ethosu.codegen import placement_rows
        backends.append(placement_rows(parts.npu_regions, parts.npu_decisions))
    if "cmsis-nn" in targets:
        from .cmsisnn import placement as cpl
        entries = cpl.entries(parts.mod, parts.cmsis_calls, parts.qnn_report, parts.decisions)
        backends.append(cpl.rows(entries, parts.decisions))
    return pl.per_operator([(op.index, op.type) for op in tfl.operators], backends)


def _placement(parts: Partitioned, calls: list[dict], prefix: str) -> list[dict]:
    """Fill in the backend and the reason of every call (in place); returns the partition
    summary."""
    from .cmsisnn import placement as pl
    entries = pl.entries(parts.mod, parts.cmsis_calls, parts.qnn_report, parts.decisions)
    # C function names: CMSIS-NN ones as generated, generic ones "<prefix>_<PrimFunc>"
    by_callee = {e.callee if e.backend == pl.CMSIS else f"{prefix}_{e.callee}": e
                 for e in entries}
    cmsis_names = {c.function.name for c in parts.cmsis_calls.values()}
    for call in calls:
        name = call["function"]
        entry = by_callee.get(name)
        if name in cmsis_names:
            call["backend"] = pl.CMSIS
        call["reason"] = entry.reason if entry is not None else \
            "generic operators (no CMSIS-NN kernel)"
    n_cmsis = sum(c["backend"] == pl.CMSIS for c in calls)
    return [{"backend": pl.CMSIS, "calls": n_cmsis},
            {"backend": pl.GENERIC, "calls": len(calls) - n_cmsis}]


def _io_json(io: IOTensor) -> dict:
    return io_json(io)
