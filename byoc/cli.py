"""The ``byoc`` command line (tvmc-like).

    byoc compile model.tflite --target c --cpu cortex-m55 -o out/
    byoc info model.tflite [--json] [--target cmsis-nn,c [--cpu cortex-m55]]
    byoc validate model.tflite --target c [--backend qemu|fvp|host] [--inputs N | --steps N] [--profile] [--json]
    byoc run PACKAGE_DIR --input x.npy [--input ...] [--output y.npy ...] [--steps N] [--backend qemu|fvp]
    byoc regress MODELS_OR_FOLDERS --target c,cmsis-nn,c --cpu cortex-m55,cortex-m4 [-j N] [--junit x.xml]
    byoc ops [--markdown]

Exit codes: 0 success (validate: bit-exact), 1 validate mismatch, 2 any error. Errors are
one line on stderr; ``--debug`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import progress
from .cpus import cpu_help
from .errors import ByocError


def _add_compile_args(p: argparse.ArgumentParser, cpu_default: str | None = "cortex-m55") -> None:
    p.add_argument("--target", default="c",
                   help="comma-separated backends, first match wins; 'c' (generic C) always last")
    p.add_argument("--cpu", default=cpu_default,
                   help=cpu_help()
                        + ("" if cpu_default else " (default: cortex-m55 for qemu/fvp, host for host)"))
    p.add_argument("--allow-float", action="store_true",
                   help="compile quantized operators that have no integer kernel with float "
                        "arithmetic (default: refuse the model, naming the operator)")
    _add_vela_args(p)


def _add_vela_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Vela options (ethos-u55-* targets)")
    g.add_argument("--system-config", default=None,
                   help="Vela system config (default Ethos_U55_High_End_Embedded)")
    g.add_argument("--memory-mode", default=None, help="Vela memory mode (default Shared_Sram)")
    g.add_argument("--optimise", default=None, choices=("Performance", "Size"),
                   help="Vela optimisation strategy (default Performance)")
    g.add_argument("--vela-config", default=None, metavar="VELA.INI",
                   help="a vela.ini to use instead of Vela's Arm/vela.ini")


def _add_library_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Arm's libraries (default: byoc's own trees, shipped in the package)")
    g.add_argument("--cmsis-nn-path", default=None, metavar="DIR",
                   help="Arm CMSIS-NN checkout (ARM-software/CMSIS-NN, v7.0.0 or newer) to build "
                        "instead of byoc's kernels")
    g.add_argument("--ethosu-driver-path", default=None, metavar="DIR",
                   help="Arm ethos-u-core-driver checkout to build instead of byoc's functional "
                        "Ethos-U55 model (needs --cmsis-path; runs on the FVP, not on QEMU)")
    g.add_argument("--cmsis-path", default=None, metavar="DIR",
                   help="CMSIS_6 or CMSIS_5 checkout (CMSIS/Core/Include) for Arm's Ethos-U driver")


def _libraries(args) -> dict:
    return {"cmsis_nn_path": args.cmsis_nn_path, "ethosu_driver_path": args.ethosu_driver_path,
            "cmsis_path": args.cmsis_path}


def _vela(args) -> dict | None:
    d = {"system_config": getattr(args, "system_config", None),
         "memory_mode": getattr(args, "memory_mode", None),
         "optimise": getattr(args, "optimise", None),
         "config": getattr(args, "vela_config", None)}
    d = {k: v for k, v in d.items() if v is not None}
    return d or None


REGIONS = ("ITCM", "SRAM", "DTCM", "SRAM2", "DDR")


def _memory_override(text: str) -> tuple[str, int]:
    key, sep, value = text.partition("=")
    key = key.strip().upper()
    region, _, what = key.rpartition("_")
    if not sep or region not in REGIONS or what not in ("BASE", "SIZE"):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not REGION_SIZE=BYTES or REGION_BASE=ADDRESS "
            f"(regions: {', '.join(REGIONS)})")
    try:
        return key, int(value.strip(), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number (e.g. 0x100000)") from None


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}': the timeout must be a positive number "
                                         "of seconds")
    return value


def _add_corstone_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", action="store_true",
                   help="count instructions per operator call and print the table")
    p.add_argument("--timeout", type=_positive_seconds, default=None, metavar="SECONDS",
                   help="wall-clock limit of the emulator run (default: from the model size)")
    p.add_argument("--arena-region", default="SRAM2", choices=REGIONS,
                   help="memory region of the model arena on the Corstone-300 (default SRAM2)")
    p.add_argument("--memory", action="append", type=_memory_override, default=[],
                   metavar="REGION_SIZE=BYTES",
                   help="override the memory map, e.g. SRAM2_SIZE=0x100000 (repeatable)")


class _Parser(argparse.ArgumentParser):
    """argparse with byoc's error format: one line on stderr, exit code 2 (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"byoc: error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="byoc", description="Compile int8 TFLite models to standalone C for Arm Cortex-M.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress lines on stderr (default: when stderr is a terminal)")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a .tflite model to a C package")
    c.add_argument("model")
    _add_compile_args(c)
    c.add_argument("-o", "--output", required=True, help="output directory (new or empty)")
    c.add_argument("--prefix", default="model", help="C name prefix of the generated API")
    c.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    c.add_argument("--plot-memory", action="store_true",
                   help="also write memory.png: the arena plan (buffers over operator steps)")
    _add_library_args(c)

    i = sub.add_parser("info", help="describe a .tflite model")
    i.add_argument("model")
    i.add_argument("--json", action="store_true")
    i.add_argument("--target", default=None,
                   help="also show where each operator goes for this target, e.g. cmsis-nn,c "
                        "(backend and reason per operator)")
    i.add_argument("--cpu", default="cortex-m55",
                   help="core the placement is for (with --target; default cortex-m55)")
    _add_vela_args(i)

    v = sub.add_parser("validate", help="compile, run on random inputs, compare with TFLM")
    v.add_argument("model")
    _add_compile_args(v, cpu_default=None)
    v.add_argument("--backend", default="qemu", choices=("qemu", "fvp", "host"),
                   help="where to run: qemu (Corstone-300 on QEMU, default), fvp (Arm's "
                        "Corstone-300 FVP), host (gcc on this machine)")
    v.add_argument("--inputs", type=int, default=3, help="number of random input samples")
    v.add_argument("--steps", type=int, default=None, metavar="N",
                   help="a stream of N consecutive random frames (replaces --inputs); a "
                        "stateful model runs them through one state and TFLM through one "
                        "interpreter, every step compared, then reset and the first steps again")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--litert", action="store_true", help="also compare with LiteRT's reference kernels")
    v.add_argument("--tolerance", type=float, default=None,
                   help="max |difference| counted as equal (default: 0 = bit-exact for int8 models)")
    v.add_argument("--work-dir", help="keep the package and build here")
    v.add_argument("--sanitize", action="store_true",
                   help="host backend: build with AddressSanitizer and UndefinedBehaviorSanitizer")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    _add_corstone_args(v)
    _add_library_args(v)

    o = sub.add_parser("ops", help="the operators each target computes, per dtype")
    o.add_argument("--markdown", action="store_true",
                   help="print the markdown table README.md embeds")

    r = sub.add_parser("run", help="run a compiled package on the Corstone-300 with given inputs")
    r.add_argument("package", help="package directory written by `byoc compile`")
    r.add_argument("--input", action="append", required=True, metavar="X.npy",
                   help="input array (.npy), once per model input, in model order")
    r.add_argument("--output", action="append", default=[], metavar="Y.npy",
                   help="write output k to this .npy file (give once per model output)")
    r.add_argument("--expected", action="append", default=[], metavar="Y.npy",
                   help="compare output k with this array on the target (once per output)")
    r.add_argument("--backend", default="qemu", choices=("qemu", "fvp"))
    r.add_argument("--steps", type=int, default=None, metavar="N",
                   help="each --input/--expected .npy holds N frames stacked along a new first "
                        "axis, run in order (a stateful model: one stream through one state); "
                        "--output files get the N outputs stacked the same way")
    r.add_argument("--work-dir", help="keep the firmware build here")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    _add_corstone_args(r)
    _add_library_args(r)

    from .regress.cli import add_parser as add_regress_parser
    add_regress_parser(sub, _add_vela_args)
    return parser


