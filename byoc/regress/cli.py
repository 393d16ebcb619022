"""The ``byoc regress`` sub-command: options and the summary it prints."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub, add_vela_args) -> None:
    """Register ``regress`` on the ``byoc`` sub-parsers (``add_vela_args``: the CLI's Vela
    option group)."""
    g = sub.add_parser(
        "regress", help="validate many models x targets x cores; JUnit, JSON, HTML reports",
        description="Validate every model x target x cpu against TFLM in parallel, localise "
                    "mismatches to the first diverging operator, write reports. Exit code 0: "
                    "all bit-exact; 1: a mismatch or a regression; 2: a case could not run, "
                    "or bad options.")
    g.add_argument("models", nargs="+", help=".tflite files or folders (searched recursively)")
    g.add_argument("--target", action="append", default=None,
                   help="targets, comma-separated and regrouped at each 'c' and NPU target: "
                        "'c,cmsis-nn,c,ethos-u55-256,cmsis-nn,c' = three targets; repeatable "
                        "(default c)")
    g.add_argument("--cpu", action="append", default=None,
                   help="cores, comma-separated or repeated (default cortex-m55; host for "
                        "--backend host)")
    g.add_argument("--backend", default="qemu", choices=("qemu", "fvp", "host"))
    g.add_argument("--inputs", type=int, default=2, help="random input samples per case")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--steps", type=int, default=None,
                   help="streaming models: steps per sample (passed to validate)")
    g.add_argument("-j", "--jobs", type=int, default=None,
                   help="parallel cases (default: the number of cores)")
    g.add_argument("--shard", default=None, metavar="I/N",
                   help="run only shard I of N (1-based) of the matrix, for CI machines")
    g.add_argument("--baseline", default=None, metavar="RESULTS.json",
                   help="an earlier results.json: fail when a metric grows more than "
                        "--max-regression")
    g.add_argument("--max-regression", default="2%",
                   help="allowed growth of instructions, arena, code and constants "
                        "(default 2%%)")
    g.add_argument("--html", "--report-dir", dest="report_dir", default="regress-report",
                   metavar="DIR", help="report folder: index.html, report.md, results.json, "
                                       "reproducers/, kept cases (default regress-report)")
    g.add_argument("--junit", default=None, metavar="FILE.xml", help="write JUnit XML here")
    g.add_argument("--json", dest="json_path", default=None, metavar="FILE.json",
                   help="also write results.json here")
    g.add_argument("--keep", action="store_true",
                   help="keep packages and firmware of failing cases (report/cases/)")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="emulator run limit per case (default: from the model size)")
    g.add_argument("--case-timeout", type=float, default=1800.0, metavar="SECONDS",
                   help="wall limit of one whole case (default 1800)")
    add_vela_args(g)


def command(args: argparse.Namespace, vela: dict | None) -> int:
    from . import regress
    from .report import verdict
    show = args.progress is not False
    run = regress(args.models, args.target or ["c"], args.cpu, backend=args.backend,
                  inputs=args.inputs, seed=args.seed, jobs=args.jobs, shard_spec=args.shard,
                  baseline=args.baseline, max_regression=args.max_regression,
                  report_dir=args.report_dir, junit=args.junit, json_path=args.json_path,
                  keep=args.keep, steps=args.steps, timeout_s=args.timeout,
                  case_timeout_s=args.case_timeout, vela=vela,
                  progress_stream=sys.stderr if show else None,
                  command=["byoc", *sys.argv[1:]])
    s = run.results["summary"]
    print(f"{s['passed']}/{s['cases']} passed, {s['failed']} mismatching, {s['errors']} "
          f"errors, {s['regressions']} regressions in {s['wall_seconds']:.0f} s "
          f"({run.results['jobs']} jobs, shard {run.results['shard']})")
    for c in run.results["cases"]:
        v = verdict(c)
        if v != "PASS":
            print(f"  {v} {c['id']}: {c['message'] or c['regressions']}")
    print(f"report: {run.report_dir / 'index.html'}" +
          (f"  junit: {args.junit}" if args.junit else ""))
    return run.exit_code
