"""`tunebot` command line: run the bot, run the tuning-API emulator, or the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from bot.config import Settings

log = logging.getLogger("bot.cli")

RUN_DESCRIPTION = """\
Run the Slack app. With SLACK_APP_TOKEN it connects through Socket Mode (no public URL);
otherwise it serves Slack's requests over HTTP on /slack/events (SLACK_SIGNING_SECRET), with
/healthz for health checks. Settings come from the environment or a .env file (see README);
TUNEBOT_BACKEND=vertex tunes on Vertex AI, gemini (the default) on the Gemini API."""

DEMO_DESCRIPTION = """\
Try tunebot offline: the real bot, a stand-in Slack workspace and the tuning-API emulator,
all on 127.0.0.1, driven from this terminal (type `help`). No credentials needed."""

EMULATOR_DESCRIPTION = """\
Serve the offline tuning-API emulator: the Gemini API tuning surface (v1beta/tunedModels,
operations, generateContent), the Vertex AI one (v1/projects/P/locations/L/tuningJobs
create/get/list/cancel, endpoints generateContent/undeploy/delete, models delete) and the
Cloud Storage media upload the Vertex backend uses. Any non-empty API key or bearer token is
accepted. Point the bot at it with GEMINI_API_BASE, or VERTEX_API_BASE and GCS_API_BASE."""

# `tunebot emulator` and `tunebot demo` run stand-ins that live beside the product.
STAND_IN_MODULES = {"emulator": "standins.emulator.server", "demo": "standins.demo.command"}
STAND_IN_COMMANDS = {
    "emulator": (
        "run the offline tuning-API emulator (Gemini API, Vertex AI, Cloud Storage)",
        EMULATOR_DESCRIPTION,
    ),
    "demo": ("try tunebot offline: a Slack stand-in in this terminal", DEMO_DESCRIPTION),
}

_TYPE_WORDS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
}
_BOUND_WORDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}
# Settings whose value may hold a password: named, never quoted.
_UNQUOTED = {"DATABASE_URL"}


def _shown(name: str, given: object) -> str:
    if name not in _UNQUOTED:
        return str(given)
    text = str(given)
    return text.split("://", 1)[0] + "://…" if "://" in text else "…"


def settings_problems(error: Exception) -> list[str]:
    """One line per bad setting: its name, what was given and what is allowed."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return [f"tunebot: a setting is not valid: {error}"]
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem.get("loc", ())) or "a setting"
        given = problem.get("input")
        context = problem.get("ctx") or {}
        kind = problem.get("type", "")
        if kind == "literal_error":
            allowed = str(context.get("expected", "")).replace("'", "").replace(" or ", ", ")
            wanted = f"allowed values: {allowed}"
        elif kind in _TYPE_WORDS:
            wanted = f"it must be {_TYPE_WORDS[kind]}"
        elif kind in _BOUND_WORDS:
            key, words = _BOUND_WORDS[kind]
            bound = context.get(key)
            wanted = (
                f"it must be {words} {bound:g}" if isinstance(bound, float) else f"it must be {words} {bound}"
            )
        elif "error" in context:
            wanted = str(context["error"])
        else:
            wanted = str(problem.get("msg", "not valid"))
        lines.append(f"tunebot: {name}={_shown(name, given)} is not valid; {wanted}.")
    return lines