def _cmd_compile(args) -> int:
    from .compiler import compile as byoc_compile
    res = byoc_compile(args.model, target=args.target, cpu=args.cpu, output_dir=args.output,
                       prefix=args.prefix, force=args.force, plot_memory=args.plot_memory,
                       vela=_vela(args), allow_float=args.allow_float, **_libraries(args))
    mem = res.metadata["memory"]
    print(f"wrote {res.output_dir}")
    if res.metadata.get("libraries"):
        from .libraries import describe
        print(f"  libraries: {describe(res.metadata['libraries'])}")
    print(f"  operator calls: {len(res.calls)}  arena: {mem['arena_bytes']} bytes "
          f"(lower bound {mem['arena_lower_bound_bytes']})  constants: {mem['constant_bytes']} bytes")
    if mem.get("state_bytes"):
        print(f"  stateful: state buffer {mem['state_bytes']} bytes "
              f"({len(res.metadata['state']['variables'])} variables; {res.prefix}_init/"
              f"_run/_reset)")
    if args.plot_memory:
        print(f"  arena plan picture: {res.output_dir / 'memory.png'}")
    return 0


def _cmd_info(args) -> int:
    from .tflite.reader import format_info, load_model
    model = load_model(args.model)
    rows = None
    if args.target is not None:
        from .compiler import placement
        rows = placement(model, args.target, args.cpu, vela=_vela(args))
    floats, check_error = _float_computations(model, args)
    if args.json:
        summary = model.summary()
        if rows is not None:
            summary["placement"] = {"target": args.target, "cpu": args.cpu, "operators": rows}
        summary["float_operators"] = floats
        if check_error:
            summary["compile_check_error"] = check_error
        print(json.dumps(summary, indent=2))
    else:
        print(format_info(model))
        if check_error:
            print(f"Cannot be compiled: {check_error}")
        elif floats:
            print(f"Computed in float ({len(floats)} operator(s); compile refuses them "
                  "without --allow-float):")
            for f in floats:
                print(f"  {f['index'] if f['index'] is not None else '?':>3}  {f['type']:<18} "
                      f"{f['reason']}")
        if rows is not None:
            from .placement import OperatorPlacement, format_table
            print()
            print(format_table([OperatorPlacement(**r) for r in rows], args.target))
    return 0


