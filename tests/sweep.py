"""Bounded and full parameter sweeps: the default run generates only the cases it runs.

``BYOC_FULL_SWEEP=1`` generates every case of a sweep; without it only a fixed, bounded subset
is generated (never generated and then skipped), so a skip in the test summary is a real one
(a missing Arm checkout, running as root...).

* ``sweep(cases, bounded=N)``: the first ``N`` cases by default (the bounded form: the same
  cases every run, chosen by the sweep's author to be representative, e.g. seeds ``0..N-1``
  or two cases of each family); all of them with ``BYOC_FULL_SWEEP=1``, where the cases
  beyond the first ``N`` carry the ``slow`` marker.
* ``@full_sweep_only``: a test that exists only in the full form (an exhaustive sweep with
  no bounded subset); pytest does not collect it by default. It carries the ``slow`` marker.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, TypeVar

import pytest

FULL_SWEEP: bool = os.environ.get("BYOC_FULL_SWEEP") == "1"

_Test = TypeVar("_Test", bound=Callable[..., Any])


def _with_slow_mark(case: Any) -> Any:
    """``case`` (a plain value or a ``pytest.param``) with the ``slow`` marker added."""
    if isinstance(case, type(pytest.param(None))):
        return pytest.param(*case.values, marks=[*case.marks, pytest.mark.slow], id=case.id)
    return pytest.param(case, marks=pytest.mark.slow)


def sweep(cases: Iterable[Any], bounded: int) -> list[Any]:
    """The cases of a ``pytest.mark.parametrize`` sweep for this run.

    ``bounded`` (> 0) is how many of the leading cases the default run generates; with
    ``BYOC_FULL_SWEEP=1`` all cases are generated and those after the first ``bounded`` are
    marked ``slow``. A sweep with no bounded form is ``@full_sweep_only`` instead (an empty
    parameter list would make pytest report a skip).
    """
    cases = list(cases)
    if not 0 < bounded <= len(cases):
        raise ValueError(f"bounded={bounded} must be in 1..{len(cases)} (the number of cases); "
                         "use @full_sweep_only for a test without a bounded form")
    if not FULL_SWEEP:
        return cases[:bounded]
    return cases[:bounded] + [_with_slow_mark(c) for c in cases[bounded:]]


def full_sweep_only(test: _Test) -> _Test:
    """Collect ``test`` only with ``BYOC_FULL_SWEEP=1`` (pytest ignores a function whose
    ``__test__`` is false), and mark it ``slow``."""
    if not FULL_SWEEP:
        test.__test__ = False  # type: ignore[attr-defined]
    return pytest.mark.slow(test)
