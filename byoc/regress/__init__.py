"""``byoc regress``: many models x targets x cores in one run, with CI reports.

``regress(paths, targets, cpus, ...)`` builds the matrix (``matrix``), keeps this run's
shard, validates every case against TFLM in parallel worker processes (``runner``,
``case``: ``byoc.validate.validate`` per case), localises each mismatch to the first
diverging operator with a one-operator reproducer (``localize``), compares with a baseline
``results.json`` (``baseline``) and writes the reports (``report``): results.json,
report.md and index.html in the report folder, optionally JUnit XML.

Nothing is half-written: the report folder is assembled in a hidden sibling directory and
renamed into place at the end (replacing an earlier report); the JUnit and extra JSON files
are written to a temporary name and renamed. Case packages and firmware live in a
temporary directory, removed as each case ends, except with ``keep`` for failing cases
(moved to ``<report>/cases/<case id>/``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..version import __version__
from ..errors import ByocError, OutputDirError
from . import baseline as baseline_mod
from . import report
from .case import validate_supports_steps
from .matrix import Case, build_matrix, find_models, parse_cpus, parse_shard, parse_targets, shard
from .runner import ProgressBar, run_cases

#: Marker of a report folder this command wrote (and may replace).
MARKER = ".byoc-regress"


@dataclass
class RegressionRun:
    """The outcome: ``results`` as written to results.json, ``exit_code`` 0 (all pass),
    1 (a mismatch or a regression), 2 (a case could not run: import, build, emulator,
    timeout)."""

    results: dict
    report_dir: Path
    exit_code: int


def _check_report_dir(dest: Path) -> None:
    """A report folder may be new, empty, or an earlier report of this command."""
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir())
                                                 and not (dest / MARKER).is_file())):
        raise OutputDirError(f"{dest}: exists and is not a byoc regress report folder; "
                             "choose another --html folder or remove it")


def _publish(staging: Path, dest: Path) -> None:
    """Move the finished report folder into place, replacing an earlier one."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        dest.rename(old)
    staging.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def _exit_code(records: list[dict]) -> int:
    kinds = {report.verdict(r) for r in records}
    return 2 if "ERROR" in kinds else 1 if kinds & {"FAIL", "REGRESSION"} else 0


def regress(paths: list[str], targets: list[str], cpus: list[str] | None = None,
            backend: str = "qemu", inputs: int = 2, seed: int = 0, jobs: int | None = None,
            shard_spec: str | None = None, baseline: str | None = None,
            max_regression: str | float = "2%", report_dir: str = "regress-report",
            junit: str | None = None, json_path: str | None = None, keep: bool = False,
            steps: int | None = None, timeout_s: float | None = None,
            case_timeout_s: float = 1800.0, vela: dict | None = None,
            progress_stream=None, command: list[str] | None = None) -> RegressionRun:
    """Run the matrix of ``paths`` (model files or folders, searched recursively) x
    ``targets`` (see ``matrix.parse_targets``) x ``cpus`` on ``backend`` with ``jobs``
    parallel workers (default: the machine's cores); see the module docstring. Raises
    ``ByocError`` for bad options before anything runs."""
    start = time.monotonic()
    from ..validate import BACKENDS
    if backend not in BACKENDS:
        raise ByocError(f"unknown backend '{backend}'; available: {', '.join(BACKENDS)}")
    if inputs < 1:
        raise ByocError("--inputs must be at least 1")
    if steps is not None and not validate_supports_steps():
        raise ByocError("--steps needs `byoc validate --steps` (streaming models), which "
                        "this byoc does not have yet")
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise ByocError("-j must be at least 1")
    target_list = parse_targets(targets)
    cpu_list = parse_cpus(cpus or [], backend)
    index, count = parse_shard(shard_spec)
    threshold = baseline_mod.parse_threshold(str(max_regression))
    old = baseline_mod.load_baseline(baseline) if baseline else None
    models = find_models(paths)
    if backend != "host":
        from ..firmware import check_backend
        check_backend(backend)
    dest = Path(report_dir).absolute()
    _check_report_dir(dest)
    matrix = build_matrix(models, target_list, cpu_list, backend)
    cases = shard(matrix, index, count)

    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    staging.chmod(0o755)                        # mkdtemp makes it private
    work = Path(tempfile.mkdtemp(prefix="byoc_regress_"))
    try:
        records = _run(cases, staging, work, jobs, keep, old, threshold, progress_stream,
                       case_timeout_s, dict(inputs=inputs, seed=seed, timeout=timeout_s,
                                            steps=steps, vela=vela))
        meta = {"version": __version__, "command": command or [], "backend": backend,
                "inputs": inputs, "seed": seed, "jobs": jobs, "shard": f"{index}/{count}",
                "matrix": {"models": [m for m, _ in models], "targets": target_list,
                           "cpus": cpu_list, "cases": len(matrix)},
                "baseline": baseline, "max_regression": threshold,
                "wall_seconds": round(time.monotonic() - start, 2)}
        results = report.results_json(meta, records)
        (staging / "results.json").write_text(report.dumps(results))
        (staging / "report.md").write_text(report.markdown(results))
        (staging / "index.html").write_text(report.html_page(results))
        (staging / MARKER).write_text("written by byoc regress\n")
        if all(report.verdict(r) != "ERROR" for r in records):
            shutil.rmtree(staging / "logs", ignore_errors=True)   # worker logs: for errors
        _publish(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if junit:
        _write_atomic(Path(junit), report.junit_xml(results))
    if json_path:
        _write_atomic(Path(json_path), report.dumps(results).encode())
    return RegressionRun(results, dest, _exit_code(records))


def _run(cases: list[Case], staging: Path, work: Path, jobs: int, keep: bool,
         old: dict | None, threshold: float, progress_stream, case_timeout_s: float,
         options: dict) -> list[dict]:
    """Run the cases; returns their records in matrix order."""
    logs = staging / "logs"
    logs.mkdir()
    bar = ProgressBar(len(cases), progress_stream)
    by_id: dict[str, dict] = {}
    requests = [{"case": c.to_json(), **options, "work_dir": str(work / c.id),
                 "reproducer_dir": str(staging / "reproducers" / c.id),
                 "cache_dir": str(work / "tflm_arena")} for c in cases]

    def done(request: dict, record: dict) -> None:
        key = (record["model"], record["target"], record["cpu"])
        regressions, changes = baseline_mod.compare(
            record, old.get(key) if old is not None else None, threshold)
        record["regressions"], record["baseline_changes"] = regressions, changes
        if old is not None and key not in old:
            record["baseline_changes"] = None          # a new case: nothing to compare
        d = record.get("divergence")
        if d and d.get("reproducer"):
            d["reproducer"] = os.path.relpath(d["reproducer"], staging)
        case_work = Path(request["work_dir"])
        if keep and report.verdict(record) != "PASS" and case_work.is_dir():
            kept = staging / "cases" / record["id"]
            kept.parent.mkdir(exist_ok=True)
            shutil.move(str(case_work), kept)
            record["kept"] = os.path.relpath(kept, staging)
        else:
            shutil.rmtree(case_work, ignore_errors=True)
        by_id[record["id"]] = record
        bar.update(record)

    run_cases(requests, jobs, case_timeout_s, logs, done)
    return [by_id[c.id] for c in cases]


__all__ = ["Case", "RegressionRun", "regress"]
