"""``byoc regress``: matrix parsing and shards, a small real matrix (host) with its JUnit /
JSON / HTML reports, baseline comparison, robustness, and mismatch localisation of an
injected kernel fault (``BYOC_TEST_FAULT``) on the host and on QEMU.

Every verdict comes from real runs compared with TFLM; the operator a fault must be pinned
to is read from the model file (the first operator of the perturbed kind), not from the
code under test.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from byoc.cli import main
from byoc.regress.matrix import (Case, build_matrix, find_models, parse_cpus, parse_shard,
                                 parse_targets, shard)
from byoc.tflite.reader import load_model
from toolchain import require_tools

MODELS = Path(__file__).parent / "data" / "models"
KWS = MODELS / "mltk_keyword_spotting.tflite"
IC = MODELS / "mltk_image_classification.tflite"
AD = MODELS / "mltk_anomaly_detection.tflite"
SCHEMA = Path(__file__).parent / "data" / "junit" / "junit.xsd"


def regress(*argv: str) -> int:
    return main(["--no-progress", "regress", *argv])


def first_operator(path: Path, op_type: str, nth: int = 0) -> int:
    """Index of the nth operator of ``op_type`` in the model file's main subgraph, read
    with the ``tflite`` schema package (file numbering, as TFLM and Netron show it)."""
    import tflite
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAs(path.read_bytes(), 0)
    sg = m.Subgraphs(0)
    types = []
    for i in range(sg.OperatorsLength()):
        code = m.OperatorCodes(sg.Operators(i).OpcodeIndex())
        types.append(names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())])
    return [i for i, t in enumerate(types) if t == op_type][nth]


# ----------------------------------------------------------------------------- matrix


def test_target_lists_regroup_at_c_and_npu_targets():
    assert parse_targets(["c,cmsis-nn,c,ethos-u55-256,cmsis-nn,c"]) == [
        "c", "cmsis-nn,c", "ethos-u55-256,cmsis-nn,c"]
    assert parse_targets(["cmsis-nn", "ethos-u55-128,c"]) == ["cmsis-nn", "ethos-u55-128,c"]
    assert parse_targets(["cmsis-nn,cmsis-nn,c"]) == ["cmsis-nn", "cmsis-nn,c"]
    assert parse_targets(["c;c, cmsis-nn,c"]) == ["c", "cmsis-nn,c"]


@pytest.mark.parametrize("targets, cpus, backend, message", [
    (["c,bogus"], [], "qemu", "unknown target 'bogus'"),
    (["c"], ["cortex-m99"], "qemu", "unknown core 'cortex-m99'"),
    (["c"], ["cortex-m55"], "host", "--cpu host only"),
])
def test_bad_matrix_options(targets, cpus, backend, message):
    from byoc.errors import ByocError
    with pytest.raises(ByocError, match=re.escape(message)):
        parse_targets(targets)
        parse_cpus(cpus, backend)


def test_shards_partition_the_matrix():
    models = find_models([str(MODELS)])
    assert [m for m, _ in models] == sorted(p.relative_to(MODELS).as_posix()
                                            for p in MODELS.rglob("*.tflite"))
    matrix = build_matrix(models, parse_targets(["c,cmsis-nn,c,ethos-u55-256,cmsis-nn,c"]),
                          parse_cpus(["cortex-m55,cortex-m4"], "qemu"), "qemu")
    assert len(matrix) == len(models) * 3 * 2
    assert len({c.id for c in matrix}) == len(matrix)
    for n in (1, 2, 5, 7, len(matrix) + 3):
        parts = [shard(matrix, i, n) for i in range(1, n + 1)]
        ids = [c.id for p in parts for c in p]
        assert sorted(ids) == sorted(c.id for c in matrix)      # union = whole matrix
        assert len(ids) == len(set(ids))                        # no case twice
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    for bad in ("0/3", "4/3", "1-3", "x"):
        with pytest.raises(Exception, match="--shard"):
            parse_shard(bad)


# ----------------------------------------------------------------------------- host runs


@pytest.fixture(scope="module")
def host_run(tmp_path_factory):
    """kws and anomaly detection x c, cmsis-nn,c on the host: 4 real cases."""
    out = tmp_path_factory.mktemp("regress_host")
    rc = regress(str(KWS), str(AD), "--target", "c,cmsis-nn,c", "--backend", "host",
                 "-j", "2", "--junit", str(out / "junit.xml"), "--html", str(out / "report"),
                 "--json", str(out / "copy.json"))
    return rc, out


def test_host_matrix_passes_and_reports(host_run):
    rc, out = host_run
    assert rc == 0
    results = json.loads((out / "report" / "results.json").read_text())
    assert json.loads((out / "copy.json").read_text())["cases"] == results["cases"]
    keys = sorted((c["model"], c["target"], c["cpu"]) for c in results["cases"])
    assert keys == sorted((m, t, "host") for m in (AD.name, KWS.name)
                          for t in ("c", "cmsis-nn,c"))
    for c in results["cases"]:
        assert c["status"] == "pass" and c["mismatches"] == 0, c
        assert c["arena_bytes"] >= c["arena_lower_bound_bytes"] > 0
        assert c["tflm_arena_bytes"] > 0
    assert results["summary"] == {**results["summary"], "cases": 4, "passed": 4, "failed": 0,
                                  "errors": 0}
    md = (out / "report" / "report.md").read_text()
    assert md.startswith("# byoc regress: 4/4 passed")
    page = (out / "report" / "index.html").read_text()
    assert page.count("<svg") >= 1 and "Arena vs lower bound vs TFLM" in page
    # offline: no external resource of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not list((out / "report").glob(".*tmp*")) and not (out / "report" / "cases").exists()


def test_shard_runs_union_is_the_whole_run(host_run, tmp_path):
    _, out = host_run
    whole = json.loads((out / "report" / "results.json").read_text())["cases"]
    parts = []
    for i in (1, 2):
        assert regress(str(KWS), str(AD), "--target", "c,cmsis-nn,c", "--backend", "host",
                       "--shard", f"{i}/2", "--html", str(tmp_path / f"s{i}")) == 0
        parts.append(json.loads((tmp_path / f"s{i}" / "results.json").read_text())["cases"])
    assert len(parts[0]) == len(parts[1]) == 2
    metrics = ("id", "status", "arena_bytes", "constant_bytes", "mismatches")
    union = sorted((tuple(c[k] for k in metrics) for p in parts for c in p))
    assert union == sorted(tuple(c[k] for k in metrics) for c in whole)


def test_junit_matches_schema_and_cases(host_run):
    xmlschema = pytest.importorskip("xmlschema")
    _, out = host_run
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(out / "junit.xml"))
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == int(root.get("tests")) == 4
    assert {(c.get("classname"), c.get("name")) for c in cases} == {
        (m, f"{t} @ host") for m in ("mltk_anomaly_detection", "mltk_keyword_spotting")
        for t in ("c", "cmsis-nn,c")}
    assert not root.findall(".//failure") and not root.findall(".//error")


def test_schema_rejects_a_broken_report(tmp_path):
    """The schema check is not vacuous: a testcase without its name fails it."""
    xmlschema = pytest.importorskip("xmlschema")
    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="m" tests="1" failures="0" errors="0" '
                   'time="1"><testcase classname="m" time="1"/></testsuite></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(SCHEMA)).validate(str(bad))


def test_baseline_regression_fails_beyond_threshold(host_run, tmp_path):
    _, out = host_run
    results = json.loads((out / "report" / "results.json").read_text())
    base = {**results, "cases": [c for c in results["cases"] if c["model"] == KWS.name
                                 and c["target"] == "c"]}
    (case,) = base["cases"]
    case = dict(case)
    case["arena_bytes"] = int(case["arena_bytes"] / 1.05)      # now 5% larger than baseline
    base["cases"] = [case]
    (tmp_path / "base.json").write_text(json.dumps(base))
    args = [str(KWS), "--target", "c", "--backend", "host", "--baseline",
            str(tmp_path / "base.json"), "--junit", str(tmp_path / "j.xml")]
    assert regress(*args, "--html", str(tmp_path / "a")) == 1
    rec = json.loads((tmp_path / "a" / "results.json").read_text())["cases"][0]
    assert [r["metric"] for r in rec["regressions"]] == ["arena_bytes"]
    assert rec["regressions"][0]["percent"] > 2
    failure = ET.parse(tmp_path / "j.xml").getroot().find(".//failure")
    assert failure is not None and failure.get("type") == "regression"
    assert regress(*args, "--html", str(tmp_path / "b"), "--max-regression", "10%") == 0


# ----------------------------------------------------------------------------- robustness


def test_bad_models_and_report_folder(tmp_path, capsys):
    folder = tmp_path / "models"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(KWS, folder / "sub" / "kws.tflite")
    (folder / "broken.tflite").write_bytes(b"\0\0\0\0TFL3 this is not a model")
    rc = regress(str(folder), "--target", "c", "--backend", "host", "--html",
                 str(tmp_path / "r"), "--junit", str(tmp_path / "j.xml"))
    assert rc == 2                                   # an import error is an error case
    cases = {c["model"]: c for c in
             json.loads((tmp_path / "r" / "results.json").read_text())["cases"]}
    assert cases["sub/kws.tflite"]["status"] == "pass"        # the run went on
    broken = cases["broken.tflite"]
    assert broken["status"] == "error" and broken["error_kind"] == "import error"
    assert "broken.tflite" in broken["message"]
    err = ET.parse(tmp_path / "j.xml").getroot().find(".//error")
    assert err is not None and err.get("type") == "import error"
    # a folder that is not an earlier report is never overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    capsys.readouterr()
    assert regress(str(KWS), "--backend", "host", "--html", str(other)) == 2
    assert "not a byoc regress report folder" in capsys.readouterr().err
    assert (other / "keep.txt").read_text() == "mine" and len(list(other.iterdir())) == 1
    assert regress(str(tmp_path / "missing"), "--backend", "host") == 2


def test_case_timeout_is_an_error_case_and_the_run_goes_on(tmp_path):
    rc = regress(str(KWS), str(AD), "--target", "c", "--backend", "host", "-j", "1",
                 "--case-timeout", "0.5", "--html", str(tmp_path / "r"))
    assert rc == 2
    cases = json.loads((tmp_path / "r" / "results.json").read_text())["cases"]
    assert len(cases) == 2
    for c in cases:
        assert c["status"] == "error" and c["error_kind"] == "timeout"
        assert "timed out" in c["message"]


# ----------------------------------------------------------------------------- localisation


def _check_divergence(report: Path, case: dict, op_index: int, op_type: str, backend: str,
                      reproduces: bool | None = True) -> None:
    d = case["divergence"]
    assert d is not None, case
    assert (d["operator_index"], d["operator_type"], d["backend"]) == (op_index, op_type,
                                                                       backend)
    assert d["mismatches"] > 0 and d["max_abs_diff"] > 0
    folder = report / d["reproducer"]
    (one,) = folder.glob("op*.tflite")
    model = load_model(one)
    assert [op.type for op in model.operators] == [op_type]
    inputs = sorted(folder.glob("input_*.npy"))
    assert len(inputs) == len(model.inputs)
    for path, t in zip(inputs, model.inputs):
        arr = np.load(path)
        assert arr.dtype == np.dtype(t.dtype) and arr.shape == tuple(t.shape)
    # the arrays are consistent with TFLM: the one-operator model on the inputs gives
    # expected_0.npy, and byoc's value in the whole model differs from it
    from byoc.reference import run_tflm
    want = run_tflm(model.data, [[np.load(p) for p in inputs]], 1 << 20, len(model.outputs))
    np.testing.assert_array_equal(want[0][0], np.load(folder / "expected_0.npy"))
    assert np.any(np.load(folder / "got_0.npy") != want[0][0])
    assert d["reproduces"] is reproduces


def test_injected_fault_is_pinned_on_host(tmp_path, monkeypatch):
    add = first_operator(IC, "ADD")
    monkeypatch.setenv("BYOC_TEST_FAULT", "add")        # the generic and CMSIS-NN ADD calls
    rc = regress(str(IC), "--target", "c,cmsis-nn,c", "--backend", "host", "-j", "2",
                 "--html", str(tmp_path / "r"), "--keep")
    assert rc == 1
    cases = {c["target"]: c for c in
             json.loads((tmp_path / "r" / "results.json").read_text())["cases"]}
    _check_divergence(tmp_path / "r", cases["c"], add, "ADD", "generic")
    _check_divergence(tmp_path / "r", cases["cmsis-nn,c"], add, "ADD", "cmsis-nn")
    assert cases["cmsis-nn,c"]["divergence"]["kernel"] == "arm_elementwise_add_s8"
    assert (tmp_path / "r" / cases["c"]["kept"] / "package" / "metadata.json").is_file()
    # one call only (the third CONV_2D): a later operator than the kernel's first use
    monkeypatch.setenv("BYOC_TEST_FAULT", "CONV_2D@2")
    assert regress(str(IC), "--target", "c", "--backend", "host",
                   "--html", str(tmp_path / "r2")) == 1
    (case,) = json.loads((tmp_path / "r2" / "results.json").read_text())["cases"]
    # alone, the operator is the first CONV_2D call of its package: not perturbed
    _check_divergence(tmp_path / "r2", case, first_operator(IC, "CONV_2D", 2), "CONV_2D",
                      "generic", reproduces=False)


def test_injected_fault_is_pinned_in_a_streaming_model(tmp_path, monkeypatch):
    """A stateful model: operators are numbered as in the file (state operators included),
    byoc and TFLM both stream the samples through one state."""
    jarvis = MODELS / "streaming" / "hey_jarvis.tflite"
    depthwise = first_operator(jarvis, "DEPTHWISE_CONV_2D")
    monkeypatch.setenv("BYOC_TEST_FAULT", "cmsis_depthwise")
    assert regress(str(jarvis), "--target", "cmsis-nn,c", "--backend", "host", "--inputs",
                   "4", "--html", str(tmp_path / "r")) == 1
    (case,) = json.loads((tmp_path / "r" / "results.json").read_text())["cases"]
    _check_divergence(tmp_path / "r", case, depthwise, "DEPTHWISE_CONV_2D", "cmsis-nn")


def test_injected_fault_is_pinned_on_qemu(tmp_path, monkeypatch):
    require_tools()
    depthwise = first_operator(KWS, "DEPTHWISE_CONV_2D")
    monkeypatch.setenv("BYOC_TEST_FAULT", "cmsis_depthwise")   # a broken CMSIS-NN kernel
    rc = regress(str(KWS), "--target", "cmsis-nn,c", "--cpu", "cortex-m55", "--backend",
                 "qemu", "--inputs", "1", "--html", str(tmp_path / "r"),
                 "--junit", str(tmp_path / "j.xml"))
    assert rc == 1
    (case,) = json.loads((tmp_path / "r" / "results.json").read_text())["cases"]
    assert case["instructions"] > 0
    _check_divergence(tmp_path / "r", case, depthwise, "DEPTHWISE_CONV_2D", "cmsis-nn")
    assert case["divergence"]["kernel"] == "arm_depthwise_conv_wrapper_s8"
    failure = ET.parse(tmp_path / "j.xml").getroot().find(".//failure")
    assert failure is not None and f"operator {depthwise} DEPTHWISE_CONV_2D" in \
        failure.get("message")


def test_a_crashing_worker_is_reported_with_its_signal(tmp_path):
    """A native crash (a real SIGSEGV: a NULL read once the request has arrived) costs only
    that case: the record names the signal, and a new worker runs the next case.

    The crash is raised by the worker itself, not sent from outside at a guessed moment: TVM
    installs a backtrace handler for SIGSEGV, and a signal landing while the process holds
    the dynamic loader's lock (during ``import tvm``) deadlocks that handler, so an external
    kill made this test time out on a loaded machine."""
    import sys

    from byoc.regress.runner import Worker, WorkerLost, run_cases
    case = Case(KWS.name, str(KWS), "c", "host", "host")
    request = {"case": case.to_json(), "inputs": 1, "seed": 0, "timeout": None, "steps": None,
               "vela": None, "work_dir": str(tmp_path / "w"), "reproducer_dir": None,
               "cache_dir": None}
    crashing = (sys.executable, "-c",
                "import ctypes, sys, tvm; sys.stdin.readline(); ctypes.string_at(0)")
    worker = Worker(tmp_path / "worker.log", crashing)
    with pytest.raises(WorkerLost, match=r"crashed \(signal 11 \(SIGSEGV\)\)"):
        worker.ask(request, 120)
    worker.close()
    records = []
    run_cases([request], 1, 120, tmp_path, lambda req, rec: records.append(rec))
    assert [r["status"] for r in records] == ["pass"]


def test_emulator_timeout_is_an_error_case(tmp_path):
    require_tools()
    assert regress(str(KWS), "--target", "c", "--timeout", "0.05", "--inputs", "1",
                   "--html", str(tmp_path / "r")) == 2
    (case,) = json.loads((tmp_path / "r" / "results.json").read_text())["cases"]
    assert case["status"] == "error" and case["error_kind"] == "timeout", case
    assert "--timeout" in case["message"]


def test_progress_bar_on_a_terminal_and_in_a_log():
    import io

    from byoc.regress.runner import ProgressBar
    records = [{"id": f"m__c__cpu{k}", "status": s, "seconds": 1.0}
               for k, s in enumerate(("pass", "fail", "error"))]
    tty, log = io.StringIO(), io.StringIO()
    bars = ProgressBar(3, tty, tty=True), ProgressBar(3, log, tty=False)
    for r in records:
        for bar in bars:
            bar.update(r)
    assert tty.getvalue().count("\r[") == 3 and "3/3  2 failing" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    assert log.getvalue().splitlines() == ["[1/3] PASS  m__c__cpu0  1.0 s",
                                           "[2/3] FAIL  m__c__cpu1  1.0 s",
                                           "[3/3] ERROR m__c__cpu2  1.0 s"]
