"""The backend interface: what each part of ``--target`` does for ``byoc.compile``.

A target such as ``ethos-u55-256,cmsis-nn,c`` is a list of backends, asked in that order
(``byoc.compiler.backends_for``): the NPU first, then CMSIS-NN, then the generic C path,
which takes what is left. Every backend implements :class:`Backend`:

1. ``partition(mod, ctx)``: claim the operators it computes. A kernel-library or NPU
   backend groups them into partition functions and runs its codegen right away, so that
   ``main`` calls them as ``call_dps_packed(<symbol>, ...)`` before the next backend looks
   at the rest; the generic backend legalizes what is left into integer ``call_tir``
   kernels (``byoc.qnn``). Every call keeps the TFLite operator indices it computes
   (``byoc.spans``).
2. ``codegen(mod, ctx)``: the C function of every callee it owns, as :class:`BackendCall`
   (the generic backend lowers its kernels to TIR and C here).
3. ``package_parts(ctx)``: what the output package needs for its calls (headers, C text,
   CMake lines, library sources) as :class:`PackageParts`.
4. ``placement_rows(parts)``: ``byoc.placement.BackendRows``, exact by operator index.
5. ``summary``, ``metadata``, ``libraries_json``, ``generic_call_reasons``: its entries in
   ``metadata.json`` (``partitions``, its own fields, ``libraries``, the reasons of the
   generic calls).

The implementations: ``byoc.ethosu.backend.EthosUBackend``,
``byoc.cmsisnn.backend.CmsisNNBackend``, ``byoc.generic.GenericBackend``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    import tvm

    from .codegen.tir_to_c import CFunction
    from .libraries import Libraries
    from .placement import BackendRows


@dataclass
class CompileContext:
    """What every backend of one compilation is given.

    ``targets``: the parsed ``--target`` list; ``prefix``: the C prefix of every generated
    name; ``vela``: Vela options (``system_config``, ``memory_mode``, ``optimise``,
    ``config`` = path of a vela.ini); ``libraries``: Arm's library trees the package
    builds instead of byoc's (``byoc.libraries``); ``legalize``: whether the generic
    backend legalizes quantized chains (False for an already legalized Relax input).
    ``qnn_report``: the generic backend's legalization report (list of (PrimFunc name or
    "skipped", byoc.qnn dataclass or reason)), read by the float check and the placement
    of the other backends."""

    targets: list[str]
    cpu: str
    prefix: str = "model"
    vela: dict | None = None
    libraries: "Libraries | None" = None
    legalize: bool = True
    qnn_report: list = field(default_factory=list)


@dataclass
class BackendCall:
    """The C function of one callee a backend owns (a ``call_dps_packed`` symbol or a
    ``call_tir`` PrimFunc name): its label in reports and profiles, and the reason
    ``metadata.json`` gives for its calls (None: none is given)."""

    function: "CFunction"
    label: str
    reason: str | None = None


@dataclass
class PackageParts:
    """What a backend adds to the output package (``byoc.package.PackageSources`` fields):
    headers included by the generated sources, CMake lines after the model target, C text
    atop ``<prefix>_ops.c``, declarations in ``<prefix>.h`` and files (library sources)
    as {relative path: text}."""

    extra_includes: list[str] = field(default_factory=list)
    extra_cmake: str = ""
    ops_preamble: str = ""
    header_extra: str = ""
    extra_files: dict[str, str] = field(default_factory=dict)

    def __add__(self, other: "PackageParts") -> "PackageParts":
        return PackageParts(self.extra_includes + other.extra_includes,
                            self.extra_cmake + other.extra_cmake,
                            self.ops_preamble + other.ops_preamble,
                            self.header_extra + other.header_extra,
                            {**self.extra_files, **other.extra_files})

    def as_kwargs(self) -> dict:
        """Keyword arguments of ``byoc.package.PackageSources``."""
        return {"extra_includes": list(self.extra_includes), "extra_cmake": self.extra_cmake,
                "ops_preamble": self.ops_preamble, "header_extra": self.header_extra,
                "extra_files": dict(self.extra_files)}


class Backend(Protocol):
    """One part of ``--target`` (see the module docstring for the order of the steps)."""

    #: the ``backend`` of its calls and operators in metadata.json and ``byoc info``
    name: str

    def partition(self, mod: "tvm.IRModule", ctx: CompileContext) -> "tvm.IRModule":
        """``mod`` with the operators this backend computes taken (see the module docstring)."""

    def codegen(self, mod: "tvm.IRModule", ctx: CompileContext
                ) -> "tuple[tvm.IRModule, dict[str, BackendCall]]":
        """The module the AOT assembles (lowered, for the generic backend) and the C function
        of every callee this backend owns, by callee name."""

    def package_parts(self, ctx: CompileContext) -> PackageParts:
        """What the package needs for this backend's calls (empty parts without calls)."""

    def placement_rows(self, mod: "tvm.IRModule", ctx: CompileContext
                       ) -> "BackendRows | None":
        """This backend's placement rows for the final module (None: it adds none)."""

    def summary(self, calls: list[dict]) -> dict | None:
        """Its entry in metadata ``partitions`` given every call's metadata (None: none)."""

    def metadata(self) -> dict:
        """Its own metadata.json fields (e.g. ``npu_regions``)."""

    def libraries_json(self) -> dict:
        """Keyword arguments of ``Libraries.to_json`` naming the libraries its calls link."""

    def generic_call_reasons(self, mod: "tvm.IRModule", ctx: CompileContext
                             ) -> "Callable[[str], str] | None":
        """Why a generic ``call_tir`` callee (a PrimFunc name of the lowered module) was not
        taken by this backend: a kernel library gives a reason for every generic call
        (None: this backend gives none). ``mod``: the partitioned, legalized module."""


class BackendDefaults:
    """The answers of a backend that adds nothing to a step: no package parts, no placement
    rows of its own, one ``partitions`` entry counting its calls, no metadata fields, no
    libraries, no reasons for the generic calls."""

    name = "none"

    def package_parts(self, ctx: CompileContext) -> PackageParts:
        return PackageParts()

    def placement_rows(self, mod, ctx: CompileContext):
        return None

    def summary(self, calls: list[dict]) -> dict | None:
        return {"backend": self.name, "calls": sum(c["backend"] == self.name for c in calls)}

    def metadata(self) -> dict:
        return {}

    def libraries_json(self) -> dict:
        return {}

    def generic_call_reasons(self, mod, ctx: CompileContext):
        return None


class ExternalBackend(BackendDefaults):
    """A backend whose partitions are external functions (``call_dps_packed``): its codegen
    ran in ``partition``, which fills ``self.calls`` (symbol -> its C function)."""

    def __init__(self) -> None:
        self.calls: dict[str, BackendCall] = {}

    def codegen(self, mod, ctx: CompileContext):
        return mod, dict(self.calls)
