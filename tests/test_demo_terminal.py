"""The demo at a terminal (#15): Ctrl-C, log lines and the prompt, temporary folders,
`reply` without a try thread, and the Home tab."""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path

import pytest

from standins.demo.printer import PROMPT, Printer, PrinterLogHandler
from standins.demo.terminal import run_session
from tests.helpers.demo import EXAMPLES, run_script, section_after


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


def printer_at_prompt() -> tuple[Printer, TtyBuffer]:
    stream = TtyBuffer()
    printer = Printer(stream, tty=True, ansi=False, emoji=False)
    printer.prompt_shown(True, lambda: "/tune sta")  # someone is typing
    stream.write(PROMPT + "/tune sta")
    return printer, stream


def test_ctrl_c_leaves_the_shell_prompt_on_a_fresh_line() -> None:
    printer, stream = printer_at_prompt()
    printer.interrupted()
    output = stream.getvalue()
    assert output.endswith("\n(interrupted)\n")
    after_erase = output.rsplit("\r\x1b[K", 1)[1]
    assert PROMPT not in after_erase  # the demo's prompt is not drawn again


def test_log_lines_print_above_the_prompt_not_into_it() -> None:
    printer, stream = printer_at_prompt()
    logger = logging.getLogger("tests.demo.retry")
    handler = PrinterLogHandler(printer)
    logger.addHandler(handler)
    try:
        logger.warning("Slack chat.update was rate limited; retrying in 1 s")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    erased = output.index("\r\x1b[K")
    assert output[erased:].startswith("\r\x1b[K(log) WARNING tests.demo.retry: Slack chat.update was rate")
    assert output.endswith("\n" + PROMPT + "/tune sta")  # the prompt and what was typed come back


def test_a_run_leaves_no_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stream = io.StringIO()
    status = run_session(["/tune help"], stream=stream, base_dir=EXAMPLES, emoji=False, ansi=False)
    assert status == 0
    assert "removed when the demo ends" in stream.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_reply_without_a_try_thread_says_so(tmp_path: Path) -> None:
    status, transcript = run_script(
        ["/tune upload next-number.csv", "/tune start next-number epochs=1", "wait done", "reply 100"],
        tmp_path,
    )
    assert status == 1
    assert "! No /tune try thread is open" in section_after(transcript, "you> reply 100")


def test_the_home_tab_is_shown_and_its_buttons_work(tmp_path: Path) -> None:
    status, transcript = run_script(
        [
            "/tune upload next-number.csv",
            '/tune start next-number name="n2" epochs=1',
            "wait done",
            "home",
            "click Try",
            "reply 12",
        ],
        tmp_path,
    )
    assert status == 0, transcript
    home = section_after(transcript, "you> home")
    assert "┌ tunebot · Home" in home and "Your models (1)" in home and "[ Try ]  [ Delete ]" in home
    assert "is trying n2" in section_after(transcript, "you> click Try")
    assert "13" in section_after(transcript, "you> reply 12")
