"""`tunebot emulator`: serve the offline tuning-API emulator (Gemini API, Vertex AI, Cloud
Storage) until interrupted."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from standins.emulator.app import create_app
from standins.emulator.config import EmulatorConfig, FaultConfig

log = logging.getLogger("standins.emulator")


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is a probability between 0 and 1, not {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"seconds must not be negative, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    parser.add_argument(
        "--step-seconds",
        type=_seconds,
        default=1.0,
        metavar="S",
        help="simulated seconds per tuning step (default 1; 0 finishes jobs at once)",
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="keep models in this JSON file across restarts"
    )
    parser.add_argument(
        "--latency", type=_seconds, default=0.0, metavar="S", help="added latency per request"
    )
    parser.add_argument(
        "--rate-429", type=_rate, default=0.0, metavar="P", help="share of requests answered 429"
    )
    parser.add_argument(
        "--rate-500", type=_rate, default=0.0, metavar="P", help="share of requests answered 500"
    )
    parser.add_argument(
        "--rate-503", type=_rate, default=0.0, metavar="P", help="share of requests answered 503"
    )
    parser.add_argument(
        "--retry-after", type=_seconds, default=1.0, metavar="S", help="Retry-After sent with 429 (default 1)"
    )
    parser.add_argument(
        "--fail-model",
        action="append",
        default=[],
        metavar="ID",
        help="make tuning of this model id / display name / pattern fail (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault-injection RNG")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    faults = FaultConfig(
        latency_seconds=args.latency,
        rate_429=args.rate_429,
        rate_500=args.rate_500,
        rate_503=args.rate_503,
        retry_after_seconds=args.retry_after,
        fail_models=tuple(args.fail_model),
    )
    return EmulatorConfig(
        step_seconds=args.step_seconds, state_file=args.state, faults=faults, seed=args.seed
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"tunebot emulator: {exc}")
        return 2
    app = create_app(config)
    url = f"http://{args.host}:{args.port}"
    print(
        f"Tuning API emulator on {url}: Gemini API, Vertex AI (v1, v1beta1) and Cloud Storage\n"
        "(an emulation: no model is trained or run).\n"
        f"Point tunebot at it with GEMINI_API_BASE={url} and any GOOGLE_API_KEY, or for the Vertex AI\n"
        f"backend with TUNEBOT_BACKEND=vertex VERTEX_API_BASE={url} GCS_API_BASE={url} and any\n"
        "VERTEX_ACCESS_TOKEN, VERTEX_PROJECT and VERTEX_BUCKET."
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind the port
        return exc.code if isinstance(exc.code, int) else 1
    return 0
