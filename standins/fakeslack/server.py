"""The fake Slack Web API as a Starlette app over a `Workspace`.

Routes:
  /api/{method}                          Web API methods (GET query, form, multipart or JSON body)
  /upload/v1/{upload_id}                 upload URLs handed out by files.getUploadURLExternal
  /files-pri/{team}-{file_id}/{name}     file downloads (also .../download/{name})
  /response/{id}                         response_url targets
  /healthz
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from standins.fakeslack.workspace import (
    Channel,
    Download,
    Message,
    RecordedCall,
    SlackError,
    Workspace,
    _flag,
)

JSON_TYPE = "application/json; charset=utf-8"

LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Slack</title></head>
<body class="signin">
<h1>Sign in to {team_name}</h1>
<p>{team_domain}.slack.com</p>
<form id="signin_form" action="/signin" method="post">
<input type="email" name="email" placeholder="name@work-email.com">
<input type="password" name="password" placeholder="password">
<button type="submit">Sign in</button>
</form>
</body>
</html>
"""


class Params(dict[str, Any]):
    """Request parameters with Slack's coercions (form values are strings)."""

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is None or value == "":
            return None
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else f"{value}"
        )

    def parsed(self, name: str, error: str = "invalid_arguments") -> Any:
        """A parameter that is a JSON object/array, sent either as such (JSON body) or as a JSON string."""
        value = self.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise SlackError(error) from None
        return value

    def flag(self, name: str) -> bool:
        return _flag(self.get(name))

    def number(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments", messages=[f"{name} must be an integer"]) from None


Handler = Callable[[Workspace, Params], dict[str, Any]]


def _ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


# --------------------------------------------------------------------------- methods


def _auth_test(ws: Workspace, p: Params) -> dict[str, Any]:
    return _ok(
        url=f"https://{ws.team_domain}.slack.com/",
        team=ws.team_name,
        user=ws.bot_name,
        team_id=ws.team_id,
        user_id=ws.bot_user_id,
        bot_id=ws.bot_id,
        is_enterprise_install=False,
    )


def _api_test(ws: Workspace, p: Params) -> dict[str, Any]:
    if p.get("error"):
        raise SlackError(str(p["error"]))
    return _ok(args=dict(p))


def _resolve_channel(ws: Workspace, channel_id: str | None) -> str | None:
    """Slack lets you post to a user id: that opens (or reuses) the DM with them."""
    if channel_id and channel_id[:1] in ("U", "W") and ws.channel(channel_id) is None:
        if ws.user(channel_id) is None:
            raise SlackError("channel_not_found")
        return _open_im(ws, channel_id).id
    return channel_id


def _open_im(ws: Workspace, user_id: str) -> Channel:
    return ws.open_im(user_id)


def _message_response(ws: Workspace, message: Message) -> dict[str, Any]:
    return ws.message_to_api(message, include_metadata=True)


def _chat_post_message(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _resolve_channel(ws, p.text("channel"))
    if not channel:
        raise SlackError("channel_not_found")
    message = ws.post_message(
        channel,
        p.text("text"),
        blocks=p.parsed("blocks", "invalid_blocks_format"),
        thread_ts=p.text("thread_ts"),
        metadata=p.parsed("metadata", "invalid_metadata_format"),
        reply_broadcast=p.flag("reply_broadcast"),
    )
    return _ok(channel=channel, ts=message.ts, message=_message_response(ws, message))


def _chat_update(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = p.text("channel")
    ts = p.text("ts")
    if not channel:
        raise SlackError("channel_not_found")
    if not ts:
        raise SlackError("message_not_found")
    message = ws.update_message(
        channel,
        ts,
        text=p.text("text") if "text" in p else None,
        blocks=p.parsed("blocks", "invalid_blocks_format"),
        metadata=p.parsed("metadata", "invalid_metadata_format"),
    )
    return _ok(channel=channel, ts=ts, text=message.text, message=_message_response(ws, message))


def _chat_post_ephemeral(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _resolve_channel(ws, p.text("channel"))
    user = p.text("user")
    if not channel:
        raise SlackError("channel_not_found")
    if not user:
        raise SlackError("user_not_in_channel")
    ephemeral = ws.post_ephemeral(
        channel,
        user,
        p.text("text"),
        blocks=p.parsed("blocks", "invalid_blocks_format"),
        thread_ts=p.text("thread_ts"),
    )
    return _ok(message_ts=ephemeral.message_ts)


def _chat_delete(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = p.text("channel")
    ts = p.text("ts")
    if not channel:
        raise SlackError("channel_not_found")
    ws.delete_message(channel, ts or "")
    return _ok(channel=channel, ts=ts)


def _chat_get_permalink(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = p.text("channel")
    if not channel:
        raise SlackError("channel_not_found")
    return _ok(channel=channel, permalink=ws.permalink(channel, p.text("message_ts") or ""))


def _trigger(p: Params) -> str | None:
    return p.text("trigger_id") or p.text("interactivity_pointer")


def _views_open(ws: Workspace, p: Params) -> dict[str, Any]:
    return _ok(view=ws.open_view(_trigger(p), p.parsed("view")).to_api())


def _views_push(ws: Workspace, p: Params) -> dict[str, Any]:
    return _ok(view=ws.push_view(_trigger(p), p.parsed("view")).to_api())


def _views_update(ws: Workspace, p: Params) -> dict[str, Any]:
    view = ws.update_view(
        p.parsed("view"), view_id=p.text("view_id"), external_id=p.text("external_id"), hash=p.text("hash")
    )
    return _ok(view=view.to_api())


def _views_publish(ws: Workspace, p: Params) -> dict[str, Any]:
    return _ok(view=ws.publish_view(p.text("user_id") or "", p.parsed("view")).to_api())


def _files_info(ws: Workspace, p: Params) -> dict[str, Any]:
    if "files:read" in ws.missing_scopes:
        raise SlackError("missing_scope")
    stored = ws.file(p.text("file") or "")
    if stored is None or not stored.completed:
        raise SlackError("file_not_found")
    return _ok(
        file=stored.to_api(),
        content="",
        is_truncated=False,
        comments=[],
        response_metadata={"next_cursor": ""},
    )


def _files_get_upload_url(ws: Workspace, p: Params) -> dict[str, Any]:
    stored = ws.start_upload(
        p.text("filename"), p.get("length"), alt_txt=p.text("alt_txt"), snippet_type=p.text("snippet_type")
    )
    return _ok(upload_url=ws.upload_url(stored), file_id=stored.id)


def _files_complete_upload(ws: Workspace, p: Params) -> dict[str, Any]:
    files = p.parsed("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise SlackError("invalid_arguments", messages=["files must be a JSON array of {id, title}"])
    channel = p.text("channel_id")
    if not channel and p.text("channels"):
        channel = (p.text("channels") or "").split(",")[0].strip()
    channel = _resolve_channel(ws, channel)
    done = ws.complete_upload(
        files, channel=channel, thread_ts=p.text("thread_ts"), initial_comment=p.text("initial_comment")
    )
    return _ok(files=[stored.to_api() for stored in done])


def _files_upload(ws: Workspace, p: Params) -> dict[str, Any]:
    raise SlackError("method_deprecated")


def _conversations_info(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = ws.channel(p.text("channel") or "")
    # Private channels and DMs the bot is not part of do not exist as far as it can tell.
    if channel is None or (not channel.bot_is_member and (channel.is_private or channel.is_im)):
        raise SlackError("channel_not_found")
    return _ok(channel=channel.to_api(ws.bot_user_id))


def _conversations_join(ws: Workspace, p: Params) -> dict[str, Any]:
    channel, already = ws.join(p.text("channel") or "")
    result = _ok(channel=channel.to_api(ws.bot_user_id))
    if already:
        result["warning"] = "already_in_channel"
        result["response_metadata"] = {"warnings": ["already_in_channel"]}
    return result


def _conversations_open(ws: Workspace, p: Params) -> dict[str, Any]:
    return ws.open_conversation(p.text("users"))


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if prefix != "offset":
            raise ValueError(cursor)
        return int(number)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None


def _page(items: list[Message], p: Params, default_limit: int) -> tuple[list[Message], str]:
    limit = max(1, min(p.number("limit", default_limit), 999))
    offset = _decode_cursor(p.text("cursor"))
    page = items[offset : offset + limit]
    next_cursor = _encode_cursor(offset + limit) if offset + limit < len(items) else ""
    return page, next_cursor


def _in_window(ts: str, p: Params) -> bool:
    value = float(ts)
    inclusive = p.flag("inclusive")
    oldest = p.text("oldest")
    latest = p.text("latest")
    if oldest is not None and (value < float(oldest) or (not inclusive and value == float(oldest))):
        return False
    return not (latest is not None and (value > float(latest) or (not inclusive and value == float(latest))))


def _readable_channel(ws: Workspace, channel_id: str | None) -> Channel:
    """Slack answers history and replies only in conversations the bot is a member of
    (chat:write.public lets it post in a public channel, not read it)."""
    channel = ws.channel(channel_id or "")
    if channel is None or (not channel.bot_is_member and (channel.is_private or channel.is_im)):
        raise SlackError("channel_not_found")
    if not channel.bot_is_member:
        raise SlackError("not_in_channel")
    return channel


def _conversations_history(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _readable_channel(ws, p.text("channel"))
    try:
        messages = [
            m for m in reversed(ws.messages(channel.id, include_replies=False)) if _in_window(m.ts, p)
        ]
    except ValueError:
        raise SlackError("invalid_ts_latest") from None
    page, next_cursor = _page(messages, p, 100)
    with_metadata = p.flag("include_all_metadata")
    return _ok(
        messages=[ws.message_to_api(m, include_metadata=with_metadata) for m in page],
        has_more=bool(next_cursor),
        pin_count=0,
        channel_actions_ts=None,
        channel_actions_count=0,
        response_metadata={"next_cursor": next_cursor},
    )


def _conversations_replies(ws: Workspace, p: Params) -> dict[str, Any]:
    channel = _readable_channel(ws, p.text("channel"))
    ts = p.text("ts")
    if not ts:
        raise SlackError("invalid_arguments", messages=["missing required field: ts"])
    thread = ws.thread(channel.id, ts)
    if not thread:
        raise SlackError("thread_not_found")
    try:
        thread = [m for m in thread if m.ts == thread[0].ts or _in_window(m.ts, p)]
    except ValueError:
        raise SlackError("invalid_ts_latest") from None
    page, next_cursor = _page(thread, p, 1000)
    with_metadata = p.flag("include_all_metadata")
    return _ok(
        messages=[ws.message_to_api(m, include_metadata=with_metadata) for m in page],
        has_more=bool(next_cursor),
        response_metadata={"next_cursor": next_cursor},
    )


def _users_info(ws: Workspace, p: Params) -> dict[str, Any]:
    user = ws.user(p.text("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return _ok(user=user.to_api())


def _users_conversations(ws: Workspace, p: Params) -> dict[str, Any]:
    channels = ws.user_conversations(p.text("user"), p.text("types"))
    limit = max(1, min(p.number("limit", 100), 1000))
    offset = _decode_cursor(p.text("cursor"))
    page = channels[offset : offset + limit]
    next_cursor = _encode_cursor(offset + limit) if offset + limit < len(channels) else ""
    return _ok(
        channels=[c.to_api(ws.bot_user_id) for c in page], response_metadata={"next_cursor": next_cursor}
    )


def _usergroups_users_list(ws: Workspace, p: Params) -> dict[str, Any]:
    return _ok(users=ws.usergroup_users(p.text("usergroup")))


def _assistant_set_status(ws: Workspace, p: Params) -> dict[str, Any]:
    ws.set_status(p.text("channel_id"), p.text("thread_ts"), p.get("status"))
    return _ok()


METHODS: dict[str, Handler] = {
    "api.test": _api_test,
    "auth.test": _auth_test,
    "chat.postMessage": _chat_post_message,
    "chat.update": _chat_update,
    "chat.postEphemeral": _chat_post_ephemeral,
    "chat.delete": _chat_delete,
    "chat.getPermalink": _chat_get_permalink,
    "views.open": _views_open,
    "views.push": _views_push,
    "views.update": _views_update,
    "views.publish": _views_publish,
    "files.info": _files_info,
    "files.getUploadURLExternal": _files_get_upload_url,
    "files.completeUploadExternal": _files_complete_upload,
    "files.upload": _files_upload,
    "conversations.info": _conversations_info,
    "conversations.history": _conversations_history,
    "conversations.replies": _conversations_replies,
    "conversations.join": _conversations_join,
    "conversations.open": _conversations_open,
    "users.info": _users_info,
    "users.conversations": _users_conversations,
    "usergroups.users.list": _usergroups_users_list,
    "assistant.threads.setStatus": _assistant_set_status,
}
NO_AUTH_METHODS = frozenset({"api.test"})


# --------------------------------------------------------------------------- request parsing


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields of a multipart body; file parts come back as bytes."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, Any] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            fields[name] = data
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields


async def _read_params(request: Request) -> Params:
    params = Params(request.query_params)
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "")
    lowered = content_type.lower()
    if lowered.startswith("application/json"):
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("invalid_json")
        params.update(data)
    elif lowered.startswith("multipart/form-data"):
        params.update(_parse_multipart(content_type, body))
    elif lowered.startswith(("application/x-www-form-urlencoded", "text/plain")) or not lowered:
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise SlackError("invalid_form_data") from None
    else:
        raise SlackError("invalid_post_type")
    return params


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _json(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers, media_type=JSON_TYPE)


def _drop_connection(request: Request) -> None:
    """Cut the client's connection now, before any byte of the answer is written.

    uvicorn's ASGI `receive` is a method of the request cycle that owns the transport;
    with the transport aborted, uvicorn discards whatever the app answers."""
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the connection to drop it")
    transport.abort()


def _error_body(error: SlackError) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error": error.code}
    if error.messages:
        body["response_metadata"] = {"messages": list(error.messages)}
    return body


# --------------------------------------------------------------------------- app


def create_app(workspace: Workspace) -> Starlette:
    """A Starlette app answering like slack.com for `workspace`."""

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        token: str | None = _bearer(request)
        params = Params()
        status = 200
        headers: dict[str, str] = {}
        try:
            try:
                params = await _read_params(request)
            finally:
                form_token = params.pop("token", None)
                if token is None and isinstance(form_token, str) and form_token:
                    token = form_token
            handler = METHODS.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            if method not in NO_AUTH_METHODS:
                if token is None:
                    raise SlackError("not_authed")
                if token != workspace.bot_token:
                    raise SlackError("invalid_auth")
            fault = workspace.take_fault(method)
            if fault is not None and fault.kind == "delay":
                await asyncio.sleep(fault.seconds)
                fault = None
            if fault is not None and fault.kind == "ratelimit":
                status = 429
                headers["Retry-After"] = str(fault.retry_after)
                raise SlackError("ratelimited", status=429)
            if fault is not None and fault.kind not in ("stored_error", "stored_drop"):
                raise SlackError(fault.error, status=fault.status)
            wait = workspace.rate_limits.admit(method, params.text("channel"), workspace.clock())
            if wait is not None:  # over Slack's limit for this method (`ratelimits.py`)
                status = 429
                headers["Retry-After"] = str(wait)
                raise SlackError("ratelimited", status=429)
            body = handler(workspace, params)
            if fault is not None and fault.kind == "stored_drop":
                _drop_connection(request)
            if fault is not None and fault.kind == "stored_error":
                raise SlackError(fault.error, status=fault.status)
        except SlackError as error:
            status = error.status
            body = _error_body(error)
        workspace.record_call(
            RecordedCall(
                method=method,
                params=dict(params),
                token_present=token is not None,
                time=time.time(),
                http_method=request.method,
                content_type=request.headers.get("content-type", ""),
                token_valid=token == workspace.bot_token,
                status=status,
                response=body,
            )
        )
        return _json(body, status, headers)

    async def upload(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        if content_type.lower().startswith("multipart/form-data"):
            fields = _parse_multipart(content_type, body)
            file_parts = [v for v in fields.values() if isinstance(v, bytes)]
            body = file_parts[0] if file_parts else b""
        try:
            stored = workspace.receive_upload(request.path_params["upload_id"], body)
        except SlackError as error:
            return PlainTextResponse(error.code, status_code=error.status)
        return PlainTextResponse(f"OK - {stored.size}")

    async def download(request: Request) -> Response:
        team_file = request.path_params["team_file"]
        team, _, file_id = team_file.partition("-")
        stored = workspace.file(file_id)
        now = time.time()
        authorized = _bearer(request) == workspace.bot_token
        if stored is None or team != workspace.team_id:
            workspace.record_download(Download(file_id, authorized, 404, "not_found", now))
            return PlainTextResponse("File not found", status_code=404)
        with workspace.lock:
            location = stored.redirect_to
            if location is not None and stored.redirects_left is not None:
                stored.redirects_left -= 1
                if stored.redirects_left <= 0:
                    stored.redirect_to = None
                    stored.redirects_left = None
        if location is not None:
            workspace.record_download(Download(file_id, authorized, 302, "redirect", now))
            return RedirectResponse(location, status_code=302)
        if not authorized or "files:read" in workspace.missing_scopes:
            workspace.record_download(Download(file_id, authorized, 200, "login_page", now))
            page = LOGIN_PAGE.format(team_name=workspace.team_name, team_domain=workspace.team_domain)
            return HTMLResponse(page)
        workspace.record_download(Download(file_id, authorized, 200, "file", now))
        return Response(
            stored.content,
            media_type=stored.mimetype or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{stored.name}"'},
        )

    async def response_url(request: Request) -> Response:
        body = await request.body()
        content_type = request.headers.get("content-type", "").lower()
        try:
            if content_type.startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl(body.decode("utf-8")))
                data = json.loads(form.get("payload", "{}"))
            else:
                data = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(data, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        try:
            workspace.respond(request.path_params["response_id"], data)
        except SlackError as error:
            if error.status != 200:
                return PlainTextResponse(error.code, status_code=error.status)
            return _json(_error_body(error), 400)
        return _json({"ok": True})

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/upload/v1/{upload_id}", upload, methods=["POST", "PUT"]),
            Route("/files-pri/{team_file}/download/{name}", download, methods=["GET"]),
            Route("/files-pri/{team_file}/{name}", download, methods=["GET"]),
            Route("/response/{response_id}", response_url, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
