"""What keeps a training run alive whatever happens around it: printing, signals, the run folder's lock.

* :class:`Console` prints.  A closed standard output (``rnnbook train ... |
  head -1``), a full disk, a hung-up terminal or one that cannot show a
  character never stops the training: after a broken pipe it prints nothing
  more, and what the terminal's encoding cannot show is replaced by ``?``;
  ``sample`` and ``info``, whose output is their result, report a failed
  write as an error instead.
* :class:`StopSignals` turns the first Ctrl-C (SIGINT), SIGTERM or SIGHUP into a flag
  the training loop checks between steps, so that it saves before it stops
  (a signal the process was started ignoring, as under ``nohup``, stays ignored).
* :func:`open_run_folder` checks ``--out`` before the first step (created if
  missing, a writable folder) and locks it for the whole run with
  ``fcntl.flock`` on ``DIR/.lock``, which records the process id, so that a
  second trainer on the same folder is refused with a message naming the
  first; then it removes what saves killed half-way left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from rnnbook.cli.errors import PROG, CLIError
from rnnbook.training import checkpoint

LOCK_NAME = ".lock"
#: The exit status after a stop by signal: 128 + the signal's number, as a shell reports it.
#: SIGHUP is what a closed terminal or a dropped ssh session sends.
EXIT_STATUS = {signal.SIGHUP: 129, signal.SIGINT: 130, signal.SIGTERM: 143}


class Console:
    """Standard output, the one way the command prints.

    A closed pipe ends the printing quietly.  Any other failure to write (a
    full disk, a hung-up terminal, no standard output at all) is a
    :class:`~rnnbook.cli.errors.CLIError` for a command whose output is its
    result (sample, info), and is ignored with ``keep_going=True``, for the
    trainer and the export, whose results are files.
    """

    def __init__(self, stream=None, *, keep_going: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.keep_going = keep_going
        self.closed = False

    def isatty(self) -> bool:
        """Whether the output is a terminal (then progress lines overwrite each other)."""
        try:
            return not self.closed and self.stream.isatty()
        except (ValueError, OSError, AttributeError):  # AttributeError: no standard output at all
            return False

    def print(self, text: str = "", end: str = "\n") -> None:
        """Print ``text``; after a closed pipe, nothing (see the class for other failures)."""
        if self.closed:
            return
        if self.stream is None:  # started with standard output closed (">&-")
            self._fail("it was closed")
            return
        try:
            try:
                self.stream.write(text + end)
            except UnicodeEncodeError:
                encoding = getattr(self.stream, "encoding", None) or "ascii"
                self.stream.write((text + end).encode(encoding, errors="replace").decode(encoding))
            self.stream.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            self._close()
        except OSError as err:  # a full disk, a hung-up terminal (EIO) ...
            self._close()
            self._fail(err.strerror or str(err))

    def _fail(self, reason: str) -> None:
        self.closed = True
        if not self.keep_going:
            raise CLIError(f"cannot write to standard output: {reason}")

    def _close(self) -> None:
        """Stop printing; point file descriptor 1 at /dev/null so that Python's exit flush cannot fail either."""
        self.closed = True
        if self.stream is None:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


def warn(message: str) -> None:
    """One warning line on stderr, ``rnnbook: warning: ...`` (never raises)."""
    with contextlib.suppress(OSError, ValueError):
        print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


class StopSignals:
    """Turns the first SIGINT (Ctrl-C), SIGTERM or SIGHUP into :attr:`received`, checked between training steps.

    A second signal of the same kind acts at once (the previous handler is back).
    A signal the process was started ignoring stays ignored: ``nohup`` ignores
    SIGHUP so that a run outlives its terminal, and a shell ignores SIGINT for a
    background job.
    """

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self.previous: dict = {}

    def __enter__(self) -> StopSignals:
        for signum in EXIT_STATUS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)
        signal.signal(signum, self.previous[signum])

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def fmt_time(seconds: float) -> str:
    """``seconds`` as minutes and seconds, ``"8m37s"`` (``"over 100 days"`` beyond that, or for infinity)."""
    if not seconds < 100 * 86400:  # --minutes 1e308 leaves infinite seconds (int() would raise), 1e300 300 digits
        return "over 100 days"
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s"


@contextlib.contextmanager
def open_run_folder(out: str, *, create: bool, option: str = "--out") -> Iterator[Path]:
    """Check the run folder ``out`` and hold its lock for the ``with`` block; yields the folder.

    Parameters
    ----------
    out : str
        The ``--out`` option.
    create : bool
        Create the folder (and its parents) if missing; when resuming it must exist.
    option : str, default "--out"
        The option that named the folder, for the messages (``export --weights`` writes a run folder too).

    Raises
    ------
    CLIError
        If ``out`` is empty, is not a folder, cannot be created or written, or
        another process holds its lock (the message gives that process's id).

    A folder created here is removed again if the run ends without saving
    anything in it (a text that cannot be read, say).
    """
    if not out:
        raise CLIError(f"{option} must name a folder, got an empty string")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise CLIError(f"{option} {out}: exists and is not a folder")
    created = False
    if not path.exists():
        if not create:
            raise CLIError(f"{option} {out}: no such run folder to resume")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CLIError(f"{option} {out}: cannot create the folder ({err.strerror or err})") from None
        created = True
    lock_path = path / LOCK_NAME
    try:
        # O_NOFOLLOW: in a shared folder, a .lock planted as a symbolic link would otherwise have the
        # trainer truncate and overwrite whatever file it points at.
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
    except OSError as err:
        if lock_path.is_symlink():
            raise CLIError(f"{option} {out}: {LOCK_NAME} is a symbolic link; remove it (it is not followed)") from None
        raise CLIError(f"{option} {out}: cannot write in the folder ({err.strerror or err})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CLIError(f"{option} {out}: {LOCK_NAME} exists and is not a regular file; remove it")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise CLIError(
                f"{option} {out} is in use by another rnnbook process (process {other}); "
                f"wait for it to end, or choose another {option}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        checkpoint.remove_stale_temporaries(path)  # safe now: no other save can be running
        try:
            yield path
        finally:
            if created:
                _remove_if_unused(path)
    finally:
        os.close(fd)  # releases the lock


def _remove_if_unused(path: Path) -> None:
    """Remove a run folder this run created if it holds nothing but the lock (the run failed before saving).

    Called while holding the lock, so no other trainer can be using the folder.
    """
    with contextlib.suppress(OSError):
        if all(entry.name == LOCK_NAME for entry in path.iterdir()):
            (path / LOCK_NAME).unlink()
            path.rmdir()
