"""A picture of the static arena plan: ``byoc compile --plot-memory`` writes ``memory.png``.

Every intermediate tensor and kernel scratch buffer of the plan (``metadata.json`` ->
``memory.buffers``: offset, size, first_step, last_step) is drawn as a box: x spans the
operator calls during which it is alive, y its bytes in the arena. Horizontal lines mark
the arena size and the planner's lower bound (the peak of simultaneously live bytes), so
the gap between them is the waste of the placement; a step whose column is much lower than
the arena is a step that does not need the whole arena.

matplotlib is imported only here, and only when a plot is asked for
(``pip install 'byoc[bench]'`` or ``make bench`` installs it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ByocError

#: Name of the picture written into the package directory.
MEMORY_PNG = "memory.png"


def require_matplotlib() -> None:
    """Raise a one-line ByocError naming the fix when matplotlib is missing."""
    _pyplot()


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ByocError("--plot-memory needs matplotlib: pip install 'byoc[bench]' "
                        "(or run `make bench` once)") from None
    matplotlib.use("Agg", force=True)  # files only, no display
    import matplotlib.pyplot as plt
    return plt


def _step_labels(metadata: dict, steps: int) -> list[str]:
    labels = [str(s) for s in range(steps)]
    for call in metadata.get("calls", []):
        i = call.get("index")
        if isinstance(i, int) and 0 <= i < steps:
            labels[i] = f"{i} {call.get('label') or call.get('function', '')}"
    return labels


def plot_memory(metadata: "dict | str | os.PathLike", path: "str | os.PathLike | None" = None,
                title: str | None = None) -> Path:
    """Draw the arena plan of a compiled package and write it as a PNG.

    ``metadata`` is the package's metadata dict, its ``metadata.json`` or the package
    directory; ``path`` defaults to ``memory.png`` in the package directory (required when
    a dict is given). Returns the path written."""
    package_dir = None
    if not isinstance(metadata, dict):
        src = Path(metadata)
        if src.is_dir():
            package_dir, src = src, src / "metadata.json"
        else:
            package_dir = src.parent
        try:
            metadata = json.loads(src.read_text())
        except (OSError, ValueError) as exc:
            raise ByocError(f"{src}: cannot read the package metadata: {exc}") from None
    if path is None:
        if package_dir is None:
            raise ByocError("plot_memory: give the output path when passing a metadata dict")
        path = package_dir / MEMORY_PNG
    path = Path(path)
    memory = metadata["memory"]
    buffers = memory.get("buffers", [])
    arena = int(memory["arena_bytes"])
    bound = int(memory["arena_lower_bound_bytes"])
    steps = max([len(metadata.get("calls", []))]
                + [int(b["last_step"]) + 1 for b in buffers] + [1])

    plt = _pyplot()
    height = 4.5 + 0.04 * min(steps, 100)
    fig, ax = plt.subplots(figsize=(max(8.0, min(0.35 * steps + 4, 24.0)), height))
    unit, scale = ("KiB", 1024.0) if arena >= 4096 else ("bytes", 1.0)
    colors = {"tensor": "#4c72b0", "scratch": "#dd8452"}
    for b in buffers:
        if int(b["size"]) == 0:
            continue
        x0, x1 = int(b["first_step"]) - 0.45, int(b["last_step"]) + 0.45
        y0, h = int(b["offset"]) / scale, int(b["size"]) / scale
        kind = b.get("kind", "tensor")
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, h, facecolor=colors.get(kind, "#8c8c8c"),
                                   edgecolor="black", linewidth=0.6, alpha=0.85))
        # name the box when there is room for the text
        if h >= 0.05 * arena / scale and (x1 - x0) >= 0.9:
            ax.text((x0 + x1) / 2, y0 + h / 2, f"{b['name']}\n{int(b['size']):,} B",
                    ha="center", va="center", fontsize=6, color="white", clip_on=True)
    ax.axhline(arena / scale, color="black", linewidth=1.2,
               label=f"arena {arena:,} bytes")
    ax.axhline(bound / scale, color="#c44e52", linewidth=1.2, linestyle="--",
               label=f"lower bound {bound:,} bytes (peak live)")
    ax.add_patch(plt.Rectangle((0, 0), 0, 0, facecolor=colors["tensor"], label="tensor"))
    if any(b.get("kind") == "scratch" for b in buffers):
        ax.add_patch(plt.Rectangle((0, 0), 0, 0, facecolor=colors["scratch"],
                                   label="kernel scratch"))
    ax.set_xlim(-0.6, steps - 0.4)
    ax.set_ylim(0, max(arena, bound, 1) / scale * 1.08)
    ax.set_xticks(range(steps))
    ax.set_xticklabels(_step_labels(metadata, steps), rotation=90, fontsize=6)
    ax.set_xlabel("operator call (step)")
    ax.set_ylabel(f"arena offset ({unit})")
    prefix = metadata.get("prefix", "model")
    source = metadata.get("model", {}).get("source", "")
    waste = f", {100.0 * (arena - bound) / bound:.1f}% above the bound" if bound else ""
    ax.set_title(title or f"{prefix} arena plan ({source}, target {metadata.get('target', '?')})"
                 f": {arena:,} bytes{waste}", fontsize=9)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
