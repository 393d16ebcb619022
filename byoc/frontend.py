"""TFLite -> Relax: TVM's TFLite frontend plus the checks and fix-ups our pipeline needs.

The frontend itself is TVM's (``tvm.relax.frontend.tflite``). What this module adds:
* errors that name the model file, the operator index and its type instead of TVM's
  assertion or a Python traceback;
* a refusal of dynamic shapes (an MCU build is fully static);
* the QDQ -> integer legalization (``byoc.qnn``) so that int8 graphs compute with TFLM's
  integer arithmetic, not float.
"""

from __future__ import annotations

import contextlib
import os

import tvm
from tvm.relax.frontend.tflite import tflite_frontend

from .errors import ModelError, UnsupportedOperatorError
from .tflite.reader import TFLiteModel, load_model


class _CheckedConverter(tflite_frontend.OperatorConverter):
    """TVM's operator converter with errors that name the operator index and type."""

    model_label = "model"
    op_types: list[str] = []
    # The converter pads quantized tensors correctly (with the zero point) but its
    # up-front allow-list of quantized operators forgets PAD/PADV2.
    _SUPPORTED_QUANTIZED_OPS = tflite_frontend.OperatorConverter._SUPPORTED_QUANTIZED_OPS | \
        frozenset({"PAD", "PADV2"})

    def check_unsupported_ops(self):
        for idx in range(self.subgraph.OperatorsLength()):
            op = self.subgraph.Operators(idx)
            try:
                name = self.get_op_code_str(op)
            except Exception:  # e.g. custom operators: the frontend cannot even name them
                name = self.op_types[idx] if idx < len(self.op_types) else "unknown"
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) is not supported by TVM's "
                    "TFLite frontend") from None
            if name not in self.convert_map:
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) is not supported by TVM's "
                    "TFLite frontend")
        try:
            super().check_unsupported_ops()
        except tvm.error.OpNotImplemented as exc:
            detail = " ".join(str(exc).split())
            raise UnsupportedOperatorError(f"{self.model_label}: {detail}") from None

    def convert_op_to_relax(self):
        for idx in range(self.subgraph.OperatorsLength()):
            op = self.subgraph.Operators(idx)
            name = self.get_op_code_str(op)
            try:
                ret = self.convert_map[name](op=op)
                if ret is None:
                    continue
                ret = self.bb.normalize(ret)
            except (UnsupportedOperatorError, ModelError):
                raise
            except Exception as exc:  # TVM raises many types; all mean "cannot import"
                detail = " ".join(str(exc).split())[:300] or type(exc).__name__
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) cannot be imported: {detail}"
                ) from None
            outputs = self.get_output_tensors(op)
            if len(outputs) == 1:
                self.exp_tab.set_expr(
                    tflite_frontend.get_tensor_name(self.subgraph, outputs[0].tensor_idx), ret)
            else:
                for k, t in enumerate(outputs):
                    self.exp_tab.set_expr(
                        tflite_frontend.get_tensor_name(self.subgraph, t.tensor_idx), ret[k])


@contextlib.contextmanager
def _unique_tensor_names(model: TFLiteModel):
    """TVM's frontend keys its expression table by tensor NAME, so two tensors with the same
    name (legal in TFLite) would be confused. While importing, every name that is not unique
    gets its tensor index appended."""
    counts: dict[str, int] = {}
    for t in model.tensors:
        counts[t.name] = counts.get(t.name, 0) + 1
    original = tflite_frontend.get_tensor_name

    def unique_name(subgraph, tensor_idx):
        name = original(subgraph, tensor_idx)
        return f"{name}__{tensor_idx}" if counts.get(name, 0) > 1 else name

    tflite_frontend.get_tensor_name = unique_name
    try:
        yield
    finally:
        tflite_frontend.get_tensor_name = original


def from_tflite(model: "TFLiteModel | str | os.PathLike | bytes", legalize: bool = True
                ) -> tvm.IRModule:
    """Import a TFLite model as a Relax module (``main`` takes the model inputs in order).

    With ``legalize`` (the default), quantized operator chains are rewritten to integer
    ``call_tir`` kernels bit-exact with TFLM (see ``byoc.qnn``).
    """
    if not isinstance(model, TFLiteModel):
        model = load_model(model)
    label = str(model.path) if model.path else "model"
    dynamic = model.dynamic_tensors()
    if dynamic:
        t = dynamic[0]
        raise ModelError(f"{label}: tensor '{t.name}' has a dynamic shape {list(t.shape_signature)}; "
                         "only static shapes can be compiled")
    converter = type("_Converter", (_CheckedConverter,),
                     {"model_label": label, "op_types": [op.type for op in model.operators]})
    try:
        with _unique_tensor_names(model):
            mod = tflite_frontend.from_tflite(model.model, op_converter=converter)
    except (UnsupportedOperatorError, ModelError):
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelError(f"{label}: TVM's TFLite frontend failed: {detail}") from None
    if legalize:
        from .qnn.legalize import legalize_quantized
        mod = legalize_quantized(mod)
    return mod
