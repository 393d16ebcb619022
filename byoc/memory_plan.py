"""Static arena planning for the AOT entry point.

Every intermediate tensor and every kernel scratch area is a ``Buffer`` with a size in
bytes and a lifetime ``[first, last]`` in operator-call steps (both inclusive: a buffer
written by call 3 and last read by call 5 lives over steps 3..5; a kernel's scratch area
lives only over its own step). Two buffers may share bytes only when their lifetimes do
not overlap.

``plan_arena`` places buffers greedily, largest first, each at the lowest 16-byte-aligned
offset that does not collide with an already placed buffer alive at the same time (the
"greedy by size" heuristic TFLM's planner also uses). ``lower_bound`` is the peak, over
steps, of the aligned bytes alive at that step: no plan can be smaller, so
``arena_bytes / lower_bound`` measures how much the heuristic wastes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALIGNMENT = 16


def align(n: int, a: int = ALIGNMENT) -> int:
    return (n + a - 1) // a * a


@dataclass
class Buffer:
    """A region to place: ``size`` in bytes, alive over steps ``first..last`` inclusive."""

    name: str
    size: int
    first: int
    last: int
    kind: str = "tensor"      # "tensor" or "scratch"
    offset: int = -1          # set by plan_arena (bytes from the arena start)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class ArenaPlan:
    buffers: list[Buffer] = field(default_factory=list)
    size: int = 0             # bytes, a multiple of ALIGNMENT
    lower_bound: int = 0      # bytes: peak of simultaneously live (aligned) buffers

    def offset_of(self, name: str) -> int:
        for b in self.buffers:
            if b.name == name:
                return b.offset
        raise KeyError(name)

    def to_json(self) -> dict:
        return {
            "arena_bytes": self.size,
            "arena_lower_bound_bytes": self.lower_bound,
            "buffers": [
                {"name": b.name, "kind": b.kind, "offset": b.offset, "size": b.size,
                 "first_step": b.first, "last_step": b.last}
                for b in sorted(self.buffers, key=lambda b: (b.offset, b.first))
            ],
        }


def lower_bound(buffers: list[Buffer]) -> int:
    """Peak over steps of the aligned bytes alive at that step."""
    if not buffers:
        return 0
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(align(b.size) for b in buffers if b.first <= s <= b.last) for s in steps)


def plan_arena(buffers: list[Buffer]) -> ArenaPlan:
    """Assign an aligned offset to every buffer; returns the plan with its total size."""
    placed: list[Buffer] = []
    order = sorted(buffers, key=lambda b: (-align(b.size), b.first, b.name))
    for buf in order:
        if buf.size == 0:
            buf.offset = 0
            continue
        conflicts = sorted((p for p in placed if p.overlaps_in_time(buf)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + align(buf.size) <= p.offset:
                break  # fits in the gap before p
            offset = max(offset, p.offset + align(p.size))
        buf.offset = offset
        placed.append(buf)
    size = max((b.offset + align(b.size) for b in placed), default=0)
    return ArenaPlan(list(buffers), size, lower_bound(buffers))
