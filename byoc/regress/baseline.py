"""Compare a run with an earlier ``results.json`` (``--baseline``).

Per case (same model label, target and cpu), each metric of ``METRICS`` that both runs
measured is compared; a growth of more than ``max_regression`` percent is a regression
(the case fails). Only cases that passed in both runs are compared: a mismatching or
erroring case already fails on its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ByocError

#: Metrics where more is worse: instructions (or DWT cycles) per inference, the arena,
#: the model's code and its constants.
METRICS = ("instructions", "arena_bytes", "code_bytes", "constant_bytes")


def parse_threshold(text: str) -> float:
    """``"2%"`` or ``"2"`` -> 2.0 (percent)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%?\s*", str(text))
    if not m:
        raise ByocError(f"--max-regression '{text}': expected a percentage such as 2%")
    return float(m.group(1))


def load_baseline(path: str) -> dict[tuple[str, str, str], dict]:
    """The cases of an earlier ``results.json`` by (model, target, cpu)."""
    try:
        data = json.loads(Path(path).read_text())
        cases = data["cases"]
        return {(c["model"], c["target"], c["cpu"]): c for c in cases}
    except FileNotFoundError:
        raise ByocError(f"--baseline {path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ByocError(f"--baseline {path}: not a byoc regress results.json "
                        f"({type(exc).__name__}: {exc})") from None


def compare(record: dict, old: dict | None, max_regression: float) -> tuple[list[dict], list[dict]]:
    """(regressions, changes) of ``record`` against its baseline case ``old``: each
    ``{"metric", "baseline", "value", "percent"}``; changes lists every compared metric."""
    if old is None or record.get("status") != "pass" or old.get("status") != "pass":
        return [], []
    regressions, changes = [], []
    for metric in METRICS:
        before, now = old.get(metric), record.get(metric)
        if not isinstance(before, (int, float)) or not isinstance(now, (int, float)):
            continue
        percent = 100.0 * (now - before) / before if before else (0.0 if now == before
                                                                  else float("inf"))
        change = {"metric": metric, "baseline": before, "value": now,
                  "percent": round(percent, 3)}
        changes.append(change)
        if percent > max_regression:
            regressions.append(change)
    return regressions, changes


def describe(regression: dict, max_regression: float) -> str:
    return (f"{regression['metric']} regressed by {regression['percent']:.2f}% "
            f"({regression['baseline']:,} -> {regression['value']:,}; limit "
            f"{max_regression:g}%)")
