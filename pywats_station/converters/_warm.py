"""A warm sandbox worker: one child process per user converter, reused across inputs.

Starting a Python process and importing the converter costs far more CPU than converting a
small file (about 0.18 s per child against a few milliseconds of work), so a user converter's
inputs go to one long-lived child (``python -m pywats_station.converters._child --serve``)
that validates and converts each input in one trip. The isolation of
:func:`~pywats_station.converters.sandbox.convert_in_child` stays:

* the child sets its address-space limit (``RLIMIT_AS``) before it imports the converter, and
  a CPU-time limit per input (its soft ``RLIMIT_CPU`` moved to the time used so far plus the
  input's allowance);
* each input has a wall-clock timeout enforced here: the child's whole process group is killed;
* a reduced environment, and ``print()`` (even a write to file descriptor 1) goes to the log,
  never into the reply channel.

The worker is replaced (a fresh child for the next input) after it crashed, timed out, was
killed, ran out of memory, wrote a reply that could not be read, after ``max_files`` inputs,
and when a source file of the converter changed (an edited ``.py``). After ``idle_exit``
seconds without an input the child ends on its own, giving its memory back (a request that
crosses that exit is sent again to a fresh child). It ends when
:meth:`WarmWorker.close` is called (the converter stops) and on its own when the station
process dies, even by SIGKILL: a thread in the child reads the request pipe, and its end of
file (the station's end closes with the station) ends the child's process group at once.

Messages are length-prefixed JSON frames (:func:`write_frame`) on the child's stdin and on a
file descriptor of its own for replies (its fd 1 is pointed at stderr).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

import msgspec

from pywats_station.converters.api import Failed, Validation
from pywats_station.converters.builtin._budget import OutputLimits, human_size
from pywats_station.converters.sandbox import (
    ChildReply,
    ContextData,
    _child_env,
    _forward,
    _last_stderr_line,
    _signal_reason,
)

__all__ = [
    "DEFAULT_IDLE_EXIT",
    "DEFAULT_MAX_FILES",
    "IDLE_EXIT",
    "WarmWorker",
    "WorkerReply",
    "WorkerRequest",
    "WorkerStart",
    "read_frame",
    "write_frame",
]

DEFAULT_MAX_FILES = 500
DEFAULT_IDLE_EXIT = 600.0
IDLE_EXIT = 75  # the child's exit code when it ended idle (EX_TEMPFAIL): nothing was served
_HEADER = 4  # bytes of a frame's length, big-endian
_STDERR_TAIL = 64 * 1024
_REPLY_ENVELOPE = 1 << 20
_START_TIMEOUT = 30.0  # seconds to start and import the converter (as describe_in_child)
_EXIT_WAIT = 2.0  # seconds a closed worker has to exit before its group is killed


class WorkerStart(msgspec.Struct, kw_only=True):
    """The first frame: which converter to load, with which memory limit."""

    kind: str
    base_dir: str | None
    memory_mb: int
    idle_exit: float = 0.0  # seconds without an input before the child ends; 0: never


class WorkerRequest(msgspec.Struct, kw_only=True):
    """One input: ``run`` validates and, at or above ``reject_below``, converts."""

    action: str  # "run" | "validate" | "convert"
    target: str | None
    context: ContextData
    cpu_seconds: int
    limits: OutputLimits = msgspec.field(default_factory=OutputLimits)
    reject_below: float = 0.0


class WorkerReply(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The child's answer to a start (``ready`` or ``failed``) or a request (``reply``).

    ``sources`` (start only): the converter's own source files with their ``st_mtime_ns`` as
    the child loaded them. ``retire``: the child asks to be replaced (it ran out of memory:
    its heap may stay large or damaged).
    """

    reply: ChildReply | None = None
    failed: str | None = None
    sources: list[tuple[str, int]] = msgspec.field(default_factory=list)
    retire: bool = False


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """Write one frame (length, then payload) and flush."""
    stream.write(len(payload).to_bytes(_HEADER, "big") + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """Read one frame; ``None`` at the end of the stream (or of a cut-off frame)."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None


class _Idle(Exception):
    """The child had ended idle before it read the request: send it to a fresh one."""


class _Ended(Exception):
    """The worker is gone or must go; ``reason`` says why, for the input it was serving."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WarmWorker:
    """The warm child of one user converter (see the module's docstring).

    Blocking and thread-safe (calls are serialised): the converter actor calls :meth:`run`
    through ``trio.to_thread.run_sync``, one input at a time.

    Args:
        kind: the converter kind (``module:Class`` or a ``.py`` path, see the registry).
        base_dir: the folder relative ``.py`` paths are resolved against; the child's working
            directory.
        memory_mb: the child's address-space limit.
        max_files: inputs one child serves before it is replaced (its memory goes back to the
            system, and a slow leak of the converter's stays bounded).
        idle_exit: seconds without an input after which the child ends on its own (its memory
            goes back; the next input starts a fresh one); 0: never.
        log: where the converter's log lines and prints go.
    """

    def __init__(
        self,
        kind: str,
        base_dir: Path | None,
        *,
        memory_mb: int = 1024,
        max_files: int = DEFAULT_MAX_FILES,
        idle_exit: float = DEFAULT_IDLE_EXIT,
        log: logging.Logger | None = None,
    ) -> None:
        self.idle_exit = max(0.0, idle_exit)
        self.kind = kind
        self.base_dir = base_dir
        self.memory_mb = memory_mb
        self.max_files = max(1, max_files)
        self.log = log or logging.getLogger("pywats_station.converters.child")
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: int | None = None  # the child's reply pipe (read end)
        self._served = 0
        self._sources: list[tuple[str, int]] = []
        self._closed = False
        self.started = 0  # children started so far (for tests and the bench)

    # --- public -------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running child's process id, if one runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def run(
        self,
        action: str,
        target: Path | None,
        ctx_data: ContextData,
        *,
        timeout: float = 120.0,
        limits: OutputLimits | None = None,
        reject_below: float = 0.0,
    ) -> ChildReply | Failed:
        """Serve one input; ``Failed`` names what went wrong with the child (it is replaced).

        Args:
            action: ``run`` (validate, then convert unless the confidence is below
                ``reject_below``), ``validate`` or ``convert``.
            target: the file or folder; ``None`` for a scheduled converter's run.
            ctx_data: station, processes and the raw ``arguments`` table.
            timeout: wall-clock seconds for this input (also its CPU-time allowance).
            limits: the caps on the reports, checked in the child.
            reject_below: the converter's ``reject_threshold``.
        """
        limits = limits or OutputLimits()
        request = WorkerRequest(
            action=action,
            target=None if target is None else str(target),
            context=ctx_data,
            cpu_seconds=max(1, int(timeout + 0.999)),
            limits=limits,
            reject_below=reject_below,
        )
        max_reply = limits.max_output_size + limits.max_output_size // 100 + _REPLY_ENVELOPE
        with self._lock:
            if self._closed:
                return Failed(reason="converter stopped")
            try:
                if self._proc is not None and (
                    self._served >= self.max_files
                    or self._changed()
                    or self._proc.poll() is not None
                ):
                    self._stop()
                payload = msgspec.json.encode(request)
                try:
                    raw = self._send(payload, timeout, max_reply, limits)
                except _Idle:  # it ended idle just as the request went out: it did nothing
                    raw = self._send(payload, timeout, max_reply, limits)
            except (_Ended, _Idle) as ended:
                if isinstance(ended, _Idle):
                    return Failed(reason="converter process ended idle twice in a row")
                return Failed(reason=ended.reason)
            try:
                answer = msgspec.json.decode(raw, type=WorkerReply)
            except msgspec.DecodeError as exc:
                self._kill()
                return Failed(reason=f"converter process sent an unreadable reply ({exc})")
            if answer.retire:
                self._stop()
            if answer.reply is None:
                return Failed(reason=answer.failed or "converter process replied without a result")
            return answer.reply

    def _send(self, payload: bytes, timeout: float, max_reply: int, limits: OutputLimits) -> bytes:
        """One request to the child, started first if none runs."""
        if self._proc is None:
            self._start()
        self._served += 1
        return self._exchange(payload, timeout, max_reply, limits)

    def abort(self) -> None:
        """Kill the running child's process group now, from any thread (without the lock: a
        request in progress sees its child die and fails at once). The next input starts a
        fresh child."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop the child (its stdin closes; killed if it does not exit at once). Final."""
        with self._lock:
            self._closed = True
            self._stop()

    # --- the child ----------------------------------------------------------------------

    def _start(self) -> None:
        replies_r, replies_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pywats_station.converters._child",
                    "--serve",
                    str(replies_w),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,  # fd 1 becomes stderr in the child anyway
                stderr=subprocess.PIPE,
                env=_child_env(self.base_dir),
                cwd=self.base_dir if self.base_dir is not None and self.base_dir.is_dir() else None,
                start_new_session=True,  # its own process group: a timeout kills its children
                pass_fds=(replies_w,),
            )
        except OSError as exc:
            os.close(replies_r)
            os.close(replies_w)
            raise _Ended(f"converter process could not be started: {exc}") from exc
        os.close(replies_w)
        self._proc, self._replies, self._served = proc, replies_r, 0
        self.started += 1
        start = WorkerStart(
            kind=self.kind,
            base_dir=None if self.base_dir is None else str(self.base_dir),
            memory_mb=self.memory_mb,
            idle_exit=self.idle_exit,
        )
        raw = self._exchange(msgspec.json.encode(start), _START_TIMEOUT, _REPLY_ENVELOPE, None)
        try:
            ready = msgspec.json.decode(raw, type=WorkerReply)
        except msgspec.DecodeError as exc:
            self._kill()
            raise _Ended(f"converter process sent an unreadable reply ({exc})") from exc
        if ready.failed is not None:
            self._stop()  # a load error: the next input tries again (the file may be fixed)
            raise _Ended(ready.failed)
        self._sources = ready.sources

    def _changed(self) -> bool:
        """Whether a source file of the converter changed since the child loaded it."""
        for name, mtime in self._sources:
            try:
                if os.stat(name).st_mtime_ns != mtime:
                    return True
            except OSError:
                return True
        return False

    def _exchange(
        self, payload: bytes, timeout: float, max_reply: int, limits: OutputLimits | None
    ) -> bytes:
        """Send one frame and read the reply frame; the child's stderr goes to the log."""
        proc = self._proc
        assert proc is not None
        assert proc.stdin is not None
        assert proc.stderr is not None
        assert self._replies is not None
        err = bytearray()
        try:
            try:
                proc.stdin.write(len(payload).to_bytes(_HEADER, "big") + payload)
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # the child died; its exit code tells why
            outcome, reply = self._read(proc, timeout, max_reply, err)
        finally:
            _forward(bytes(err), self.log)
        if outcome == "done":
            return reply
        if outcome == "timeout":
            self._kill()
            raise _Ended(f"converter timed out after {timeout:g} s")
        if outcome == "too big":
            self._kill()
            assert limits is not None
            raise _Ended(
                f"converter reply exceeds {human_size(max_reply)} (the reports may be at most "
                f"{human_size(limits.max_output_size)}, {limits.key('max_output_size')})"
            )
        # The reply channel ended: the child is gone (or going). Why?
        try:
            code = proc.wait(_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise _Ended("converter process closed its reply channel") from None
        self._kill()  # reaps it, and ends whatever it left running in its group
        if code == IDLE_EXIT:
            raise _Idle
        if code < 0:
            raise _Ended(_signal_reason(-code, self.memory_mb, max(1, int(timeout + 0.999))))
        last = _last_stderr_line(bytes(err))
        if code > 0:
            raise _Ended(f"converter process exited with code {code}{': ' + last if last else ''}")
        raise _Ended("converter process exited without a result")

    def _read(
        self, proc: subprocess.Popen[bytes], timeout: float, max_reply: int, err: bytearray
    ) -> tuple[str, bytes]:
        """Read the reply frame; ``("done" | "timeout" | "too big" | "ended", reply)``."""
        assert proc.stderr is not None
        assert self._replies is not None
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = _HEADER
        size: int | None = None
        with selectors.DefaultSelector() as sel:
            sel.register(self._replies, selectors.EVENT_READ, "reply")
            sel.register(proc.stderr, selectors.EVENT_READ, "err")
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout", b""
                for key, _ in sel.select(remaining):
                    fd = key.fd
                    if key.data == "err":
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            sel.unregister(key.fileobj)
                            continue
                        err += chunk
                        del err[:-_STDERR_TAIL]
                        continue
                    chunk = os.read(fd, max(65536, need - len(buf)))
                    if not chunk:
                        return "ended", b""
                    buf += chunk
                    if size is None and len(buf) >= _HEADER:
                        size = int.from_bytes(buf[:_HEADER], "big")
                        if size > max_reply:
                            return "too big", b""
                        need = _HEADER + size
                    if size is not None and len(buf) >= need:
                        self._drain(proc, err)
                        return "done", bytes(buf[_HEADER:need])

    def _drain(self, proc: subprocess.Popen[bytes], err: bytearray) -> None:
        """Take the stderr the child wrote before its reply (it is in the pipe by now)."""
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while sel.select(0):
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                err += chunk
                del err[:-_STDERR_TAIL]

    def _stop(self) -> None:
        """End the child gently: its stdin closes, it exits; killed if it does not."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(_EXIT_WAIT)
        self._kill()

    def _kill(self) -> None:
        """Kill the child's process group (whatever it left running too) and reap it."""
        proc, self._proc = self._proc, None
        replies, self._replies = self._replies, None
        self._sources = []
        if replies is not None:
            os.close(replies)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()


def validation_of(reply: ChildReply | Failed) -> Validation:
    """The validation in a reply; a failed child is confidence 0 with the reason."""
    if isinstance(reply, Failed):
        return Validation(confidence=0.0, message=reply.reason)
    if reply.validation is None:
        return Validation(confidence=0.0, message="converter process replied without a validation")
    return reply.validation
