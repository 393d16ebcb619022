"""Static arena planning for the AOT entry point.

Every intermediate tensor and every kernel scratch area is a ``Buffer`` with a size in
bytes and a lifetime ``[first, last]`` in operator-call steps (both inclusive: a buffer
written by call 3 and last read by call 5 lives over steps 3..5; a kernel's scratch area
lives only over its own step). Two buffers may share bytes only when their lifetimes do
not overlap.

``plan_arena`` places buffers greedily, each at the lowest 16-byte-aligned offset that does
not collide with an already placed buffer alive at the same time. No single order is best
for every graph ("largest first", TFLM's heuristic, can strand a later tensor above a big
one), so it tries a few orders (largest first, earliest first, longest-lived first, largest
size x lifetime first) and keeps the smallest plan. ``lower_bound`` is the peak, over
steps, of the aligned bytes alive at that step: no plan can be smaller, so
``arena_bytes / lower_bound`` measures how much the heuristic wastes.

A buffer may be in use only partly over its lifetime (``Buffer.pieces``: an NPU region's
scratch area is used whole during its call but, before and after it, only where the region's
IO tensors live inside it): placement then keeps every pair of pieces alive at the same step
apart, and the lower bound counts the union of a buffer's live pieces at each step.
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
    # Bytes in use over time when not the whole buffer all along (a scratch area hosting
    # tensors, see ArenaPlan.members): (start, end, first, last) relative to the buffer,
    # end exclusive; None = (0, align(size), first, last).
    pieces: list[tuple[int, int, int, int]] | None = None

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    def occupancy(self) -> list[tuple[int, int, int, int]]:
        return self.pieces if self.pieces is not None else \
            [(0, align(self.size), self.first, self.last)]

    def live_bytes(self, step: int) -> int:
        """Bytes of the buffer in use at ``step`` (the union of its live pieces)."""
        spans = sorted((s, e) for s, e, f, l in self.occupancy() if f <= step <= l)
        total, reach = 0, 0
        for s, e in spans:
            s = max(s, reach)
            if e > s:
                total += e - s
                reach = e
        return total


@dataclass
class ArenaPlan:
    buffers: list[Buffer] = field(default_factory=list)
    size: int = 0             # bytes, a multiple of ALIGNMENT
    lower_bound: int = 0      # bytes: peak of simultaneously live (aligned) buffers
    # Tensors computed in place: {tensor name: name of the buffer whose bytes it reuses}.
    aliases: dict[str, str] = field(default_factory=dict)
    # Tensors placed inside another buffer (an NPU region's IO inside its scratch area):
    # {tensor name: (host buffer name, byte offset inside it)}; the host's lifetime covers
    # theirs.
    members: dict[str, tuple[str, int]] = field(default_factory=dict)

    def offset_of(self, name: str) -> int:
        if name in self.members:
            host, delta = self.members[name]
            return self.offset_of(host) + delta
        name = self.aliases.get(name, name)
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
            "in_place": dict(sorted(self.aliases.items())),
            "in_scratch": {n: {"buffer": h, "offset": d}
                           for n, (h, d) in sorted(self.members.items())},
        }


def lower_bound(buffers: list[Buffer]) -> int:
    """Peak over steps of the aligned bytes alive at that step."""
    if not buffers:
        return 0
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(b.live_bytes(s) if b.pieces is not None else align(b.size)
                   for b in buffers if b.first <= s <= b.last) for s in steps)


def _place(order: list[Buffer]) -> dict[str, int]:
    """First-fit placement in the given order; returns {buffer name: offset}."""
    placed: list[tuple[Buffer, int]] = []
    offsets: dict[str, int] = {}
    for buf in order:
        if buf.size == 0:
            offsets[buf.name] = 0
            continue
        if buf.pieces is None and all(p.pieces is None for p, _ in placed):
            conflicts = sorted(((p, o) for p, o in placed if p.overlaps_in_time(buf)),
                               key=lambda po: po[1])
            offset = 0
            for p, o in conflicts:
                if offset + align(buf.size) <= o:
                    break  # fits in the gap before p
                offset = max(offset, o + align(p.size))
        else:
            offset = _lowest_free_offset(buf, placed)
        offsets[buf.name] = offset
        placed.append((buf, offset))
    return offsets


def _lowest_free_offset(buf: Buffer, placed: list[tuple[Buffer, int]]) -> int:
    """Lowest offset of ``buf`` at which none of its pieces meets a placed piece alive at
    the same time (both sides may have pieces)."""
    # offset x is forbidden when o + ps - be < x < o + pe - bs for a pair of pieces
    forbidden = []
    for p, o in placed:
        if not p.overlaps_in_time(buf) or not p.size:
            continue
        for bs, be, bf, bl in buf.occupancy():
            for ps, pe, pf, pl in p.occupancy():
                if bf <= pl and pf <= bl:
                    forbidden.append((o + ps - be, o + pe - bs))
    forbidden.sort()
    offset, moved = 0, True
    while moved:
        moved = False
        for lo, hi in forbidden:
            if lo < offset < hi:
                offset, moved = hi, True
    return offset


_ORDERS = (
    lambda b: (-align(b.size), b.first, b.name),                      # largest first
    lambda b: (b.first, -align(b.size), b.name),                      # earliest first
    lambda b: (-(b.last - b.first), -align(b.size), b.name),          # longest-lived first
    lambda b: (-align(b.size) * (b.last - b.first + 1), b.first, b.name),  # largest area first
)


def plan_arena(buffers: list[Buffer]) -> ArenaPlan:
    """Assign an aligned offset to every buffer; returns the smallest plan found."""
    if len({b.name for b in buffers}) != len(buffers):
        raise ValueError("buffer names must be unique")
    best: dict[str, int] | None = None
    best_size = 0
    for key in _ORDERS:
        offsets = _place(sorted(buffers, key=key))
        size = max((offsets[b.name] + align(b.size) for b in buffers if b.size), default=0)
        if best is None or size < best_size:
            best, best_size = offsets, size
    for b in buffers:
        b.offset = best[b.name] if best is not None else 0
    return ArenaPlan(list(buffers), best_size, lower_bound(buffers))
