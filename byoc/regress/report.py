"""Reports of a regression run: JUnit XML, results.json, Markdown and an offline HTML page.

* JUnit: one ``<testsuite>`` per model, one ``<testcase>`` per model x target x cpu
  (``classname`` = model, ``name`` = "target @ cpu"); a mismatch or a regression is a
  ``<failure>``, an import/build/emulator/timeout problem an ``<error>``, each with the
  one-line message and the details as text.
* HTML: one self-contained page (inline CSS and SVG, nothing fetched) with the case table
  and three charts: instructions per core (log scale), arena vs its lower bound vs TFLM's
  arena, and Vela's NPU cycles.
"""

from __future__ import annotations

import html
import json
import math
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from .baseline import describe

_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


def verdict(record: dict) -> str:
    """PASS / FAIL (mismatch) / ERROR / REGRESSION."""
    if record["status"] == "pass":
        return "REGRESSION" if record.get("regressions") else "PASS"
    return "FAIL" if record["status"] == "fail" else "ERROR"


def _n(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3g}"
    return f"{int(value):,}"


# ----------------------------------------------------------------------------- JUnit


def junit_xml(results: dict) -> bytes:
    """The JUnit XML document of a run's ``results`` (see ``results_json``)."""
    cases = results["cases"]
    total = results["summary"]
    root = ET.Element("testsuites", name="byoc regress", tests=str(len(cases)),
                      failures=str(total["failed"] + total["regressions"]),
                      errors=str(total["errors"]), time=f"{total['wall_seconds']:.3f}")
    by_model: dict[str, list[dict]] = {}
    for c in cases:
        by_model.setdefault(c["model"], []).append(c)
    stamp = results["created"][:19]
    for model, group in by_model.items():
        v = [verdict(c) for c in group]
        suite = ET.SubElement(
            root, "testsuite", name=model, tests=str(len(group)),
            failures=str(sum(x in ("FAIL", "REGRESSION") for x in v)),
            errors=str(v.count("ERROR")), skipped="0",
            time=f"{sum(c.get('seconds') or 0 for c in group):.3f}", timestamp=stamp,
            hostname=socket.gethostname() or "localhost")
        props = ET.SubElement(suite, "properties")
        for key in ("backend", "inputs", "seed", "shard"):
            ET.SubElement(props, "property", name=key, value=str(results[key]))
        for c in group:
            tc = ET.SubElement(suite, "testcase", classname=_classname(model),
                               name=f"{c['target']} @ {c['cpu']}",
                               time=f"{c.get('seconds') or 0:.3f}")
            kind = verdict(c)
            if kind == "FAIL":
                f = ET.SubElement(tc, "failure", message=c["message"], type="mismatch")
                f.text = _failure_text(c)
            elif kind == "REGRESSION":
                msgs = [describe(r, results["max_regression"]) for r in c["regressions"]]
                f = ET.SubElement(tc, "failure", message="; ".join(msgs), type="regression")
                f.text = "\n".join(msgs)
            elif kind == "ERROR":
                e = ET.SubElement(tc, "error", message=c["message"],
                                  type=c.get("error_kind") or "error")
                e.text = c["message"]
            out = ET.SubElement(tc, "system-out")
            out.text = _metrics_text(c)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _classname(model: str) -> str:
    """JUnit class name of a model label: dots separate packages for CI systems."""
    return re.sub(r"\.tflite$", "", model).replace(".", "_").replace("/", ".")


def _failure_text(c: dict) -> str:
    lines = [c["message"]]
    d = c.get("divergence")
    if d:
        lines.append(f"operator {d['operator_index']} {d['operator_type']}, placement "
                     f"{d['backend']} {d['kernel']}, tensor '{d['tensor']}', "
                     f"max |diff| {_n(d['max_abs_diff'])}")
        if d.get("reproducer"):
            lines.append(f"reproducer: {d['reproducer']}")
    if c.get("localisation_error"):
        lines.append(c["localisation_error"])
    return "\n".join(lines)


def _metrics_text(c: dict) -> str:
    keys = ("instructions", "counter", "arena_bytes", "arena_lower_bound_bytes",
            "tflm_arena_bytes", "constant_bytes", "code_bytes", "rodata_bytes", "npu_cycles")
    return " ".join(f"{k}={c.get(k)}" for k in keys if c.get(k) is not None)


# ----------------------------------------------------------------------------- JSON


def results_json(meta: dict, records: list[dict]) -> dict:
    """The run's results: ``meta`` (command, backend, matrix, baseline...) plus the
    ``summary`` and every case record, in matrix order."""
    v = [verdict(r) for r in records]
    summary = {"cases": len(records), "passed": v.count("PASS"), "failed": v.count("FAIL"),
               "errors": v.count("ERROR"), "regressions": v.count("REGRESSION"),
               "wall_seconds": meta.pop("wall_seconds", 0.0)}
    return {"tool": "byoc regress",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **meta, "summary": summary, "cases": records}


