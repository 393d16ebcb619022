"""Integer (TFLM bit-exact) lowering of the quantized operator chains of TVM's TFLite frontend.

* :mod:`byoc.qnn.quant_math` - TFLite's QuantizeMultiplier & co. (compile time) and numpy
  reference arithmetic;
* :mod:`byoc.qnn.patterns` - ``relax.dpl`` patterns for the frontend's QDQ chains
  (registered as ``byoc.qnn.*``) and extraction into parameter dataclasses;
* :mod:`byoc.qnn.kernels_te` - integer-only TIR kernels for those dataclasses;
* :mod:`byoc.qnn.ops` - the operator spec: one entry per operator tying its pattern,
  extraction, kernel, dtypes and backend hooks together (every per-operator table derives
  from it);
* :mod:`byoc.qnn.legalize` - the pass: chains -> ``call_tir`` of the kernels;
* frontend fixes (quantized PAD, softmax beta, FC rank > 2) live in :mod:`byoc.frontend`.
"""

from .legalize import kernel_report, legalize_quantized, partition
from .ops import describe, extract, register

# (the pattern list itself is ``byoc.qnn.ops.patterns()``; not re-exported here so that
# ``byoc.qnn.patterns`` keeps naming the module)
__all__ = ["legalize_quantized", "partition", "kernel_report", "register", "extract",
           "describe"]
