"""The demo's terminal: printing what Slack would show (redrawing edited messages in
place on a terminal, keeping the `you> ` prompt below the output) and reading lines."""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import threading
from collections.abc import Callable, Sequence
from typing import TextIO

from standins.demo import render

PROMPT = "you> "


class Printer:
    """Writes blocks of lines; on a terminal, redraws an edited message in place when it
    was the last thing printed, and keeps the `you> ` prompt below the output."""

    def __init__(self, stream: TextIO, *, tty: bool, ansi: bool, emoji: bool) -> None:
        self.stream = stream
        self.tty = tty
        self.ansi = ansi
        self.emoji = emoji
        self._lock = threading.RLock()
        self._last_key: object | None = None
        self._last_rows = 0
        self._prompt_shown = False
        self._line_buffer: Callable[[], str] | None = None  # readline's, when reading interactively

    def show(self, lines: Sequence[str], *, key: object | None = None, replace: bool = False) -> None:
        with self._lock:
            self._hide_prompt()
            if replace and self.tty and key is not None and key == self._last_key and self._last_rows:
                self.stream.write(f"\x1b[{self._last_rows}F\x1b[J")
            for line in lines:
                self.stream.write(line + "\n")
            self._last_key = key
            self._last_rows = render.rows(lines, self._columns()) if key is not None else 0
            self._show_prompt()
            self.stream.flush()

    def note(self, text: str) -> None:
        """A line from the demo itself (not something Slack would show)."""
        self.show([f"{render.DIM}{text}{render.RESET}" if self.ansi else text])

    def echo(self, line: str) -> None:
        """What the user typed, as a prompt line (script mode)."""
        prompt = f"{render.BOLD}{PROMPT}{render.RESET}" if self.ansi else PROMPT
        self.show([prompt + line])

    def typed(self) -> None:
        """The user pressed Enter at the prompt: their line now sits below the last block."""
        with self._lock:
            self._last_key = None
            self._last_rows = 0

    def interrupted(self) -> None:
        """Ctrl-C: take the prompt away and end on a fresh line, so the shell's prompt that
        follows starts on a line of its own."""
        with self._lock:
            self._hide_prompt()
            self._prompt_shown = False
            self.stream.write("\n(interrupted)\n")
            self._last_key = None
            self._last_rows = 0
            self.stream.flush()

    def prompt_shown(self, shown: bool, line_buffer: Callable[[], str] | None = None) -> None:
        with self._lock:
            self._prompt_shown = shown
            if line_buffer is not None:
                self._line_buffer = line_buffer

    def _columns(self) -> int:
        if not self.tty:
            return 10_000
        return shutil.get_terminal_size((100, 24)).columns

    def _hide_prompt(self) -> None:
        if self._prompt_shown and self.tty:
            self.stream.write("\r\x1b[K")

    def _show_prompt(self) -> None:
        if self._prompt_shown and self.tty:
            typed = ""
            if self._line_buffer is not None:
                with contextlib.suppress(Exception):
                    typed = str(self._line_buffer())
            self.stream.write(PROMPT + typed)


def _utf8(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return encoding == "utf8"


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LineReader:
    """Reads lines with `input()` in a daemon thread, one at a time when asked, so the main
    thread can keep printing while the prompt waits."""

    EMPTY = ""  # `take` found nothing yet (a blank line comes back as a single space)

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self._wanted = threading.Event()
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="demo-input", daemon=True)
        self._line_buffer: Callable[[], str] | None = None
        try:
            import readline

            self._line_buffer = readline.get_line_buffer
        except ImportError:  # pragma: no cover - readline is missing on some platforms
            pass

    def start(self) -> None:
        self._thread.start()

    def want_line(self) -> None:
        self._wanted.set()

    def take(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return self.EMPTY

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            self.printer.prompt_shown(True, self._line_buffer)
            try:
                line: str | None = input(PROMPT) or " "
            except EOFError:
                line = None
            finally:
                self.printer.prompt_shown(False)
            self._lines.put(line)
            if line is None:
                return


class PrinterLogHandler(logging.Handler):
    """Log lines (a retried Slack call, say) printed like the demo's own notes: above the
    prompt, never into the line being typed."""

    def __init__(self, printer: Printer, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.printer = printer
        self.setFormatter(logging.Formatter("(log) %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.printer.note(self.format(record))
        except Exception:
            self.handleError(record)
