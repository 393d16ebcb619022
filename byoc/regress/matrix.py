"""The regression matrix: models x targets x cores, its parsing and its shards.

Target lists: a target such as ``cmsis-nn,c`` itself contains commas, so ``--target``
values are split on commas (and ``;``/whitespace) into backend names and regrouped: a new
target starts after ``c`` (the generic path always ends a target), at an NPU target (it
always comes first) and at a backend already present in the current group. So
``c,cmsis-nn,c,ethos-u55-256,cmsis-nn,c`` is the three targets ``c``, ``cmsis-nn,c`` and
``ethos-u55-256,cmsis-nn,c``; ``--target`` may also be repeated.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import compiler
from ..errors import ByocError


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: a model file, a target, a core (and the backend)."""

    model: str          # label: the path relative to the folder it was found in
    model_path: str     # absolute path
    target: str
    cpu: str
    backend: str

    @property
    def id(self) -> str:
        """A file-name-safe unique name: ``<model>__<target>__<cpu>``."""
        model = re.sub(r"\.tflite$", "", self.model)
        parts = (model, self.target.replace(",", "+"), self.cpu)
        return "__".join(re.sub(r"[^A-Za-z0-9.+-]+", "_", p).strip("_") for p in parts)

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the case across runs (baseline comparison)."""
        return (self.model, self.target, self.cpu)

    def to_json(self) -> dict:
        return {"id": self.id, **asdict(self)}


def find_models(paths: list[str]) -> list[tuple[str, Path]]:
    """(label, path) of every model: files as given, folders searched recursively for
    ``*.tflite`` (label: the path relative to the folder, prefixed by the folder's name when
    several paths are given). Sorted by label, each file once."""
    found: dict[Path, str] = {}
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*.tflite") if f.is_file())
            if not files:
                raise ByocError(f"{given}: no .tflite model in this folder (searched recursively)")
            for f in files:
                rel = f.relative_to(p).as_posix()
                found.setdefault(f.resolve(), f"{p.name}/{rel}" if len(paths) > 1 else rel)
        elif p.is_file():
            found.setdefault(p.resolve(), p.name)
        else:
            raise ByocError(f"{given}: no such model file or folder")
    labels = sorted(found.items(), key=lambda kv: kv[1])
    names = [label for _, label in labels]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ByocError(f"two models are both called '{sorted(dupes)[0]}'; give their folder "
                        "instead of the files")
    return [(label, path) for path, label in labels]


def parse_targets(values: list[str]) -> list[str]:
    """The targets of ``--target`` values (see the module docstring), each checked by
    ``byoc.compiler.parse_target``; in order, each once."""
    groups: list[list[str]] = []
    for value in values:
        current: list[str] = []
        for name in (n for n in re.split(r"[,;\s]+", value) if n):
            if current and (current[-1] == "c" or name in compiler.NPU_TARGETS
                            or name in current):
                groups.append(current)
                current = []
            current.append(name)
        if current:
            groups.append(current)
    if not groups:
        raise ByocError("--target: no target given")
    targets: list[str] = []
    for g in groups:
        text = ",".join(g)
        try:
            compiler.parse_target(text)
        except ByocError as exc:
            raise ByocError(f"--target: '{text}': {exc}") from None
        if text not in targets:
            targets.append(text)
    return targets


def parse_cpus(values: list[str], backend: str) -> list[str]:
    """Cores of ``--cpu`` values (comma-separated, repeatable), checked for ``backend``."""
    from ..platform import RUNNABLE_CPUS
    cpus: list[str] = []
    for value in values:
        for name in (n for n in re.split(r"[,;\s]+", value) if n):
            if name not in compiler.CPUS:
                raise ByocError(f"--cpu: unknown core '{name}'; choose from "
                                f"{', '.join(compiler.CPUS)}")
            if backend == "host" and name != "host":
                raise ByocError(f"--cpu {name}: --backend host runs packages compiled for "
                                "--cpu host only (the CMSIS-NN kernel path is chosen per core)")
            if backend != "host" and name not in RUNNABLE_CPUS:
                raise ByocError(f"--cpu {name}: the Corstone-300 ({backend}) runs "
                                f"{', '.join(RUNNABLE_CPUS)}")
            if name not in cpus:
                cpus.append(name)
    return cpus or (["host"] if backend == "host" else ["cortex-m55"])


def parse_shard(text: str | None) -> tuple[int, int]:
    """``I/N`` (1 <= I <= N) -> (I, N); None -> (1, 1)."""
    if text is None:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ByocError(f"--shard '{text}': expected I/N with 1 <= I <= N, e.g. 2/4")
    return int(m.group(1)), int(m.group(2))


def build_matrix(models: list[tuple[str, Path]], targets: list[str], cpus: list[str],
                 backend: str) -> list[Case]:
    """Every model x target x cpu, in that nesting order (case ids must be unique: they
    name report files)."""
    cases = [Case(label, str(path), t, c, backend)
             for label, path in models for t in targets for c in cpus]
    seen: dict[str, Case] = {}
    for case in cases:
        other = seen.setdefault(case.id, case)
        if other is not case:
            raise ByocError(f"models '{other.model}' and '{case.model}' give the same case "
                            f"name '{case.id}'; rename one of them")
    return cases


def shard(cases: list[Case], index: int, count: int) -> list[Case]:
    """The cases of shard ``index`` of ``count`` (1-based): every count-th case of the
    matrix, starting at ``index - 1``, so that each shard gets a mix of models and the
    shards' union is the whole matrix with no case twice."""
    return [c for k, c in enumerate(cases) if k % count == index - 1]
