"""The emulator and the fake Slack in a process of their own, driven over stdin/stdout.

In production Slack and Google run elsewhere; keeping their stand-ins out of the
measured process means the figures are tunebot's own CPU, not the stand-ins'.

The fake Slack enforces Slack's rate limits on the wall clock unless `python -m bench
--slack-limits off` (`--no-slack-limits` here). Protocol: one JSON object per line each
way. Commands: `seed` (jobs), `advance` (seconds), `faults` (changes), `reset_stats`,
`stats`, `quit`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from bench.common import slack_limits
from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, start_emulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack, Workspace

BASE_MODEL = "models/gemini-1.5-flash-001-tuning"
EXAMPLES = [{"text_input": f"question {i}", "output": f"answer {i}"} for i in range(20)]


def serve(rate_limits: bool = True) -> None:
    emulator = start_emulator(EmulatorConfig(clock=FrozenClock(), step_seconds=1.0))
    slack = FakeSlack(Workspace(rate_limits=rate_limits)).start()
    service = emulator.emulator
    workspace = slack.workspace
    print(json.dumps({"emulator_url": emulator.url, "slack_api_url": slack.api_url, "slack_url": slack.url}))
    sys.stdout.flush()
    for line in sys.stdin:
        command = json.loads(line)
        answer: Any = {"ok": True}
        kind = command["cmd"]
        if kind == "seed":
            jobs = []
            for i in range(int(command["jobs"])):
                operation = service.gemini.create_tuned_model(
                    {
                        "display_name": f"bench {i}",
                        "base_model": BASE_MODEL,
                        "tuning_task": {
                            "training_data": {"examples": {"examples": EXAMPLES}},
                            "hyperparameters": {"epoch_count": 5, "batch_size": 2},
                        },
                    }
                )
                message = workspace.post_message(DEFAULT_CHANNEL, f"Tuning bench {i}…")
                meta = operation["metadata"]
                jobs.append(
                    [meta["tunedModel"], operation["name"], message.ts, int(meta.get("totalSteps", 0))]
                )
            answer = {"jobs": jobs}
        elif kind == "add_file":
            rows = int(command["bytes"]) // 60 + 1
            content = "text_input,output\n" + "".join(
                f"question {n:09d} {'x' * 20},answer {n:09d} {'y' * 10}\n" for n in range(rows)
            )
            user = workspace.ensure_user(command.get("user", "U0UPLOADER")).id
            answer = {
                "file": workspace.add_file(command["name"], content.encode(), "csv", "text/csv", user=user)
            }
        elif kind == "ephemerals":
            answer = {
                "count": len(workspace.ephemerals()),
                "texts": [e.text[:200] for e in workspace.ephemerals()],
            }
        elif kind == "advance":
            service.advance(float(command["seconds"]))
        elif kind == "faults":
            service.update_faults(command["changes"])
        elif kind == "reset_stats":
            service.reset_stats()
            workspace.clear_calls()
        elif kind == "stats":
            updates = Counter(
                str(c.params.get("ts")) for c in workspace.calls("chat.update") if c.status == 200
            )
            answer = {
                "slack_429": sum(c.status == 429 for c in workspace.calls()),
                "emulator": service.stats(),
                "slack_calls": dict(Counter(c.method for c in workspace.calls())),
                "chat_update_per_message": dict(updates),
                "cpu_seconds": time.process_time(),
            }
        elif kind == "quit":
            break
        print(json.dumps(answer))
        sys.stdout.flush()
    slack.stop()
    emulator.stop()


class StandIns:
    """The parent's handle on the stand-ins process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.stand_ins", *([] if slack_limits() else ["--no-slack-limits"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        urls = json.loads(self.process.stdout.readline())
        self.emulator_url: str = urls["emulator_url"]
        self.slack_api_url: str = urls["slack_api_url"]
        self.slack_url: str = urls["slack_url"]

    def call(self, cmd: str, **fields: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.call("quit")
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> StandIns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(rate_limits="--no-slack-limits" not in sys.argv[1:])
