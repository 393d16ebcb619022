"""Run cases in parallel worker processes, with a progress bar.

``run_cases(requests, jobs, case_timeout, on_done)`` keeps ``jobs`` long-lived worker
processes (``byoc.regress.worker``: TVM is imported once per worker, not once per case)
and hands each a case at a time. A worker that dies (a native crash) or exceeds
``case_timeout`` seconds on one case is killed; that case becomes an error record with the
reason and the worker is replaced, so the run goes on.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, TextIO


class WorkerLost(Exception):
    """The worker died or was killed before answering."""


class Worker:
    """One ``python -m byoc.regress.worker`` child with a line protocol."""

    #: The worker's command line; tests substitute a process that crashes on cue.
    COMMAND = (sys.executable, "-m", "byoc.regress.worker")

    def __init__(self, log: Path, command: tuple[str, ...] = COMMAND):
        self.log_path = log
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(list(command),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, env=os.environ.copy(),
                                     start_new_session=True)
        self._buffer = b""

    def ask(self, request: dict, timeout_s: float) -> dict:
        """Send one request and wait for its record (``WorkerLost`` on death/timeout)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerLost(self._death()) from None
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerLost(f"timed out after {timeout_s:.0f} s (whole case: compile, "
                                 "build, run, localisation); raise --case-timeout")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise WorkerLost(self._death())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _death(self) -> str:
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.returncode
        what = (f"signal {-rc} ({signal.Signals(-rc).name})" if rc is not None and rc < 0
                else f"exit code {rc}")
        tail = ""
        try:
            tail = " ".join(self.log_path.read_text(errors="replace").split()[-40:])
        except OSError:
            pass
        return f"the worker process crashed ({what})" + (f"; last output: {tail[-300:]}"
                                                         if tail else "")

    def kill(self) -> None:
        """Kill the worker and everything it started (its own process group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._log.close()


class ProgressBar:
    """One updating line on a terminal, one line per finished case otherwise."""

    def __init__(self, total: int, stream: TextIO | None, tty: bool | None = None):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream
        self.tty = stream.isatty() if (stream is not None and tty is None) else bool(tty)
        self.start = time.monotonic()

    def update(self, record: dict) -> None:
        self.done += 1
        bad = record["status"] != "pass" or record.get("regressions")
        self.failed += bool(bad)
        if self.stream is None:
            return
        verdict = "REGRESSION" if record["status"] == "pass" and bad else record["status"].upper()
        elapsed = time.monotonic() - self.start
        if self.tty:
            width = 30
            filled = int(width * self.done / max(1, self.total))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/"
                              f"{self.total}  {self.failed} failing  {elapsed:5.0f} s  "
                              f"{verdict} {record['id'][:40]:<40}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done:>{len(str(self.total))}}/{self.total}] "
                              f"{verdict:<5} {record['id']}  {record.get('seconds', 0):.1f} s\n")
        self.stream.flush()


def run_cases(requests: list[dict], jobs: int, case_timeout: float, log_dir: Path,
              on_done: Callable[[dict, dict], None]) -> None:
    """Run every request on ``jobs`` workers; ``on_done(request, record)`` is called in
    the calling thread for each as it finishes (in completion order)."""
    todo: queue.Queue = queue.Queue()
    for r in requests:
        todo.put(r)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    live: set[Worker] = set()          # to kill them all on an interrupt
    lock = threading.Lock()

    def slot(n: int) -> None:
        worker = None
        try:
            while not stop.is_set():
                try:
                    request = todo.get_nowait()
                except queue.Empty:
                    return
                if worker is None:
                    worker = Worker(log_dir / f"worker{n}.log")
                    with lock:
                        live.add(worker)
                try:
                    record = worker.ask(request, case_timeout)
                except WorkerLost as lost:
                    worker.kill()
                    worker.close()
                    with lock:
                        live.discard(worker)
                    worker = None
                    record = {**request["case"], "status": "error", "error_kind":
                              "timeout" if "timed out" in str(lost) else "worker crash",
                              "message": str(lost), "divergence": None, "seconds": None}
                done.put((request, record))
        finally:
            if worker is not None:
                if stop.is_set():
                    worker.kill()
                worker.close()

    threads = [threading.Thread(target=slot, args=(n,), daemon=True)
               for n in range(max(1, min(jobs, len(requests))))]
    for t in threads:
        t.start()
    try:
        for _ in requests:
            request, record = done.get()
            on_done(request, record)
    except BaseException:
        stop.set()
        with lock:
            for w in list(live):
                w.kill()
        raise
    finally:
        for t in threads:
            t.join(timeout=60)
