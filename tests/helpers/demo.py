"""Running the `tunebot demo` script in a test and reading its transcript."""

from __future__ import annotations

import io
from pathlib import Path

from standins.demo.terminal import run_session

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_script(lines: list[str], out: Path, *, backend: str | None = None) -> tuple[int, str]:
    """Run `lines` as `tunebot demo` does (on `backend`, else the demo's default)."""
    stream = io.StringIO()
    options = {"backend": backend} if backend else {}
    status = run_session(
        lines,
        out=out,
        step_seconds=0.05,
        stream=stream,
        base_dir=EXAMPLES,
        emoji=False,
        ansi=False,
        **options,
    )
    return status, stream.getvalue()


def section_after(transcript: str, prompt: str, *, last: bool = False) -> str:
    """What was printed after the prompt line `prompt`, up to the next prompt line."""
    start = transcript.rindex(prompt) if last else transcript.index(prompt)
    rest = transcript[start + len(prompt) :]
    end = rest.find("\nyou> ")
    return rest if end < 0 else rest[:end]
