"""One regression case, as a worker process runs it: validate, then localise a mismatch.

``run_case(request)`` never raises: every failure (the model does not import, the firmware
does not build, the emulator faults or times out, an internal error) becomes a record
with ``status`` "error", an ``error_kind`` and a one-line ``message``.
"""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

from .. import reference
from ..validate import random_inputs, validate
from ..errors import ByocError, ModelError
from ..platform import (EmulatorError, FirmwareBuildError, FirmwareFault, RunTimeout,
                        ToolNotFoundError)
from ..tflite.reader import load_model

#: Fields of ``ValidationResult`` a case record keeps.
RESULT_FIELDS = ("mismatches", "max_abs_diff", "samples", "seed", "tolerance", "arena_bytes",
                 "arena_lower_bound_bytes", "constant_bytes", "instructions",
                 "instructions_per_sample", "counter", "code_bytes", "rodata_bytes",
                 "npu_cycles", "details")


def validate_supports_steps() -> bool:
    """True when ``byoc.validate.validate`` takes ``steps`` (streaming models)."""
    return "steps" in inspect.signature(validate).parameters


def error_kind(exc: BaseException) -> str:
    """A short class of failure for reports and JUnit's ``type``."""
    for cls, kind in ((RunTimeout, "timeout"), (FirmwareFault, "emulator crash"),
                      (EmulatorError, "emulator error"), (FirmwareBuildError, "build error"),
                      (ToolNotFoundError, "missing tool"), (ModelError, "import error")):
        if isinstance(exc, cls):
            return kind
    return "error" if isinstance(exc, ByocError) else "internal error"


def one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _tflm_arena(model, cache_dir: Path | None) -> int | None:
    """TFLM's arena head for the model, cached by content in ``cache_dir``."""
    import hashlib
    key = hashlib.sha256(model.data).hexdigest()[:24]
    cached = cache_dir / f"{key}.json" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return json.loads(cached.read_text())["head"]
    arena = reference.tflm_arena(model.data, sum(t.nbytes for t in model.tensors
                                                 if not t.is_constant), model.name)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{id(arena)}.tmp")
        tmp.write_text(json.dumps(arena))
        tmp.replace(cached)
    return arena["head"]


def run_case(request: dict) -> dict:
    """Run the case described by ``request`` (``case``: ``Case.to_json()``; ``inputs``,
    ``seed``, ``timeout``, ``steps``, ``vela``, ``work_dir``, ``reproducer_dir``,
    ``cache_dir``) and return its record."""
    case = request["case"]
    start = time.monotonic()
    record: dict = {**case, "status": "error", "error_kind": None, "message": "",
                    "divergence": None, "tflm_arena_bytes": None}
    work = Path(request["work_dir"])
    try:
        model = load_model(case["model_path"], name=case["model"])
        kwargs = {}
        if request.get("steps") is not None:
            kwargs["steps"] = request["steps"]
        res = validate(
            model, target=case["target"], backend=case["backend"], inputs=request["inputs"],
            seed=request["seed"], cpu=case["cpu"], work_dir=work,
            timeout_s=request.get("timeout"), vela=request.get("vela"), **kwargs)
        record.update({k: getattr(res, k) for k in RESULT_FIELDS})
        record["status"] = res.status
        if res.status != "pass":
            record["message"] = (f"{res.mismatches} mismatching output elements over "
                                 f"{res.samples} inputs (max |diff| {res.max_abs_diff}) vs TFLM")
            if res.details:
                record["message"] += "; " + "; ".join(res.details)
        try:
            record["tflm_arena_bytes"] = _tflm_arena(model, Path(request["cache_dir"])
                                                     if request.get("cache_dir") else None)
        except ByocError as exc:
            record["details"] = list(record.get("details") or []) + [one_line(exc)]
        if res.status != "pass" and res.mismatches:
            _localise(record, model, res, request, work)
    except ByocError as exc:
        record.update(status="error", error_kind=error_kind(exc), message=one_line(exc))
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the other cases
        record.update(status="error", error_kind="internal error",
                      message=one_line(f"{type(exc).__name__}: {exc}"))
    record["seconds"] = round(time.monotonic() - start, 2)
    return record


def _localise(record: dict, model, res, request: dict, work: Path) -> None:
    """Fill ``record["divergence"]`` (or a note why there is none)."""
    from .localize import localise
    case = record
    samples = random_inputs(model, res.samples, res.seed)
    metadata = json.loads((Path(res.output_dir) / "metadata.json").read_text())
    repro = request.get("reproducer_dir")
    try:
        div = localise(model, case["target"], case["cpu"], case["backend"], samples, metadata,
                       work / "localise", Path(repro) if repro else None,
                       tolerance=res.tolerance, timeout_s=request.get("timeout"),
                       vela=request.get("vela"))
    except Exception as exc:  # noqa: BLE001 - the case's verdict stands without it
        record["localisation_error"] = one_line(f"{error_kind(exc)}: {exc}")
        return
    if div is None:
        record["localisation_error"] = ("not localised: the build with every intermediate "
                                        "tensor as an output matches TFLM on all of them")
    else:
        record["divergence"] = div.to_json()
        record["message"] += f"; {div.summary()}"
