"""Arm Ethos-U55 support: compiling TFLite models with Vela (``byoc.ethosu.vela``).

The NPU side of a deployment is a Vela command stream run by the Ethos-U core driver
(``ethosu_invoke_v3``); ``kernels_c/ethosu`` holds byoc's functional model of the
Ethos-U55 behind that driver API, so the same firmware runs on an emulator without an NPU.
"""

from .vela import (  # noqa: F401
    ACCELERATORS,
    DEFAULT_MEMORY_MODE,
    DEFAULT_SYSTEM_CONFIG,
    CpuOperator,
    NpuCall,
    NpuTensor,
    VelaResult,
    compile_vela,
)

__all__ = [
    "ACCELERATORS", "DEFAULT_MEMORY_MODE", "DEFAULT_SYSTEM_CONFIG", "CpuOperator", "NpuCall",
    "NpuTensor", "VelaResult", "compile_vela",
]
