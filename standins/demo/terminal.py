"""`tunebot demo`: the whole bot in a terminal, with no Slack or Google account.

One process runs the tuning-API emulator, the fake Slack Web API and workspace the
tests use, and the production bot (`OfflineStack`): what you type becomes the signed
request Slack would send (a slash command, a button click, a form submission, a
message event), and what the bot does through the Web API shows up here the way Slack
would show it. Nothing leaves 127.0.0.1. The session itself is in standins/demo/session.py,
the terminal's printing and reading in standins/demo/printer.py.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from standins.demo.printer import Printer, PrinterLogHandler, _isatty, _utf8
from standins.demo.session import (
    DATABASE_FILE,
    HELP,
    POLL_INTERVAL_SECONDS,
    USER_ID,
    USER_NAME,
    DemoError,
    DemoSession,
)
from standins.offline import OfflineConfig, OfflineStack

__all__ = ["HELP", "DemoError", "DemoSession", "run_demo", "run_session"]


def run_session(
    lines: Sequence[str] | None,
    *,
    out: str | Path | None = None,
    step_seconds: float = 0.05,
    stream: TextIO | None = None,
    base_dir: Path | None = None,
    emoji: bool | None = None,
    ansi: bool | None = None,
    backend: str = "vertex",
) -> int:
    """Start everything, run `lines` (None: read the terminal), stop. 0 when every line ran."""
    stream = stream or sys.stdout
    tty = _isatty(stream)
    printer = Printer(
        stream,
        tty=tty,
        ansi=tty if ansi is None else ansi,
        emoji=_utf8(stream) if emoji is None else emoji,
    )
    temporary = None if out else tempfile.TemporaryDirectory(prefix="tunebot-demo-")
    out_dir = Path(out) if out else Path(temporary.name)  # type: ignore[union-attr]
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / DATABASE_FILE
    for leftover in (
        database,
        database.with_name(DATABASE_FILE + "-wal"),
        database.with_name(DATABASE_FILE + "-shm"),
    ):
        leftover.unlink(missing_ok=True)  # a fresh emulator knows none of an old run's models
    config = OfflineConfig(
        database_url=f"sqlite:///{database}",
        step_seconds=step_seconds,
        poll_interval_seconds=POLL_INTERVAL_SECONDS,
        backend=backend,
    )
    # A poll cycle that draws a chart can outlast the short demo interval; APScheduler's
    # "skipped: maximum number of running instances" warning would only clutter the screen.
    scheduler_log = logging.getLogger("apscheduler")
    scheduler_level = scheduler_log.level
    scheduler_log.setLevel(logging.ERROR)
    log_handler = PrinterLogHandler(printer)
    root = logging.getLogger()
    root.addHandler(log_handler)
    stack = OfflineStack(config)
    try:
        stack.start()
    except Exception as exc:
        stack.stop()
        scheduler_log.setLevel(scheduler_level)
        root.removeHandler(log_handler)
        if temporary is not None:
            temporary.cleanup()
        print(f"tunebot demo could not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stack.workspace.add_user(USER_ID, USER_NAME)
    session = DemoSession(stack, printer, out_dir, base_dir=base_dir)
    saved_terminal = _terminal_state() if lines is None else None
    try:
        printer.note("tunebot offline demo: the real bot, a stand-in Slack workspace and the tuning-API")
        service = "Vertex AI" if backend == "vertex" else "the legacy Gemini API"
        printer.note(f"emulator, all on 127.0.0.1, tuning on {service}. You are @you in #general.")
        if temporary is not None:
            printer.note(f"Charts and the demo database go to {out_dir} (removed when the demo ends;")
            printer.note("--out DIR keeps them)")
        else:
            printer.note(f"Charts and the demo database go to {out_dir}")
        if lines is None:
            printer.note("Type `help` for what you can type, `quit` (or Ctrl-D) to leave.")
            session.interactive()
        else:
            session.run_lines(lines)
    except KeyboardInterrupt:
        printer.interrupted()
        return 130
    finally:
        _restore_terminal(saved_terminal)
        session.close()
        stack.stop()
        scheduler_log.setLevel(scheduler_level)
        root.removeHandler(log_handler)
        if temporary is not None:
            temporary.cleanup()
    return 1 if session.failures else 0


def run_demo(script: str | None, out: str | None, step_seconds: float, backend: str = "vertex") -> int:
    """`tunebot demo [--script FILE] [--out DIR] [--step-seconds S] [--backend gemini|vertex]`."""
    if script is not None:
        path = Path(script)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            print(f"tunebot demo: cannot read {script}: {exc.strerror}", file=sys.stderr)
            return 2
        return run_session(lines, out=out, step_seconds=step_seconds, base_dir=path.parent, backend=backend)
    if not sys.stdin.isatty():  # lines piped in: run them like a script
        return run_session(sys.stdin.read().splitlines(), out=out, step_seconds=step_seconds, backend=backend)
    return run_session(None, out=out, step_seconds=step_seconds, backend=backend)


def _terminal_state() -> list[Any] | None:
    """The terminal's settings, to put back if we leave while `input()` is still waiting."""
    try:
        import termios

        return termios.tcgetattr(sys.stdin.fileno())
    except (ImportError, OSError, ValueError):
        return None


def _restore_terminal(state: list[Any] | None) -> None:
    if state is None:
        return
    try:
        import termios

        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, state)
    except (ImportError, OSError, ValueError):
        pass
