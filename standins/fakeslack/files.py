"""Files (files.getUploadURLExternal/completeUploadExternal, uploads, downloads)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from standins.fakeslack.chat import ChatMixin
from standins.fakeslack.records import Download, SlackError, StoredFile, WorkspaceEvent, _filetype, _mimetype


class FilesMixin(ChatMixin):
    """Files people shared and files the bot uploads (external upload flow)."""

    # ------------------------------------------------------------------ files

    def add_file(
        self,
        name: str,
        content: bytes,
        filetype: str = "text",
        mimetype: str = "text/plain",
        *,
        title: str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """Register a file someone uploaded; returns its files.info-style dict."""
        with self._lock:
            stored = StoredFile(
                id=self._new_id("F"),
                name=name,
                title=title or name,
                content=bytes(content),
                filetype=filetype,
                mimetype=mimetype,
                user=user or self.bot_user_id,
                team=self.team_id,
                created=int(time.time()),
                base_url=self.base_url,
            )
            self._files[stored.id] = stored
            self._touch()
            return stored.to_api()

    def file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    @property
    def files(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def uploads(self, channel: str | None = None) -> list[StoredFile]:
        """Files the bot uploaded and shared (files.completeUploadExternal), oldest first."""
        with self._lock:
            return [
                f
                for f in self._files.values()
                if f.upload_id is not None and f.completed and (channel is None or f.channel == channel)
            ]

    def start_upload(
        self,
        filename: str | None,
        length: Any,
        *,
        alt_txt: str | None = None,
        snippet_type: str | None = None,
    ) -> StoredFile:
        with self._lock:
            if not filename:
                raise SlackError("invalid_arguments", messages=["missing required field: filename"])
            try:
                declared = int(length)
            except (TypeError, ValueError):
                raise SlackError("invalid_arguments", messages=["missing required field: length"]) from None
            if declared < 0:
                raise SlackError("invalid_arguments", messages=["length must be non-negative"])
            upload_id = secrets.token_urlsafe(12)
            stored = StoredFile(
                id=self._new_id("F"),
                name=filename,
                title=filename,
                content=b"",
                filetype=snippet_type or _filetype(filename),
                mimetype=_mimetype(filename),
                user=self.bot_user_id,
                team=self.team_id,
                created=int(time.time()),
                base_url=self.base_url,
                alt_txt=alt_txt,
                upload_id=upload_id,
                declared_length=declared,
                uploaded=False,
                completed=False,
            )
            self._files[stored.id] = stored
            self._uploads[upload_id] = stored.id
            self._touch()
            return stored

    def upload_url(self, stored: StoredFile) -> str:
        return f"{self.base_url}/upload/v1/{stored.upload_id}"

    def receive_upload(self, upload_id: str, content: bytes) -> StoredFile:
        with self._lock:
            file_id = self._uploads.get(upload_id)
            if file_id is None:
                raise SlackError("upload_not_found", status=404)
            stored = self._files[file_id]
            stored.content = bytes(content)
            stored.uploaded = True
            self._touch()
            return stored

    def complete_upload(
        self,
        files: list[dict[str, Any]],
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        initial_comment: str | None = None,
    ) -> list[StoredFile]:
        with self._lock:
            if not files:
                raise SlackError("invalid_arguments", messages=["missing required field: files"])
            if channel:
                self._require_channel(channel)
            done: list[StoredFile] = []
            for entry in files:
                stored = self._files.get(str(entry.get("id", "")))
                if stored is None or stored.upload_id is None or not stored.uploaded:
                    raise SlackError("file_not_found")
                if stored.completed:
                    raise SlackError("file_already_completed")
                if entry.get("title"):
                    stored.title = str(entry["title"])
                done.append(stored)
            for stored in done:
                stored.completed = True
                stored.channel = channel
                stored.thread_ts = thread_ts
                stored.initial_comment = initial_comment
            if channel:
                message = self.post_message(
                    channel,
                    initial_comment or "",
                    thread_ts=thread_ts,
                    files=[f.id for f in done],
                    subtype="file_share",
                )
                for stored in done:
                    stored.share_ts = message.ts
                    stored.thread_ts = message.thread_ts
            for stored in done:
                self._touch(WorkspaceEvent("file_uploaded", channel, stored.share_ts, stored.user, stored))
            return done

    def redirect_download(self, file_id: str, location: str, *, times: int | None = None) -> None:
        """Make the download route answer 302 -> `location` (a path or a full URL),
        `times` times or until cleared with `location=""`."""
        with self._lock:
            stored = self._files[file_id]
            stored.redirect_to = location or None
            stored.redirects_left = times

    def record_download(self, download: Download) -> None:
        with self._lock:
            self._downloads.append(download)
            self._touch()

    @property
    def downloads(self) -> list[Download]:
        with self._lock:
            return list(self._downloads)