def _float_computations(model, args) -> tuple[list[dict], str | None]:
    """The float check for ``info`` (the --target given, else ``c``): the operators compile
    would refuse, or the error that stops the model before (import, Vela...)."""
    if model.is_float():
        return [], None
    from .compiler import float_computations
    try:
        return float_computations(model, args.target or "c", args.cpu, vela=_vela(args)), None
    except ByocError as exc:
        return [], str(exc)


def _cmd_ops(args) -> int:
    from . import ops_table
    print(ops_table.markdown() if args.markdown else ops_table.text(), end="")
    return 0


def _cmd_validate(args) -> int:
    from .validate import validate
    res = validate(args.model, target=args.target, backend=args.backend, inputs=args.inputs,
                   seed=args.seed, cpu=args.cpu, litert=args.litert, work_dir=args.work_dir,
                   tolerance=args.tolerance, profile=args.profile, timeout_s=args.timeout,
                   arena_region=args.arena_region, memory=dict(args.memory) or None,
                   vela=_vela(args), allow_float=args.allow_float, steps=args.steps,
                   sanitize=args.sanitize, **_libraries(args))
    if args.json:
        print(json.dumps(res.to_json()))
    else:
        print(format_validation(res))
        if res.profile is not None:
            print()
            first = res.instructions_per_sample[0] if res.instructions_per_sample else None
            print(_profile_table(res.profile, first, res.counter))
    return 0 if res.status == "pass" else 1


def format_validation(res) -> str:
    """The human-readable report of a ValidationResult."""
    verdict = "PASS" if res.status == "pass" else "FAIL"
    where = res.backend if res.backend == "host" else f"Corstone-300 ({res.backend}, {res.cpu})"
    what = f"{res.samples} inputs"
    if getattr(res, "state_bytes", 0):
        what = (f"a stream of {res.samples} steps through one state, then {res.reset_steps} "
                "after reset")
    elif getattr(res, "steps", None):
        what = f"{res.samples} steps"
    lines = [f"{verdict}: {res.mismatches} mismatching output elements over {what} "
             f"(max |diff| {res.max_abs_diff}) vs {_reference_name(res)}; target "
             f"{res.target}, on {where}"]
    if res.instructions is not None:
        unit = "cycles (DWT)" if res.counter == "dwt_cycles" else "instructions"
        note = " (profiled build: includes hook overhead)" if res.profile is not None else ""
        lines.append(f"  {unit}: {res.instructions:,} per inference{note}")
    if res.npu_driver is not None:
        from .firmware import npu_line
        lines.append(npu_line(res.npu_driver, res.npu_pmu_cycles, res.npu_cycles))
    lines.append(f"  arena {res.arena_bytes} bytes (lower bound {res.arena_lower_bound_bytes}), "
                 f"constants {res.constant_bytes} bytes"
                 + (f", state {res.state_bytes} bytes" if getattr(res, "state_bytes", 0) else ""))
    if res.code_bytes is not None:
        lines.append(f"  in the ELF: model code {res.code_bytes} bytes, model read-only data "
                     f"{res.rodata_bytes} bytes")
    if getattr(res, "libraries", None):
        from .libraries import describe
        lines.append(f"  libraries: {describe(res.libraries)}")
    if res.litert_mismatches is not None:
        lines.append(f"  LiteRT reference kernels: {res.litert_mismatches} differing elements")
    lines += [f"  {d}" for d in res.details]
    return "\n".join(lines)


def _reference_name(res) -> str:
    """"TFLM", or the fallback reference validate used (LiteRT, naming why)."""
    ref = getattr(res, "reference", "tflm")
    return "TFLM" if ref == "tflm" else ref.replace("litert", "LiteRT", 1)