def dumps(results: dict) -> str:
    return json.dumps(results, indent=1, default=str) + "\n"


# ----------------------------------------------------------------------------- Markdown

_COLUMNS = ("model", "target", "cpu", "verdict", "instructions", "arena", "lower bound",
            "TFLM arena", "constants", "code", "NPU cycles", "seconds")


def _row(c: dict) -> list[str]:
    return [c["model"], f"`{c['target']}`", c["cpu"], verdict(c), _n(c.get("instructions")),
            _n(c.get("arena_bytes")), _n(c.get("arena_lower_bound_bytes")),
            _n(c.get("tflm_arena_bytes")), _n(c.get("constant_bytes")),
            _n(c.get("code_bytes")), _n(c.get("npu_cycles")),
            f"{c['seconds']:.1f}" if c.get("seconds") is not None else "–"]


def markdown(results: dict) -> str:
    s = results["summary"]
    lines = [f"# byoc regress: {s['passed']}/{s['cases']} passed",
             "",
             f"{s['failed']} mismatching, {s['errors']} errors, {s['regressions']} "
             f"regressions; backend `{results['backend']}`, {results['inputs']} random "
             f"input(s) per case (seed {results['seed']}), shard {results['shard']}, "
             f"{s['wall_seconds']:.0f} s wall time, {results['jobs']} jobs.",
             "",
             "| " + " | ".join(_COLUMNS) + " |",
             "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(_row(c)) + " |" for c in results["cases"]]
    problems = [c for c in results["cases"] if verdict(c) != "PASS"]
    if problems:
        lines += ["", "## Failing cases", ""]
        for c in problems:
            lines.append(f"### {c['id']} ({verdict(c)})")
            lines.append("")
            lines.append(c["message"] or "; ".join(
                describe(r, results["max_regression"]) for r in c.get("regressions", [])))
            d = c.get("divergence")
            if d:
                lines += ["", "| operator | type | placement | tensor | differing | max diff "
                          "| reproducer | reproduces alone |", "|---|---|---|---|---|---|---|---|",
                          f"| {d['operator_index']} | {d['operator_type']} | {d['backend']} "
                          f"{d['kernel']} | `{d['tensor'][:60]}` | {d['mismatches']}/"
                          f"{d['elements']} | {_n(d['max_abs_diff'])} | "
                          f"`{d.get('reproducer') or '–'}` | "
                          f"{ {True: 'yes', False: 'no', None: '–'}[d.get('reproduces')]} |"]
            if c.get("localisation_error"):
                lines += ["", c["localisation_error"]]
            if c.get("kept"):
                lines += ["", f"Package and firmware kept in `{c['kept']}`."]
            lines.append("")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- HTML + SVG


def bar_chart(title: str, rows: list[tuple[str, list[float | None]]], series: list[str],
              log: bool = False, unit: str = "") -> str:
    """A horizontal grouped bar chart as inline SVG: one group per row label, one bar per
    series (None: no bar). ``log``: log10 value axis."""
    if not rows:
        return ""
    values = [v for _, vs in rows for v in vs if v]
    if not values:
        return ""
    top = max(values)
    low = 10 ** math.floor(math.log10(min(values))) if log else 0.0
    high = 10 ** math.ceil(math.log10(top)) if log else top * 1.05
    if log and high <= low:
        high = low * 10

    def scale(v: float) -> float:
        if log:
            return (math.log10(v) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return v / high if high else 0.0

    label_w = 12 + int(6.3 * max(len(label) for label, _ in rows))   # ~6.3 px per char
    plot_w, bar_h = 520, 12
    group_h = bar_h * len(series) + 8
    height = 40 + group_h * len(rows) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 120}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="4" y="16" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    x = label_w
    for k, name in enumerate(series):
        out.append(f'<rect x="{x}" y="22" width="10" height="10" '
                   f'fill="{_COLORS[k % len(_COLORS)]}"/><text x="{x + 14}" '
                   f'y="31">{html.escape(name)}</text>')
        x += 30 + int(6.3 * len(name))
    y = 40
    for label, vs in rows:
        out.append(f'<text x="{label_w - 6}" y="{y + group_h / 2 + 3}" text-anchor="end">'
                   f'{html.escape(label)}</text>')
        for k, v in enumerate(vs):
            if v:
                w = max(1.0, plot_w * scale(v))
                out.append(f'<rect x="{label_w}" y="{y + k * bar_h}" width="{w:.1f}" '
                           f'height="{bar_h - 2}" fill="{_COLORS[k % len(_COLORS)]}">'
                           f'<title>{html.escape(label)} {html.escape(series[k])}: {v:,.0f} '
                           f'{unit}</title></rect>')
                out.append(f'<text x="{label_w + w + 4}" y="{y + k * bar_h + 9}" '
                           f'font-size="9">{v:,.0f}</text>')
        y += group_h
    ticks = ([10 ** e for e in range(int(math.log10(low)), int(math.log10(high)) + 1)]
             if log else _linear_ticks(high))
    for t in ticks:
        x = label_w + plot_w * scale(t) if t else label_w
        out.append(f'<line x1="{x:.1f}" y1="38" x2="{x:.1f}" y2="{y}" stroke="#ccc"/>'
                   f'<text x="{x:.1f}" y="{y + 14}" text-anchor="middle" font-size="9">'
                   f'{t:,.0f}</text>')
    out.append(f'<text x="{label_w + plot_w / 2}" y="{y + 27}" text-anchor="middle">'
               f'{html.escape(unit)}{" (log scale)" if log else ""}</text></svg>')
    return "\n".join(out)


def _linear_ticks(high: float) -> list[float]:
    """0 and round steps (1, 2 or 5 x 10^k) up to ``high``, about five of them."""
    raw = high / 5
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step *= next((m for m in (1, 2, 5, 10) if m * step >= raw), 10)
    return [step * k for k in range(int(high // step) + 1)]


def _label(model: str) -> str:
    return re.sub(r"\.tflite$", "", model)


def charts(results: dict) -> list[str]:
    """The page's three SVG charts (empty ones are left out)."""
    cases = [c for c in results["cases"] if c["status"] != "error"]
    cpus = list(dict.fromkeys(c["cpu"] for c in cases))
    groups = list(dict.fromkeys((c["model"], c["target"]) for c in cases))
    by = {(c["model"], c["target"], c["cpu"]): c for c in cases}
    unit = "DWT cycles" if any(c.get("counter") == "dwt_cycles" for c in cases) \
        else "instructions per inference"
    instr = [(f"{_label(m)} {t}", [by.get((m, t, cpu), {}).get("instructions")
                                    for cpu in cpus]) for m, t in groups]
    arena = [(f"{_label(c['model'])} {c['target']} {c['cpu']}",
              [c.get("arena_bytes"), c.get("arena_lower_bound_bytes"), c.get("tflm_arena_bytes")])
             for c in cases]
    npu = {(c["model"], c["target"]): c.get("npu_cycles") for c in cases if c.get("npu_cycles")}
    out = [bar_chart("Instructions per core", instr, cpus, log=True, unit=unit),
           bar_chart("Arena vs lower bound vs TFLM", arena,
                     ["byoc arena", "lower bound (peak live)", "TFLM arena (head)"],
                     unit="bytes"),
           bar_chart("NPU cycles (Vela estimate)", [(f"{_label(m)} {t}", [v]) for (m, t), v in
                                                    npu.items()], ["NPU cycles"],
                     unit="cycles")]
    return [c for c in out if c]


_CSS = """body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}
td.n{text-align:right}tr.PASS td.v{background:#d4f4d4}tr.FAIL td.v,tr.REGRESSION td.v
{background:#f8d0d0}tr.ERROR td.v{background:#f4e0b0}code{font-size:12px}
.chart{margin:1em 0}pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap}"""


def html_page(results: dict) -> str:
    """The offline HTML report (one file, no external resources)."""
    s = results["summary"]
    rows = []
    for c in results["cases"]:
        cells = _row(c)
        tds = "".join(
            f'<td class="{"n" if k >= 4 else ("v" if k == 3 else "")}">{html.escape(x)}</td>'
            for k, x in enumerate(cells))
        rows.append(f'<tr class="{verdict(c)}">{tds}</tr>')
    details = []
    for c in results["cases"]:
        if verdict(c) == "PASS":
            continue
        text = _failure_text(c) if c["status"] != "pass" else "\n".join(
            describe(r, results["max_regression"]) for r in c.get("regressions", []))
        details.append(f"<h3>{html.escape(c['id'])} ({verdict(c)})</h3>"
                       f"<pre>{html.escape(text)}</pre>")
    body = [f"<h1>byoc regress: {s['passed']}/{s['cases']} passed</h1>",
            f"<p>{s['failed']} mismatching, {s['errors']} errors, {s['regressions']} "
            f"regressions; backend <code>{html.escape(results['backend'])}</code>, "
            f"{results['inputs']} input(s) per case, shard {results['shard']}, "
            f"{s['wall_seconds']:.0f} s; {html.escape(results['created'])}</p>",
            "<table><tr>" + "".join(f"<th>{h}</th>" for h in _COLUMNS) + "</tr>",
            *rows, "</table>",
            *(f'<div class="chart">{svg}</div>' for svg in charts(results)),
            *(["<h2>Failing cases</h2>"] + details if details else [])]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>byoc regress</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
