"""A demo session: the lines people type, turned into what Slack would send the bot, and
what the bot then does, printed the way Slack would show it.

Printing happens on the main thread only: the workspace's subscriber just queues a
snapshot of each change, and the loop here drains the queue and prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import shlex
import time
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlmodel import col, select

from bot.presentation.blocks import UPLOAD_CALLBACK
from bot.storage.models import TryThread, TuningJob
from bot.storage.repositories.jobs import ACTIVE_STATES, PENDING_NOTICE_STATES
from bot.storage.store import Store
from standins.demo import render
from standins.demo.changes import UPDATE_KINDS, USER_ID, Change, snapshot
from standins.demo.printer import LineReader, Printer
from standins.demo.screen import Screen
from standins.fakeslack import DEFAULT_CHANNEL, SentRequest, SlackError, WorkspaceEvent
from standins.offline import OfflineStack

T = TypeVar("T")
# A request the stand-in sent, or None when it sent none (a message where the bot is not).
Sent = TypeVar("Sent", SentRequest, SentRequest | None)

USER_NAME = "you"
CHANNEL = DEFAULT_CHANNEL
DM_CHANNEL = "D" + USER_ID[1:]  # your DM with the bot (the fake Slack's id for it)
MODEL_PLACEHOLDER = "{model}"
POLL_INTERVAL_SECONDS = 0.5  # the real scheduler, polling often so a demo job moves visibly
QUIET_SECONDS = 0.3  # a command is done when the workspace has not changed for this long
SETTLE_CAP_SECONDS = 10.0
WAIT_DONE_TIMEOUT_SECONDS = 300.0
DATABASE_FILE = "tunebot-demo.db"

UPLOAD_FIELDS = {
    "name": "name",
    "input": "input_column",
    "input_column": "input_column",
    "output": "output_column",
    "output_column": "output_column",
}
FILE_TYPES = {
    "csv": ("csv", "text/csv"),
    "tsv": ("tsv", "text/tab-separated-values"),
    "json": ("json", "application/json"),
    "jsonl": ("jsonl", "application/jsonl"),
    "txt": ("text", "text/plain"),
}

HELP = """\
Type what you would type in Slack (you are @you in #general):
  /tune help                         the bot's own help
  /tune upload PATH [name=…] [input=…] [output=…]
                                     upload a local file through the bot's upload form
  /tune start DATASET [name="…"] [epochs=N] [learning_rate_multiplier=1.0] [adapter_size=4]
                                     (Vertex AI; the Gemini API takes batch_size=, learning_rate=)
  /tune datasets | status | list     your datasets, your jobs, the tuned models
  /tune try MODEL PROMPT             ask a model; the answer comes in a thread
  /tune delete MODEL                 asks first: then `click Delete` and `confirm`
  reply TEXT   (or > TEXT)           reply in the latest /tune try thread
  home                               open tunebot's Home tab (your datasets, jobs, models)
  say TEXT                           post TEXT in #general (@tunebot mentions the bot)
  click LABEL                        click the button LABEL on the latest message that has one
  confirm | cancel                   answer a button's confirmation dialog
  wait [SECONDS | done]              let time pass; `done` (the default): until every tuning
                                     job has finished and been announced
  help | quit
{model} in a line stands for the latest model you started. Lines starting with # are comments."""


class DemoError(Exception):
    """A line the demo could not carry out (shown, and the exit status becomes 1)."""


class DemoSession:
    """Runs demo lines against a started `OfflineStack` and prints what Slack would show."""

    def __init__(
        self, stack: OfflineStack, printer: Printer, out_dir: Path, *, base_dir: Path | None
    ) -> None:
        assert stack.sender is not None and stack.runtime is not None
        self.stack = stack
        self.sender = stack.sender
        self.workspace = stack.workspace
        self.store: Store = stack.runtime.ctx.store
        self.printer = printer
        self.out_dir = out_dir
        self.base_dir = base_dir
        self.failures = 0
        self._changes: queue.Queue[Change] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self.screen = Screen(self.workspace, printer, out_dir)
        self._pending: tuple[tuple[str, str, str], dict[str, Any]] | None = None
        self._awaiting_bot = False  # a request went to the bot and nothing from it was shown yet
        self._home_shown: str | None = None  # the Home tab's view id, once opened
        self._unsubscribe = self.workspace.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()
        with contextlib.suppress(Exception):
            self._loop.run_until_complete(self.sender.aclose())
        self._loop.close()

    def _on_event(self, event: WorkspaceEvent) -> None:
        change = snapshot(event)
        if change is not None:
            self._changes.put(change)

    # ---- running lines -------------------------------------------------------------------

    def run_lines(self, lines: Iterable[str]) -> None:
        """Script mode: echo each line like a prompt, run it, wait until the bot is quiet."""
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                self.printer.note(line)
                continue
            try:
                shown = self.substitute(line)
            except DemoError as exc:
                self.printer.echo(line)
                self._fail(exc)
                continue
            self.printer.echo(shown)
            if not self.execute(shown):
                break
            self.settle()
        self.settle()

    def interactive(self) -> None:
        """Read lines at a `you> ` prompt (in a thread) while printing what happens meanwhile."""
        reader = LineReader(self.printer)
        reader.start()
        try:
            while True:
                reader.want_line()
                line: str | None = reader.EMPTY
                while line is reader.EMPTY:
                    self.drain()
                    line = reader.take(0.05)
                self.printer.typed()
                if line is None:  # Ctrl-D
                    self.printer.show([""])
                    break
                try:
                    text = self.substitute(line.strip())
                except DemoError as exc:
                    self._fail(exc)
                    continue
                if text.startswith("#"):
                    continue
                if not self.execute(text):
                    break
                self.settle(cap=3.0)
        except KeyboardInterrupt:
            self.printer.interrupted()

    def execute(self, line: str) -> bool:
        """Run one line (placeholders already substituted). False: the user wants to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        rest = rest.strip()
        if self._pending is not None and word not in ("confirm", "cancel"):
            self._pending = None
            self.printer.note("(the confirmation dialog was dismissed)")
        try:
            if word in ("quit", "exit"):
                return False
            if word in ("help", "?"):
                self.printer.show(HELP.split("\n"))
            elif word == "/tune":
                if rest.split(" ", 1)[0].lower() == "upload":
                    self.upload(rest.partition(" ")[2].strip())
                else:
                    self.slash(rest)
            elif word.startswith("/"):
                raise DemoError(f"This workspace only has `/tune`, not `{word}`.")
            elif word == "click":
                self.click(rest)
            elif word in ("confirm", "cancel"):
                self.answer_dialog(word == "confirm")
            elif word == "reply":
                self.reply(rest)
            elif line.startswith(">"):
                self.reply(line[1:].strip())
            elif word == "say":
                self.say(rest)
            elif word == "wait":
                self.wait(rest)
            elif word == "home":
                self.home()
            else:
                raise DemoError(f"I don't know `{word}`. Type `help` for what you can type.")
        except DemoError as exc:
            self._fail(exc)
        return True

    def _fail(self, exc: DemoError) -> None:
        self.failures += 1
        self._awaiting_bot = False
        self.drain()
        self.printer.note(f"! {exc}")

    def substitute(self, line: str) -> str:
        if MODEL_PLACEHOLDER not in line:
            return line
        model = self.latest_model()
        if model is None:
            raise DemoError(
                f"`{MODEL_PLACEHOLDER}` stands for the latest model you started; there is none yet."
            )
        return line.replace(MODEL_PLACEHOLDER, model)

    def latest_model(self) -> str | None:
        for job in self.store.jobs.for_owner(self.workspace.team_id, USER_ID, limit=20):
            if job.model_name:
                return job.model_name
        return None

    # ---- commands ------------------------------------------------------------------------

    def slash(self, text: str) -> None:
        sent = self._send(self.sender.slash_command(USER_ID, text))
        self._show_ack(sent)

    def upload(self, args: str) -> None:
        try:
            tokens = shlex.split(args)
        except ValueError as exc:
            raise DemoError(f"I could not read that: {exc}") from exc
        if not tokens:
            raise DemoError("Which file? `/tune upload PATH [name=…] [input=…] [output=…]`")
        path = self._resolve(tokens[0])
        fields: dict[str, str] = {}
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            block_id = UPLOAD_FIELDS.get(key.lower())
            if not sep or block_id is None:
                raise DemoError(f"`{token}`: the upload form has name=, input= and output=.")
            fields[block_id] = value
        content = path.read_bytes()
        seen = len(self.workspace.views(USER_ID))
        sent = self._send(self.sender.slash_command(USER_ID, "upload"))
        self._show_ack(sent)
        try:
            view = self.workspace.wait_for(
                lambda: (lambda views: views[-1] if len(views) > seen else None)(
                    self.workspace.views(USER_ID)
                ),
                timeout=10.0,
            )
        except TimeoutError:
            raise DemoError("The bot did not open the upload form.") from None
        if view.callback_id != UPLOAD_CALLBACK:
            raise DemoError(f"The bot opened an unexpected form ({view.callback_id}).")
        self.drain()
        filled = [f"Example file = {path.name}"]
        labels = {"name": "Dataset name", "input_column": "Input column", "output_column": "Output column"}
        filled.extend(f"{labels[block_id]} = {value}" for block_id, value in fields.items())
        self.printer.note(f"(you fill in the form: {'; '.join(filled)}; and press [ Upload ])")
        extension = path.suffix.lower().lstrip(".")
        filetype, mimetype = FILE_TYPES.get(extension, ("text", "text/plain"))
        file = self.workspace.add_file(path.name, content, filetype, mimetype, user=USER_ID)
        values: dict[str, Any] = {"file": {"file": {"type": "file_input", "files": [file]}}}
        for block_id, value in fields.items():
            values[block_id] = {block_id: value}
        submitted = self._send(self.sender.view_submission(USER_ID, view, values))
        body = _ack_body(submitted)
        errors = body.get("errors")
        if body.get("response_action") == "errors" and isinstance(errors, dict):
            problems = "; ".join(f"{key}: {value}" for key, value in errors.items())
            raise DemoError(f"The form was not accepted: {problems}")

    def click(self, label: str) -> None:
        if not label:
            raise DemoError("Click what? e.g. `click Delete`")
        for key in reversed(self.screen.clickable):
            button = render.find_button(self.screen.clickable[key], label)
            if button is not None:
                break
        else:
            raise DemoError(f"There is no [ {label} ] button on the recent messages.")
        if isinstance(button.get("confirm"), dict):
            self._pending = (key, button)
            self.printer.show(
                render.render_confirm(button["confirm"], self._users(), emoji=self.printer.emoji)
            )
            return
        self._press(key, button)

    def answer_dialog(self, confirmed: bool) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            raise DemoError("There is no confirmation dialog open.")
        if not confirmed:
            self.printer.note("(cancelled)")
            return
        self._press(*pending)

    def _press(self, key: tuple[str, str, str], button: dict[str, Any]) -> None:
        kind, channel, ts = key
        self.printer.note(f"(you click [ {render.button_label(button)} ])")
        if button.get("url"):
            self.printer.note(f"(that button opens {button['url']})")
        home = self.workspace.home_view(USER_ID) if kind == "h" else None
        if home is not None:
            self._send(
                self.sender.block_action(
                    USER_ID, str(button.get("action_id", "")), button.get("value"), view=home
                )
            )
            return
        sent = self._send(
            self.sender.block_action(
                USER_ID,
                str(button.get("action_id", "")),
                button.get("value"),
                channel_id=channel,
                message_ts=ts,
                is_ephemeral=kind == "e",
            )
        )
        self._show_ack(sent)

    def reply(self, text: str) -> None:
        if not text:
            raise DemoError("Reply what? e.g. `reply 100`")
        found = self._latest_try_thread()
        if found is None:
            raise DemoError(
                "No /tune try thread is open, so nobody would answer: `/tune try MODEL PROMPT` opens one "
                "(`say TEXT` posts in #general)."
            )
        channel, thread = found
        self._send(self.sender.message(USER_ID, channel, self._mentions(text), thread_ts=thread))
        self._awaiting_bot = True

    def home(self) -> None:
        """Open the Home tab: Slack sends app_home_opened, the bot publishes the view."""
        before = self.workspace.home_view(USER_ID)
        version = len(before.history) if before is not None else 0
        self._send(self.sender.app_home_opened(USER_ID))
        self._awaiting_bot = False
        deadline = time.monotonic() + SETTLE_CAP_SECONDS
        while True:
            view = self.workspace.home_view(USER_ID)
            if view is not None and len(view.history) > version:
                break
            if time.monotonic() > deadline:
                if view is None:
                    raise DemoError("The bot did not publish a Home tab.")
                break
            self.drain()
            time.sleep(0.05)
        self._home_shown = view.id
        self.screen.clickable[("h", "", view.id)] = list(view.blocks)
        self.printer.show(render.render_home(view.to_api(), self._users(), emoji=self.printer.emoji))

    def say(self, text: str) -> None:
        if not text:
            raise DemoError("Say what?")
        text = self._mentions(text)
        self._send(self.sender.message(USER_ID, CHANNEL, text))
        self._awaiting_bot = f"<@{self.workspace.bot_user_id}>" in text  # it answers mentions only

    def wait(self, arg: str) -> None:
        word = arg.strip().lower()
        if word in ("", "done"):
            self.wait_done()
            return
        try:
            seconds = float(word.removesuffix("s"))
        except ValueError:
            raise DemoError("`wait` takes a number of seconds or `done`.") from None
        self.pump(max(0.0, min(seconds, 3600.0)))

    def wait_done(self, timeout: float = WAIT_DONE_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not self.jobs_settled():
            self.drain()
            if time.monotonic() > deadline:
                raise DemoError(f"Tuning jobs were still running after {timeout:.0f} s.")
            time.sleep(0.05)
        self.settle()

    def jobs_settled(self) -> bool:
        """No job is tuning, and every finished job's notice (and chart) is posted."""
        unsettled = (*PENDING_NOTICE_STATES, "starting")
        with self.store.session() as session:
            jobs = session.exec(select(TuningJob)).all()
            return all(j.state not in ACTIVE_STATES and j.notice_state not in unsettled for j in jobs)

    # ---- threads, buttons, users ----------------------------------------------------------

    def _latest_try_thread(self) -> tuple[str, str] | None:
        """(channel, thread ts) of the latest `/tune try` thread in #general or your DM with the bot."""
        with self.store.session() as session:
            row = session.exec(
                select(TryThread)
                .where(col(TryThread.channel_id).in_([CHANNEL, DM_CHANNEL]))
                .order_by(col(TryThread.created_at).desc())
                .limit(1)
            ).first()
            return (row.channel_id, row.thread_ts) if row is not None else None

    def _users(self) -> dict[str, str]:
        return {user.id: user.name for user in self.workspace.users}

    def _mentions(self, text: str) -> str:
        return text.replace(f"@{self.workspace.bot_name}", f"<@{self.workspace.bot_user_id}>")

    def _resolve(self, name: str) -> Path:
        path = Path(name).expanduser()
        candidates = [path]
        if not path.is_absolute() and self.base_dir is not None:
            candidates.append(self.base_dir / path)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise DemoError(f"There is no file `{name}`.")

    # ---- talking to the bot -------------------------------------------------------------

    def _send(self, coro: Coroutine[Any, Any, Sent]) -> Sent:
        self._awaiting_bot = True
        try:
            sent = self._loop.run_until_complete(coro)
        except httpx.HTTPError as exc:
            raise DemoError(f"The bot did not answer: {type(exc).__name__}: {exc}") from exc
        if sent is not None and sent.status_code != 200:
            raise DemoError(f"The bot answered HTTP {sent.status_code}: {sent.text[:200]}")
        return sent

    def _show_ack(self, sent: SentRequest) -> None:
        """What the bot put in its acknowledgement: Slack shows it to the user alone."""
        body = _ack_body(sent)
        text = body.get("text")
        blocks = body.get("blocks")
        if not text and not blocks:
            return
        try:
            if body.get("response_type") == "in_channel":
                self.workspace.post_message(CHANNEL, text, blocks=blocks)
            else:
                self.workspace.post_ephemeral(CHANNEL, USER_ID, text, blocks=blocks, source="response_url")
        except SlackError as exc:
            raise DemoError(f"Slack would not show the bot's answer ({exc.code}).") from exc

    # ---- showing changes ------------------------------------------------------------------

    def drain(self) -> int:
        """Print every queued change (an edit directly followed by another edit of the same
        message is skipped: only the newer one is shown)."""
        changes: list[Change] = []
        while True:
            try:
                changes.append(self._changes.get_nowait())
            except queue.Empty:
                break
        for index, change in enumerate(changes):
            following = changes[index + 1] if index + 1 < len(changes) else None
            if (
                change.kind in UPDATE_KINDS
                and following is not None
                and following.kind == change.kind
                and following.key == change.key
            ):
                continue
            if self.screen.show(change):
                self._awaiting_bot = False  # the bot answered
        return len(changes)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            self.drain()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.05, left))

    def settle(self, quiet: float = QUIET_SECONDS, cap: float = SETTLE_CAP_SECONDS) -> None:
        """Print changes until the bot has shown something (when it was sent a request) and the
        workspace has then been still for `quiet` seconds; at most `cap` seconds."""
        started = time.monotonic()
        version = self.workspace.version
        changed_at = started
        while True:
            self.drain()
            now = time.monotonic()
            current = self.workspace.version
            if current != version:
                version, changed_at = current, now
            elif (now - changed_at >= quiet and not self._awaiting_bot) or now - started >= cap:
                break
            time.sleep(0.02)
        self.drain()
        self._awaiting_bot = False


def _ack_body(sent: SentRequest) -> dict[str, Any]:
    """The bot's acknowledgement: nothing, plain text, or a JSON message."""
    if not sent.text.strip():
        return {}
    if "json" in sent.response.headers.get("content-type", ""):
        try:
            body = sent.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    return {"text": sent.text}
