"""`tunebot demo`: its arguments and how it runs (loaded by the CLI only for this command)."""

from __future__ import annotations

import argparse

from standins.demo.terminal import run_demo


def add_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument(
        "--script", default=None, metavar="FILE", help="run the lines of FILE instead of reading the terminal"
    )
    demo.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="folder for charts and the demo database (default: a temporary folder, removed on exit)",
    )
    demo.add_argument(
        "--step-seconds",
        type=float,
        default=0.05,
        metavar="S",
        help="emulated seconds per tuning step (default: %(default)s)",
    )
    demo.add_argument(
        "--backend",
        choices=("gemini", "vertex"),
        default="vertex",
        help="which emulated tuning service to use: vertex (Vertex AI, the default) or gemini "
        "(the legacy Gemini API)",
    )


def run(args: argparse.Namespace) -> int:
    return run_demo(script=args.script, out=args.out, step_seconds=args.step_seconds, backend=args.backend)


__all__ = ["add_arguments", "run", "run_demo"]
