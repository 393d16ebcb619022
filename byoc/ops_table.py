"""The operator x dtype x target table (``byoc ops``), generated from the code.

Every row is read from the operator spec the compiler itself uses (``byoc.qnn.ops.SPECS``),
so the table cannot drift from what the compiler does:

* ``c``: every spec has an integer kernel; int16 where the spec's ``dtypes`` list it;
* ``cmsis-nn``: the spec's ``cmsis_nn`` functions per dtype (the function called);
* ``ethos-u``: specs with ``ethos_u`` (int8 only; Vela decides per operator);
* data movement: ``byoc.frontend.RAW_COPY_OPERATORS`` (raw copies, as TFLM does).

A missing cell means the compiler refuses that operator on that dtype (the float check) or
leaves it to the next target in ``--target``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Operators handled outside the byoc.qnn kernels (no arithmetic of their own):
#: (operator, dtype, c, cmsis-nn, the ethos-u partition kind that takes it)
_NON_KERNEL_ROWS = [
    ("RESHAPE", "int8", "view (no code)", "view (no code)", "reshape"),
    ("RESHAPE", "int16", "view (no code)", "view (no code)", None),
    ("DEQUANTIZE", "int8, int16 -> float32", "float32 (x - zp) * scale, like TFLM", None, None),
]
#: byoc.qnn kinds whose dtype column is not the activation dtype.
_DTYPE_LABELS = {"quantize_float": {"int8": "float32 -> int8", "int16": "float32 -> int16"},
                 "quantize": {"int8": "int8/int16 -> int8", "int16": "int8/int16 -> int16"}}


#: byoc.qnn kinds whose CMSIS-NN cell names more than the spec's function.
_CMSIS_LABELS = {"svdf": "`arm_svdf_s8` (int8 state), `arm_svdf_state_s16_s8` (int16 state)"}


@dataclass
class Row:
    """One operator x dtype: what each target computes it with (None: not taken)."""

    operator: str
    dtype: str
    c: str | None
    cmsis_nn: str | None
    ethos_u: str | None


def operator_rows() -> list[Row]:
    """The table rows, sorted by operator (int8 rows before int16 ones)."""
    from .ethosu import partition as npu
    from .qnn import ops

    rows: list[Row] = []
    for spec in ops.SPECS:
        for dtype in ("int8", "int16"):
            c = "integer kernel" if dtype in spec.dtypes else None
            cm = spec.cmsis_nn.get(dtype)
            eu = "Vela" if dtype == "int8" and spec.ethos_u and spec.kind not in npu.REFUSED \
                else None
            if c is None and cm is None and eu is None:
                continue
            label = _DTYPE_LABELS.get(spec.kind, {}).get(dtype, dtype)
            # PADV2 (any pad value) is the same kind as PAD
            cm = _CMSIS_LABELS.get(spec.kind, cm and f"`{cm}`") if cm else None
            for name in (spec.op_type,) + (("PADV2",) if spec.kind == "pad" else ()):
                _add_row(rows, Row(name, label, c, cm, eu))
    rows += _other_rows({r.operator for r in rows})
    for op, dtype, c, cm, eu in _NON_KERNEL_ROWS:
        rows.append(Row(op, dtype, c, cm, "Vela" if eu in npu.TFLITE_TYPES else None))
    rows.sort(key=lambda r: (r.operator, "int16" in r.dtype, r.dtype))
    return rows


def _add_row(rows: list[Row], row: Row) -> None:
    """Append ``row``, or merge it into the row of the same operator and dtype (SVDF has
    two kinds: the state update and the output, which CMSIS-NN computes in one call)."""
    for i, r in enumerate(rows):
        if (r.operator, r.dtype) == (row.operator, row.dtype):
            rows[i] = Row(r.operator, r.dtype, r.c or row.c, r.cmsis_nn or row.cmsis_nn,
                          r.ethos_u or row.ethos_u)
            return
    rows.append(row)


def _other_rows(listed: set[str]) -> list[Row]:
    """Raw copies: TVM's integer lowering, and the other quantized operators byoc's
    frontend admits beyond TVM's own list and the specs (slices, splits: int8 copies)."""
    from tvm.relax.frontend.tflite.tflite_frontend import OperatorConverter

    from .frontend import RAW_COPY_OPERATORS, _CheckedConverter
    rows = [Row(op, dtype, "raw copy (TVM's integer lowering)", None, None)
            for op, dtypes in RAW_COPY_OPERATORS.items() for dtype in dtypes
            if op not in listed]
    listed = listed | {r.operator for r in rows} | {"PADV2", "SHAPE"}
    for op in sorted(_CheckedConverter._SUPPORTED_QUANTIZED_OPS
                     - OperatorConverter._SUPPORTED_QUANTIZED_OPS - listed):
        rows.append(Row(op, "int8", "raw copy (TVM's integer lowering)", None, None))
    return rows


def markdown() -> str:
    """The table as GitHub markdown (what README.md embeds)."""
    lines = ["| TFLite operator | dtype | `c` (generic C) | `cmsis-nn` | `ethos-u55-*` |",
             "|---|---|---|---|---|"]
    for r in operator_rows():
        cells = [r.operator, r.dtype, r.c or "refused", r.cmsis_nn or "-", r.ethos_u or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def text() -> str:
    """The table for a terminal."""
    rows = [("operator", "dtype", "c", "cmsis-nn", "ethos-u")]
    rows += [(r.operator, r.dtype, r.c or "refused", (r.cmsis_nn or "-").strip("`"),
              r.ethos_u or "-") for r in operator_rows()]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows) + "\n"


README_START = "<!-- operator table: generated by `byoc ops --markdown`, do not edit -->"
README_END = "<!-- end of operator table -->"


def readme_table(readme_text: str) -> str:
    """The table currently embedded in README.md between the markers."""
    start = readme_text.index(README_START) + len(README_START)
    end = readme_text.index(README_END)
    return readme_text[start:end].strip("\n") + "\n"
