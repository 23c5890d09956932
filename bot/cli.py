"""`tunebot` command line: run the bot, run the tuning-API emulator, or the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence

from bot.config import Settings

log = logging.getLogger("bot.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tunebot", description="Fine-tune Gemini models from Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)"
    )
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")
    run.add_argument("--host", default=None, help="HTTP host (default: HOST or 0.0.0.0)")
    run.add_argument(
        "--offline",
        action="store_true",
        help="without Slack credentials, run the offline demo instead of exiting (the default on a terminal)",
    )

    emulator = commands.add_parser("emulator", help="run the offline Gemini tuning-API emulator")
    from bot.emulator import server as emulator_server

    emulator_server.add_arguments(emulator)

    demo = commands.add_parser("demo", help="try tunebot offline: a Slack stand-in in this terminal")
    demo.add_argument("--script", default=None, help="run the lines of FILE instead of reading the terminal")
    demo.add_argument("--out", default=None, help="folder for charts and the demo database (default: temp)")
    demo.add_argument("--step-seconds", type=float, default=0.05, help="emulated seconds per tuning step")
    demo.add_argument(
        "--backend",
        choices=("gemini", "vertex"),
        default="gemini",
        help="which emulated tuning service to use",
    )

    args = parser.parse_args(argv)
    if args.command == "emulator":
        return int(emulator_server.run(args) or 0)
    if args.command == "demo":
        from bot.demo.terminal import run_demo

        return run_demo(
            script=args.script, out=args.out, step_seconds=args.step_seconds, backend=args.backend
        )
    return run_bot(args)


def run_bot(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.secrets())
    missing = settings.missing_for_run()
    if missing:
        from bot.setup_help import setup_help

        print(setup_help(settings, missing), file=sys.stderr)
        if args.offline or (sys.stdin.isatty() and sys.stdout.isatty()):
            # A person at a terminal: show them the bot working while they set it up.
            print("\nStarting the offline demo meanwhile (type `help`, Ctrl-D to leave)…\n", file=sys.stderr)
            from bot.demo.terminal import run_demo

            return run_demo(script=None, out=None, step_seconds=0.05)
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
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.runtime import build_runtime

    runtime = build_runtime(settings)
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    await runtime.start()
    _freeze_startup_objects()
    log.info("tunebot connected through Socket Mode (backend %s)", runtime.ctx.backend.name)
    try:
        await handler.start_async()
    finally:
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
