"""byoc: int8 TFLite models -> standalone C for Arm Cortex-M (and Ethos-U55), on Apache TVM.

Python API::

    import byoc
    compiled = byoc.compile("model.tflite", target="c", cpu="cortex-m55", output_dir="out")
    result = byoc.validate("model.tflite", target="c", backend="host", inputs=5)

Building blocks: ``byoc.frontend.from_tflite`` (TVM's TFLite frontend plus our fix-ups),
``byoc.partition_for_cmsisnn`` (CMSIS-NN partitions of the frontend's QDQ graph),
``byoc.generic.lower_generic`` (Relax -> TIR), ``byoc.tflite.builder`` (write .tflite files).
"""

from .cmsisnn import partition_for_cmsisnn
from .compiler import CompiledModel, compile  # noqa: A004
from .errors import ByocError
from .validate import ValidationResult, validate
from .version import __version__

__all__ = ["ByocError", "CompiledModel", "ValidationResult", "compile", "partition_for_cmsisnn",
           "validate", "__version__"]
