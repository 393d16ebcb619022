"""Running a Python BYOC codegen: partitions in, one C function per partition out.

A backend (cmsis-nn, ethos-u) partitions main with ``FuseOpsByPattern(...,
annotate_codegen=True)``; TVM's ``RunCodegen`` then hands the partition functions to the
global ``relax.ext.<name>`` and rewrites main to call each one with ``call_dps_packed``.
``ExternalCodegen`` registers that global (it only records the functions: the C is written
by the backend afterwards) and returns the partitions in the order main calls them.
"""

from __future__ import annotations

import tvm
import tvm_ffi
from tvm import relax

from ..errors import ByocError


class ExternalCodegen:
    """The ``relax.ext.<name>`` hook of one backend."""

    def __init__(self, name: str):
        self.name = name
        self._recording: dict[str, relax.Function] | None = None
        tvm_ffi.register_global_func(f"relax.ext.{name}", self._hook, override=True)

    def _hook(self, functions, options, constant_names):  # noqa: ARG002 - codegen ABI
        for func in functions:
            if self._recording is not None:
                self._recording[str(func.attrs["global_symbol"])] = func
        return []  # no runtime module: the backend emits C itself

    def run(self, mod: tvm.IRModule) -> tuple[tvm.IRModule, list[tuple[str, relax.Function]]]:
        """RunCodegen on ``mod``; returns the rewritten module and (symbol, partition
        function) for every partition, in the order main calls them."""
        previous, self._recording = self._recording, {}
        try:
            out = relax.transform.RunCodegen()(mod)
            recorded = self._recording
        finally:
            self._recording = previous
        dps = tvm.ir.Op.get("relax.call_dps_packed")
        ordered: list[tuple[str, relax.Function]] = []
        for block in out["main"].body.blocks:
            for binding in block.bindings:
                value = binding.value
                if not (isinstance(value, relax.Call) and value.op.same_as(dps)
                        and isinstance(value.args[0], relax.ExternFunc)):
                    continue
                symbol = str(value.args[0].global_symbol)
                if symbol in recorded and all(symbol != s for s, _ in ordered):
                    ordered.append((symbol, recorded[symbol]))
        missing = set(recorded) - {s for s, _ in ordered}
        if missing:
            raise ByocError(f"{self.name} codegen: partitions not called from main: "
                            f"{sorted(missing)}")
        return out, ordered
