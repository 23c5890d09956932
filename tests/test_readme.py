"""The README's demo excerpt is what `tunebot demo --script examples/demo.txt --out demo-out` prints.

The test runs the script in-process, as tests/test_demo.py does, and compares the fenced
block under the README's `<!-- demo-excerpt -->` marker, exactly, with what the script
printed from the first `you> ` line to its last line's answer (what the demo may log while
it shuts down afterwards is not part of it). Some things are made fixed, the rest is
normalised; the excerpt is written in that normal form, and the README says so above it.

Fixed:
- the tuning job's id. The demo tunes on Vertex AI (the default), and the emulator numbers
  a fresh run's Vertex tuning jobs in order; it seeds a job's loss noise with the job's
  series names, so the losses shown are fixed with it.
- where charts are saved: the demo runs in a temporary folder with `--out demo-out`.
- patience: script mode runs the next line once the workspace has been still for 0.3 s
  (standins/demo/session.py: `settle`). On a busy machine (the suite runs on every core)
  an upload's answer (validated in a worker process that the first upload starts) or a
  try's answer (the "is thinking…" placeholder edited into the answer) can come later
  than that and be printed under the next line. The test waits for them as a person
  would before typing on.
- one known race: `/tune start` polls the new job at once to post its message; when the
  demo's frequent poll cycle (every 0.5 s) claimed the job just before, that poll finds it
  taken and the bot tells the user it could not post the progress message (the cycle
  posts it a moment later). A run that hit it is not the README's; the test runs the demo
  once more.

Normalised:
- the clock. Every message is stamped with the local time it was posted at; the test
  reads each stamp as `CLOCK`.
- wall-clock durations. A job of 10 steps at 0.05 s a step takes a second or two, more
  on a busy machine; the test reads every "took Ns" as `TOOK`.
- the job message is shown in its last version only (ready). It is posted when tuning
  starts and edited as tuning goes; when it is first shown (before or after `wait done`),
  how many versions there are and the state, step and loss each shows depend on when the
  poller happened to look, so every version that reads "queued" or "tuning" (such as
  Vertex's "tuning (preparing the dataset)") is left out.
- the order under `wait done`: the job message's last edit and the replies in its thread
  (the notice, the loss chart) interleave as the poller and Slack's rate limits happen to
  order them, so the channel's message is shown first, then the thread's replies, each in
  the order they came.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from standins.demo.session import USER_ID, DemoSession
from standins.demo.terminal import run_session

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
MARKER = "<!-- demo-excerpt -->"
CLOCK = "09:55"
TOOK = "took 2s"
# What the bot says when a scheduled poll cycle claimed a new job between `/tune start` and
# the poll that posts its message (bot/slack/jobs.py: announce_new_job): see the module's doc.
START_RACE = "but I could not post its progress message here"

_STAMP = re.compile(r"^((?:  │ )?\S+  )\d\d:\d\d((?:  \(.*\))?)$")
_CHANNEL_HEADER = re.compile(r"^\S+  \d\d:\d\d(?:  \(edited\))?$")  # a message in the channel
_TUNING_STATE = re.compile(r"^  \S+ .+ · (?:queued|tuning)(?: \(.*\))?$")  # "tuning (preparing …)"
_TOOK = re.compile(r"\btook \d+s\b")
_THREAD_HEADER = re.compile(r"^  │ \S+  \d\d:\d\d")  # a reply in a thread


def normalised(transcript: str) -> str:
    """The transcript from the first prompt on, in the README's normal form (see the module's doc)."""
    lines = transcript.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("you> "))
    kept: list[str] = []
    skipping = False
    for index, line in enumerate(lines[start:], start):
        if skipping and line.startswith("  ") and not line.startswith("  │"):
            continue  # the rest of a left-out version
        skipping = False
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _CHANNEL_HEADER.match(line) and _TUNING_STATE.match(following):
            skipping = True
            continue
        line = _STAMP.sub(lambda m: f"{m.group(1)}{CLOCK}{m.group(2)}", line)
        kept.append(_TOOK.sub(TOOK, line))
    return "\n".join(_job_message_before_its_thread(kept))


def _job_message_before_its_thread(lines: list[str]) -> list[str]:
    """Under `wait …`, the channel's messages first, then the thread's replies (each kept in order)."""
    out: list[str] = []
    channel: list[str] = []
    thread: list[str] = []
    block = channel
    waiting = False
    for line in lines:
        if line.startswith(("you> ", "# ")):
            out += channel + thread
            channel, thread = [], []
            block = channel
            waiting = line.startswith("you> wait")
            out.append(line)
        elif not waiting:
            out.append(line)
        else:
            if _THREAD_HEADER.match(line):
                block = thread
            elif not line.startswith(" "):
                block = channel
            block.append(line)
    return out + channel + thread


def readme_block(after: str) -> str:
    """The fenced block that follows the line `after` in the README."""
    text = README.read_text(encoding="utf-8")
    rest = text[text.index(after + "\n") + len(after) + 1 :].lstrip("\n")
    opening, rest = rest.split("\n", 1)
    assert opening.startswith("```"), f"no fenced block right after {after!r} in the README"
    return rest[: rest.index("\n```")]


def test_the_readme_lists_the_demo_script() -> None:
    script = (EXAMPLES / "demo.txt").read_text(encoding="utf-8").splitlines()
    commands = [line for line in script if line.strip() and not line.startswith("#")]
    listing = readme_block("[`examples/demo.txt`](examples/demo.txt) holds these lines:")
    assert listing.splitlines() == commands


def test_the_readme_shows_what_the_demo_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patient(monkeypatch)
    run_lines = DemoSession.run_lines
    stream = io.StringIO()
    script_end: list[int] = []

    def run_lines_then_mark(session: DemoSession, lines: list[str]) -> None:
        run_lines(session, lines)
        script_end.append(len(stream.getvalue()))  # then the demo shuts down

    monkeypatch.setattr(DemoSession, "run_lines", run_lines_then_mark)
    lines = (EXAMPLES / "demo.txt").read_text(encoding="utf-8").splitlines()
    for attempt in range(2):
        folder = tmp_path / f"run-{attempt}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        stream.seek(0)
        stream.truncate()
        script_end.clear()
        status = run_session(
            lines, out="demo-out", step_seconds=0.05, stream=stream, base_dir=EXAMPLES, emoji=True, ansi=False
        )
        assert script_end, stream.getvalue()
        transcript = stream.getvalue()[: script_end[0]]
        if START_RACE not in transcript:
            break
    assert status == 0, stream.getvalue()
    assert (folder / "demo-out" / "tunebot-job-1-loss.png").is_file()
    assert normalised(transcript) == readme_block(MARKER)


def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo session waits, after a line, for an upload's answer and for a try's answer."""
    upload, settle = DemoSession.upload, DemoSession.settle

    def upload_answers(session: DemoSession) -> int:
        shown = (
            e.versions[-1].text if e.versions else e.text for e in session.workspace.ephemerals(user=USER_ID)
        )
        return sum("stored" in text.lower() for text in shown)  # "Stored dataset …", "… was not stored"

    def answered(session: DemoSession) -> bool:
        shown = (m.versions[-1].text if m.versions else m.text for m in session.workspace.messages())
        return not any("is thinking…" in text for text in shown)

    def upload_and_wait(session: DemoSession, args: str) -> None:
        before = upload_answers(session)
        upload(session, args)
        session.workspace.wait_for(lambda: upload_answers(session) > before, timeout=60.0)

    def settle_when_answered(session: DemoSession) -> None:
        settle(session)
        if not answered(session):
            session.workspace.wait_for(lambda: answered(session), timeout=60.0)
            settle(session)

    monkeypatch.setattr(DemoSession, "upload", upload_and_wait)
    monkeypatch.setattr(DemoSession, "settle", settle_when_answered)


def test_the_normal_form() -> None:
    transcript = "\n".join(
        [
            "Charts and the demo database go to demo-out",
            "you> wait done",
            "tunebot  12:51",
            "  ⏳ number generator · queued",
            "  ⏱ queued just now",
            "tunebot  12:51  (edited)",
            "  ⚙ number generator · tuning",
            "  step 28 / 38 · epoch 4 of 5 · loss 0.267",
            "tunebot  12:52  (edited)",
            "  ✅ number generator · ready",
            "  ⏱ took 3s",
            "  │ tunebot  12:52  (also sent to the channel)",
            "  │   final loss 0.130 · took 3s · step 38 / 38",
            "  │ you  12:52",
            "  │   100",
        ]
    )
    assert normalised(transcript).splitlines() == [
        "you> wait done",
        "tunebot  09:55  (edited)",
        "  ✅ number generator · ready",
        "  ⏱ took 2s",
        "  │ tunebot  09:55  (also sent to the channel)",
        "  │   final loss 0.130 · took 2s · step 38 / 38",
        "  │ you  09:55",
        "  │   100",
    ]
