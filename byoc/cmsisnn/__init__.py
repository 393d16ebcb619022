"""The ``cmsis-nn`` target: int8 operators computed by CMSIS-NN v7 kernels.

* :mod:`byoc.cmsisnn.partition` - ``cmsisnn.*`` patterns (byoc.qnn's chains, plus PAD fused
  into a convolution), the offload checks with their reasons, ``partition_for_cmsisnn``;
* :mod:`byoc.cmsisnn.codegen` - the ``relax.ext.cmsisnn`` codegen and the C functions that
  call the CMSIS-NN API with compile-time constants;
* :mod:`byoc.cmsisnn.placement` - which operator went where, and why;
* :mod:`byoc.cmsisnn.backend` - the backend ``byoc.compile`` uses (``byoc.backend``), and
  what the output package needs: the header, the kernel sources (``<package>/cmsis_nn/``)
  and the CMake lines linking target ``cmsis-nn``.
"""

from __future__ import annotations

from .backend import CmsisNNBackend, kernel_sources, package_parts
from .codegen import CmsisCall, generate
from .partition import offload_reason, partition_for_cmsisnn

__all__ = ["partition_for_cmsisnn", "generate", "offload_reason", "package_parts",
           "CmsisCall", "CmsisNNBackend", "kernel_sources"]
