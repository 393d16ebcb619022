"""Test-only fault injection into generated C (``BYOC_TEST_FAULT``).

Regression tooling must prove that it names the operator a wrong kernel breaks. With the
environment variable ``BYOC_TEST_FAULT=<pattern>[@<k>]`` set while a package is
generated, the run function flips bits 0 and 6 of every byte of the outputs of each operator call
whose C function name or label contains ``<pattern>`` (case-insensitive), e.g.
``cmsis_depthwise`` (every CMSIS-NN depthwise call: a broken kernel), ``qadd`` (generic
ADD), ``CONV_2D``. ``@<k>`` limits it to the k-th matching call (0-based). Unset (the
normal case), the generated code is unchanged. The package's ``metadata.json`` records
the fault under ``test_fault`` so that a perturbed package is never mistaken for a real one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import ByocError

ENV = "BYOC_TEST_FAULT"


@dataclass
class Fault:
    """A parsed ``BYOC_TEST_FAULT`` value; ``perturbed`` collects the calls it hit."""

    pattern: str
    occurrence: int | None = None
    _seen: int = 0
    perturbed: list[str] = field(default_factory=list)

    def lines_after(self, label: str, function: str, outputs: list[tuple[str, int]]) -> list[str]:
        """C lines to put after a call: flip bits 0 and 6 of each byte of ``outputs`` (pointer
        expression, bytes) when the call matches."""
        needle = self.pattern.lower()
        if needle not in label.lower() and needle not in function.lower():
            return []
        k, self._seen = self._seen, self._seen + 1
        if self.occurrence is not None and k != self.occurrence:
            return []
        self.perturbed.append(function)
        lines = [f"  /* {ENV}={self.pattern}: test-only perturbation of {function}'s output */"]
        for ptr, nbytes in outputs:
            lines += [f"  for (uint32_t byoc_f = 0u; byoc_f < {nbytes}u; ++byoc_f) {{",
                      f"    ((uint8_t*)(void*){ptr})[byoc_f] ^= 0x41u;",
                      "  }"]
        return lines


def from_environment() -> Fault | None:
    """The fault ``BYOC_TEST_FAULT`` asks for, or None when it is unset or empty."""
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return None
    pattern, sep, nth = spec.partition("@")
    if not pattern or (sep and not nth.isdigit()):
        raise ByocError(f"{ENV}='{spec}' is not PATTERN or PATTERN@K (K a call number >= 0)")
    return Fault(pattern, int(nth) if sep else None)
