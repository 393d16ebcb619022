"""Properties of the static arena planner (no overlap, alignment, bounds)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from byoc.memory_plan import ALIGNMENT, Buffer, align, lower_bound, plan_arena


def check_plan(buffers: list[Buffer], size: int) -> None:
    for b in buffers:
        assert b.offset % ALIGNMENT == 0
        assert b.offset + b.size <= size
    for a, b in itertools.combinations(buffers, 2):
        if a.size and b.size and a.overlaps_in_time(b):
            assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)


@pytest.mark.parametrize("seed", range(20))
def test_random_plans_are_valid_and_bounded(seed):
    rng = np.random.default_rng(seed)
    bufs = []
    for i in range(int(rng.integers(1, 30))):
        first = int(rng.integers(0, 20))
        bufs.append(Buffer(f"b{i}", int(rng.integers(0, 5000)), first,
                           first + int(rng.integers(0, 6))))
    plan = plan_arena(bufs)
    check_plan(plan.buffers, plan.size)
    assert plan.lower_bound == lower_bound(bufs)
    assert plan.lower_bound <= plan.size <= sum(align(b.size) for b in bufs)


def test_chain_reuses_memory():
    # a -> b -> c -> d: only two tensors are alive at a time, so the plan needs two slots.
    bufs = [Buffer(n, 1000, i, i + 1) for i, n in enumerate("abcd")]
    plan = plan_arena(bufs)
    assert plan.size == plan.lower_bound == 2 * align(1000)


def test_lower_bound_is_peak_of_live_bytes():
    bufs = [Buffer("x", 100, 0, 2), Buffer("y", 200, 1, 1), Buffer("z", 50, 2, 3)]
    # step 1: x + y alive = 112 + 208
    assert lower_bound(bufs) == align(100) + align(200)


def test_scratch_lives_only_during_its_call():
    bufs = [Buffer("t0", 64, 0, 1), Buffer("scratch1", 4096, 1, 1, kind="scratch"),
            Buffer("t2", 4096, 2, 3)]
    plan = plan_arena(bufs)
    check_plan(plan.buffers, plan.size)
    # t2 can reuse the scratch bytes of call 1
    assert plan.size == 64 + 4096


def test_elementwise_add_runs_in_place_and_stays_exact(tmp_path):
    """x -> conv -> y; add(y, z) where y dies at the add: the add writes over y's bytes."""
    import byoc
    from byoc.tflite.builder import LayerBuilder

    lb = LayerBuilder(seed=9)
    x = lb.input((1, 8, 8, 4))
    y = lb.conv2d(x, 8, 3, activation="RELU")
    z = lb.conv2d(x, 8, 1)
    s = lb.add(y, z, activation="RELU")
    lb.output(lb.max_pool2d(s, 2, 2))
    path = tmp_path / "res.tflite"
    path.write_bytes(lb.build())
    res = byoc.validate(path, backend="host", inputs=3, work_dir=tmp_path / "w", sanitize=True)
    assert res.status == "pass", res
    import json
    meta = json.loads((tmp_path / "w" / "package" / "metadata.json").read_text())
    assert meta["memory"]["in_place"], meta["memory"]
    # conv outputs (256 B each) + the add's output sharing one of them + the pool output
    assert res.arena_bytes == res.arena_lower_bound_bytes


def test_scratch_hosting_tensors_shares_its_free_bytes():
    """Two NPU scratch areas whose IO tensors live inside them (pieces): the bytes of a
    scratch area that hold no live tensor outside its call are free for the other one."""
    s0 = Buffer("scratch0", 4096, 0, 1, kind="scratch",
                pieces=[(0, 4096, 0, 0), (0, 2048, 0, 1)])           # output t0 at 0
    s2 = Buffer("scratch2", 4096, 1, 2, kind="scratch",
                pieces=[(0, 4096, 2, 2), (2048, 4096, 1, 2)])        # input t1 at 2048
    plan = plan_arena([s0, s2])
    assert plan.size == plan.lower_bound == 4096
    # the live pieces never collide
    for (a, ao), (b, bo) in itertools.combinations([(s0, s0.offset), (s2, s2.offset)], 2):
        for as_, ae, af, al in a.occupancy():
            for bs, be, bf, bl in b.occupancy():
                if af <= bl and bf <= al:
                    assert ao + ae <= bo + bs or bo + be <= ao + as_
    # a plain tensor alive at step 1 cannot go into the hosted bytes
    t = Buffer("t", 2048, 1, 1)
    plan = plan_arena([s0, s2, t])
    assert plan.size == plan.lower_bound == 6144
