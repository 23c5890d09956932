"""Printing what changed in the workspace the way Slack would show it: messages and their
edits, thread replies under their parent, ephemerals, forms and files saved to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.presentation.blocks import UPLOAD_CALLBACK
from standins.demo import render
from standins.demo.changes import UPDATE_KINDS, Change
from standins.demo.printer import Printer
from standins.fakeslack import Workspace


class Screen:
    def __init__(self, workspace: Workspace, printer: Printer, out_dir: Path) -> None:
        self.workspace = workspace
        self.printer = printer
        self.out_dir = out_dir
        # The blocks of each message with buttons, as shown; the most recent last.
        self.clickable: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._thread_shown: str | None = None  # the thread printed last (its root ts)
        self._saved: dict[str, str] = {}  # file id -> path it was saved to

    def show(self, change: Change) -> bool:
        """Print one change; True when it came from the bot (ephemerals and forms are the bot's)."""
        from_bot = change.key[0] != "m" or change.user == self.workspace.bot_user_id
        users = {user.id: user.name for user in self.workspace.users}
        emoji, ansi = self.printer.emoji, self.printer.ansi
        if change.kind in ("message_deleted", "ephemeral_deleted"):
            self.clickable.pop(change.key, None)
            whose = "a message only visible to you" if change.key[0] == "e" else "a message"
            self.printer.show([f"({whose} was deleted)"])
            return from_bot
        if change.view is not None:
            form = render.render_view(change.view, users, emoji=emoji)
            if change.view.get("callback_id") != UPLOAD_CALLBACK:
                form.append(
                    "(the demo does not fill in this form: type the command with its options instead, "
                    'e.g. `/tune start DATASET name="…" epochs=5`)'
                )
            self.printer.show(form)
            return from_bot
        version = change.version
        if version is None:
            return from_bot
        edited = change.kind in UPDATE_KINDS
        blocks = version.blocks
        if change.key[0] == "e":
            author = self.workspace.bot_name  # an ephemeral's user is who sees it; the bot wrote it
            previous = change.previous
            if (
                edited
                and previous is not None
                and previous.blocks == blocks
                and previous.text != version.text
            ):
                # response_url + replace_original replaces the whole message in Slack; the
                # stand-in keeps the old blocks when only text is sent, so show the new text
                blocks = None
        elif change.user == self.workspace.bot_user_id:
            author = self.workspace.bot_name
        else:
            author = users.get(change.user, change.user)
        entry = render.Entry(
            author=author,
            ts=change.ts,
            text=version.text,
            blocks=blocks,
            kind="ephemeral" if change.key[0] == "e" else "message",
            in_thread=change.in_thread,
            edited=edited,
            broadcast=change.broadcast,
            files=tuple(self._save_file(file_id) for file_id in version.files),
        )
        lines: list[str] = []
        thread = change.thread_ts if change.in_thread else change.ts
        if change.in_thread and change.thread_ts and self._thread_shown != change.thread_ts:
            parent = self.workspace.message(change.key[1], change.thread_ts)
            if parent is not None:
                parent_author = (
                    self.workspace.bot_name if parent.is_bot else users.get(parent.user, parent.user)
                )
                lines.append(render.thread_intro(parent_author, parent.text, users, emoji=emoji))
        lines.extend(render.render_entry(entry, users, emoji=emoji, ansi=ansi))
        self.printer.show(lines, key=change.key, replace=edited and self._thread_shown == thread)
        self._thread_shown = thread
        self.clickable.pop(change.key, None)  # re-inserted last: the most recent message wins
        if render.buttons(blocks):
            self.clickable[change.key] = list(blocks or [])
        return from_bot

    def _save_file(self, file_id: str) -> render.SavedFile:
        stored = self.workspace.file(file_id)
        if stored is None:
            return render.SavedFile(name=file_id, title="", path=None)
        path = self._saved.get(file_id)
        if path is None and stored.content and stored.user == self.workspace.bot_user_id:
            target = self.out_dir / Path(stored.name).name
            target.write_bytes(stored.content)
            path = self._saved[file_id] = str(target)
        return render.SavedFile(name=stored.name, title=stored.title, path=path)