def load_settings() -> Settings | None:
    """The settings, or None after printing what is wrong with them."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        for line in settings_problems(exc):
            print(line, file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tunebot", description="Fine-tune Gemini models from Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)",
        description=RUN_DESCRIPTION,
    )
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")
    run.add_argument("--host", default=None, help="HTTP host (default: HOST or 0.0.0.0)")
    run.add_argument(
        "--offline",
        action="store_true",
        help="run the offline demo instead, whatever the settings say (`tunebot demo` does the same)",
    )

    # The stand-ins are not part of the product package: their arguments are loaded only
    # when their command is the one asked for (`bot` never imports `standins`).
    chosen = _chosen_command(argv if argv is not None else sys.argv[1:])
    for name, (help_text, description) in STAND_IN_COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=description)
        if name == chosen:
            _stand_in(name).add_arguments(sub)

    health = commands.add_parser(
        "health",
        help="exit 0 if the bot on this machine answers its health check (Docker HEALTHCHECK)",
        description="Ask http://127.0.0.1:PORT/healthz (PORT from the environment, default 3000); "
        "both HTTP mode and Socket Mode answer it.",
    )
    health.add_argument("--port", type=int, default=None, help="the bot's port (default: PORT or 3000)")

    args = parser.parse_args(argv)
    if args.command == "health":
        return run_health(args)
    if args.command in STAND_IN_COMMANDS:
        return int(_stand_in(args.command).run(args) or 0)
    return run_bot(args)


def _chosen_command(argv: Sequence[str]) -> str | None:
    return next((word for word in argv if not word.startswith("-")), None)


def _stand_in(command: str) -> Any:
    """The stand-in module behind `tunebot emulator` or `tunebot demo`, imported on demand."""
    return importlib.import_module(STAND_IN_MODULES[command])


def _offline_demo() -> int:
    return int(_stand_in("demo").run_demo(script=None, out=None, step_seconds=0.05, backend="vertex"))


def run_health(args: argparse.Namespace) -> int:
    import os

    from bot.health import probe

    raw = str(args.port) if args.port is not None else os.environ.get("PORT", "3000")
    if not raw.isdigit():
        print(f"tunebot: PORT={raw} is not valid; it must be a whole number.", file=sys.stderr)
        return 2
    healthy, said = probe(int(raw))
    print(said)
    return 0 if healthy else 1


def run_bot(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging

    if args.offline:
        return _offline_demo()
    settings = load_settings()
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.secrets())
    missing = settings.missing_for_run()
    if missing:
        from bot.setup_help import setup_help

        print(setup_help(settings, missing), file=sys.stderr)
        if args.offline or (sys.stdin.isatty() and sys.stdout.isatty()):
            # A person at a terminal: show them the bot working while they set it up.
            print("\nStarting the offline demo meanwhile (type `help`, Ctrl-D to leave)…\n", file=sys.stderr)
            return _offline_demo()
        return 2
    if args.port is not None:
        settings.port = args.port
    if args.host is not None:
        settings.host = args.host
    if settings.socket_mode:
        return asyncio.run(_socket_mode(settings))
    return _http_mode(settings)


def _http_mode(settings: Settings) -> int:
    import uvicorn

    from bot.runtime import build_runtime, create_asgi_app

    runtime = build_runtime(settings)
    log.info(
        "tunebot listening on http://%s:%d/slack/events (backend %s, database %s)",
        settings.host,
        settings.port,
        runtime.ctx.backend.name,
        _database_kind(settings.database_url),
    )
    app = create_asgi_app(runtime)
    _freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


async def _socket_mode(settings: Settings) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.health import socket_mode_health_app
    from bot.runtime import build_runtime

    runtime = build_runtime(settings)
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    # Socket Mode needs no listener for Slack, but containers probe /healthz on PORT.
    health = uvicorn.Server(
        uvicorn.Config(
            socket_mode_health_app(handler.client.is_connected, runtime.ctx.backend.name),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
    )
    health_task = asyncio.create_task(health.serve())
    await runtime.start()
    _freeze_startup_objects()
    log.info("tunebot connected through Socket Mode (backend %s)", runtime.ctx.backend.name)
    try:
        await handler.start_async()
    finally:
        health.should_exit = True
        await health_task
        await runtime.aclose()
    return 0


def _freeze_startup_objects() -> None:
    """Everything built at startup (modules, the Bolt app, SQLAlchemy's mappers: about
    100,000 objects) lives as long as the process. Taking it out of the garbage
    collector's sight keeps each full collection from pausing requests for ~30 ms."""
    gc.collect()
    gc.freeze()


def _database_kind(url: str) -> str:
    return url.split(":", 1)[0] if "://" in url else "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
