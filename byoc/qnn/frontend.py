"""Import int8 TFLite models with TVM's Relax frontend, plus the fixes this package needs.

``import_tflite(buf)`` is ``tvm.relax.frontend.tflite.from_tflite`` with an operator
converter subclass that fixes the frontend problems met with int8 models:

* quantized PAD/PADV2 are rejected by the frontend's up-front allow-list although their
  converter handles them correctly (an int8 ``nn.pad`` with the zero point as value);
* SOFTMAX drops ``beta``: the input is now multiplied by beta (a float32 constant) before
  ``nn.softmax``, which the ``byoc.qnn.softmax`` pattern reads back;
* FULLY_CONNECTED with ``keep_num_dims=False`` and an input of rank > 2 keeps the input's
  leading dimensions instead of flattening them to TFLite's ``[batch, units]``: a reshape
  to the TFLite output shape is appended;
* CONV_2D / DEPTHWISE_CONV_2D without a bias (input index -1) crash the converter.
"""

from __future__ import annotations

import numpy as np
import tflite
import tvm
from tvm import relax
from tvm.relax.frontend.tflite import tflite_frontend as _tf


class QnnConverterFixes:
    """Mixin for a subclass of the frontend's ``OperatorConverter`` (put it first in the
    bases): the SOFTMAX beta, FULLY_CONNECTED rank > 2 and bias-less conv fixes (see the
    module docstring)."""

    def convert_softmax(self, op):
        from tflite.SoftmaxOptions import SoftmaxOptions

        opts = SoftmaxOptions()
        table = op.BuiltinOptions()
        beta = 1.0
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            beta = float(opts.Beta())
        inp = self.get_input_tensors(op)[0]
        if beta == 1.0 or inp.qnn_params is None:
            # beta == 1 (the common case) and float models: the stock conversion
            return super().convert_softmax(op)
        out_t = self.get_output_tensors(op)[0]
        x = self.dequantize(self.get_expr(inp.tensor_idx), inp)
        x = relax.op.multiply(x, relax.const(np.float32(beta), "float32"))
        y = relax.op.nn.softmax(x, axis=-1)
        return self.quantize(y, out_t) if out_t.qnn_params else y

    def convert_conv(self, op, conv_type):
        # An absent bias (input index -1) crashes the stock converter, which treats any
        # third input as a bias tensor; hide trailing absent inputs from it.
        full = self.get_input_tensors

        def present(o):
            tensors = full(o)
            while len(tensors) > 2 and tensors[-1].tensor_idx < 0:
                tensors = tensors[:-1]
            return tensors

        self.get_input_tensors = present
        try:
            return super().convert_conv(op, conv_type)
        finally:
            del self.get_input_tensors

    def convert_fully_connected(self, op):
        from tflite.FullyConnectedOptions import FullyConnectedOptions

        out = super().convert_fully_connected(op)
        opts = FullyConnectedOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        in_rank = len(self.get_tensor_shape(self.get_input_tensors(op)[0]))
        if not opts.KeepNumDims() and in_rank > 2:
            shape = [int(d) for d in self.get_tensor_shape(self.get_output_tensors(op)[0])]
            out = relax.op.reshape(out, shape)
        return out


class QuantizedOperatorConverter(QnnConverterFixes, _tf.OperatorConverter):
    """The stock converter with the fixes above and quantized PAD/PADV2 allowed."""

    _SUPPORTED_QUANTIZED_OPS = _tf.OperatorConverter._SUPPORTED_QUANTIZED_OPS | frozenset(
        {"PAD", "PADV2"})


def import_tflite(buf: bytes) -> tvm.IRModule:
    """Parse TFLite flatbuffer bytes and import them into a Relax module (QDQ form)."""
    model = tflite.Model.GetRootAsModel(buf, 0)
    return _tf.from_tflite(model, op_converter=QuantizedOperatorConverter)