def _profile_table(profile: list[dict], total: int | None, counter: str | None) -> str:
    from .firmware import format_profile
    from .platform import ProfileEntry
    entries = [ProfileEntry(p["index"], p["name"], p["instructions"], p["calls"]) for p in profile]
    unit = "cycles" if counter == "dwt_cycles" else "instructions"
    return format_profile(entries, total, unit=unit)


def _load_npy(path: str, what: str):
    import numpy as np
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ByocError(f"{path}: no such file ({what})") from None
    except (OSError, ValueError) as exc:
        raise ByocError(f"{path}: not a .npy array ({what}): {' '.join(str(exc).split())}") from None


def _cmd_run(args) -> int:
    import numpy as np

    from .firmware import format_profile, format_run, io_tensors, load_package, run_on_corstone
    compiled = load_package(args.package)
    inputs, outputs = io_tensors(compiled)
    if len(args.input) != len(inputs):
        raise ByocError(f"the model takes {len(inputs)} input(s) "
                        f"({', '.join(io.tflite_name for io in inputs)}); got {len(args.input)} --input")
    for flag, given in (("--output", args.output), ("--expected", args.expected)):
        if given and len(given) != len(outputs):
            raise ByocError(f"the model has {len(outputs)} output(s) "
                            f"({', '.join(io.tflite_name for io in outputs)}); give {flag} once "
                            f"per output, got {len(given)}")
    steps = 1 if args.steps is None else args.steps
    if steps < 1:
        raise ByocError("--steps must be at least 1")

    def frames(path: str, io, what: str) -> list:
        arr = _load_npy(path, f"{what} '{io.tflite_name}'")
        want = f"{steps} x " if args.steps is not None else ""
        if arr.dtype != np.dtype(io.dtype) or arr.size != steps * int(np.prod(io.shape)):
            raise ByocError(f"{path}: {what} '{io.tflite_name}' must be {io.dtype} "
                            f"{want}{list(io.shape)}, the file holds {arr.dtype} {list(arr.shape)}")
        return list(arr.reshape((steps, *io.shape)))

    per_input = [frames(path, io, "input") for path, io in zip(args.input, inputs)]
    samples = [[x[s] for x in per_input] for s in range(steps)]
    expected = None
    if args.expected:
        per_output = [frames(path, io, "output") for path, io in zip(args.expected, outputs)]
        expected = [[y[s] for y in per_output] for s in range(steps)]
    run = run_on_corstone(compiled, samples, expected, backend=args.backend,
                          profile=args.profile, work_dir=args.work_dir, timeout_s=args.timeout,
                          arena_region=args.arena_region, memory=dict(args.memory) or None,
                          **_libraries(args))
    assert run.outputs is not None
    for k, path in enumerate(args.output):
        try:
            np.save(path, run.outputs[0][k] if args.steps is None
                    else np.stack([o[k] for o in run.outputs]))
        except OSError as exc:
            raise ByocError(f"{path}: cannot write the output ({exc.strerror})") from None
    if args.json:
        print(json.dumps({
            "status": run.status, "mismatches": run.mismatches, "backend": run.backend,
            "instructions": run.instructions, "counter": run.counter,
            "npu_driver": run.npu_driver, "npu_pmu_cycles": run.npu_cycles,
            "arena_bytes": run.arena_bytes, "code_bytes": run.code_bytes,
            "rodata_bytes": run.rodata_bytes, "constant_bytes": run.constant_bytes,
            "outputs": list(args.output), "libraries": run.libraries,
            "profile": run.profile_json() if args.profile else None}))
    else:
        print(format_run(run, compiled))
        for k, (io, arr) in enumerate(zip(outputs, run.outputs[0])):
            dest = f" -> {args.output[k]}" if args.output else ""
            flat = arr.reshape(-1)
            head = " ".join(str(v) for v in flat[:10].tolist()) + (" ..." if flat.size > 10 else "")
            print(f"  output {k} '{io.tflite_name}' {io.dtype} {list(io.shape)}{dest}: {head}")
        if args.profile:
            print()
            print(format_profile(run.profile, run.instructions_per_sample[0]))
    return 0 if run.passed else 1


def _cmd_regress(args) -> int:
    from .regress.cli import command
    return command(args, _vela(args))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    progress.enable(sys.stderr.isatty() if args.progress is None else args.progress)
    handler = {"compile": _cmd_compile, "info": _cmd_info, "validate": _cmd_validate,
               "run": _cmd_run, "regress": _cmd_regress, "ops": _cmd_ops}[args.command]
    try:
        return handler(args)
    except ByocError as exc:
        if args.debug:
            raise
        print(f"byoc: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("byoc: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, with a way to see more
        if args.debug:
            raise
        msg = " ".join(str(exc).split())[:300]
        print(f"byoc: internal error: {type(exc).__name__}: {msg} (rerun with --debug)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
