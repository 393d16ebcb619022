"""The ``byoc`` command line (tvmc-like).

    byoc compile model.tflite --target c --cpu cortex-m55 -o out/
    byoc info model.tflite [--json]
    byoc validate model.tflite --target c --backend host [--inputs N] [--seed S] [--json]

Exit codes: 0 success (validate: bit-exact), 1 validate mismatch, 2 any error. Errors are
one line on stderr; ``--debug`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import ByocError


def _add_compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="c",
                   help="comma-separated backends, first match wins; 'c' (generic C) always last")
    p.add_argument("--cpu", default="cortex-m55", help="cortex-m0plus/m3/m4/m7/m33/m55/m85 or host")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="byoc", description="Compile int8 TFLite models to standalone C for Arm Cortex-M.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a .tflite model to a C package")
    c.add_argument("model")
    _add_compile_args(c)
    c.add_argument("-o", "--output", required=True, help="output directory (new or empty)")
    c.add_argument("--prefix", default="model", help="C name prefix of the generated API")
    c.add_argument("--force", action="store_true", help="replace a non-empty output directory")

    i = sub.add_parser("info", help="describe a .tflite model")
    i.add_argument("model")
    i.add_argument("--json", action="store_true")

    v = sub.add_parser("validate", help="compile, run on random inputs, compare with TFLM")
    v.add_argument("model")
    _add_compile_args(v)
    v.add_argument("--backend", default="host", help="where to run: host")
    v.add_argument("--inputs", type=int, default=3, help="number of random input samples")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--litert", action="store_true", help="also compare with LiteRT's reference kernels")
    v.add_argument("--tolerance", type=float, default=None,
                   help="max |difference| counted as equal (default: 0 = bit-exact for int8 models)")
    v.add_argument("--work-dir", help="keep the package and build here")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _cmd_compile(args) -> int:
    from .compiler import compile as byoc_compile
    res = byoc_compile(args.model, target=args.target, cpu=args.cpu, output_dir=args.output,
                       prefix=args.prefix, force=args.force)
    mem = res.metadata["memory"]
    print(f"wrote {res.output_dir}")
    print(f"  operator calls: {len(res.calls)}  arena: {mem['arena_bytes']} bytes "
          f"(lower bound {mem['arena_lower_bound_bytes']})  constants: {mem['constant_bytes']} bytes")
    return 0


def _cmd_info(args) -> int:
    from .tflite.reader import format_info, load_model
    model = load_model(args.model)
    if args.json:
        print(json.dumps(model.summary(), indent=2))
    else:
        print(format_info(model))
    return 0


def _cmd_validate(args) -> int:
    from .validate import validate
    res = validate(args.model, target=args.target, backend=args.backend, inputs=args.inputs,
                   seed=args.seed, cpu=args.cpu, litert=args.litert, work_dir=args.work_dir,
                   tolerance=args.tolerance)
    if args.json:
        print(json.dumps(res.to_json()))
    else:
        verdict = "PASS" if res.status == "pass" else "FAIL"
        print(f"{verdict}: {res.mismatches} mismatching output elements over {res.samples} "
              f"inputs (max |diff| {res.max_abs_diff}) vs TFLM; target {res.target}, "
              f"backend {res.backend}")
        print(f"  arena {res.arena_bytes} bytes (lower bound {res.arena_lower_bound_bytes}), "
              f"constants {res.constant_bytes} bytes")
        if res.litert_mismatches is not None:
            print(f"  LiteRT reference kernels: {res.litert_mismatches} differing elements")
    return 0 if res.status == "pass" else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = {"compile": _cmd_compile, "info": _cmd_info, "validate": _cmd_validate}[args.command]
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
