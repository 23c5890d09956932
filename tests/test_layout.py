"""Rules of the layout that a reviewer would otherwise have to remember.

- Code on the event loop reaches the database one way: `await store.run(fn, ...)`.
  A repository method called directly inside an `async def` blocks every Slack ack in the
  process while SQLite or PostgreSQL answers.
- `bot` never imports the stand-ins (import-linter checks this too; this test names the line).
- Listeners hold no Slack text: a message, its emoji codes and its mrkdwn are built in
  `bot/presentation/` and the listener calls the function that says it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
REPOSITORIES = {"datasets", "jobs", "evaluations", "ownership", "threads", "events"}
LISTENERS = BOT / "listeners"
EMOJI_CODE = re.compile(r":[a-z_]+:")
MRKDWN_MARKS = ("*", "`")


def _repository_calls_on_the_loop(tree: ast.AST) -> list[tuple[int, str]]:
    """`store.<repository>.<method>(…)` called (not passed to `run`) inside an `async def`."""
    found: list[tuple[int, str]] = []

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.async_depth = 0

        def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
            self.async_depth += 1
            self.generic_visit(node)
            self.async_depth -= 1

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            depth, self.async_depth = self.async_depth, 0  # a nested plain function runs where it is sent
            self.generic_visit(node)
            self.async_depth = depth

        def visit_Lambda(self, node: ast.Lambda) -> None:
            depth, self.async_depth = self.async_depth, 0
            self.generic_visit(node)
            self.async_depth = depth

        def visit_Call(self, node: ast.Call) -> None:
            target = node.func
            if (
                self.async_depth
                and isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr in REPOSITORIES
                and ast.unparse(target.value.value).split(".")[-1] in ("store", "_store")
            ):
                found.append((node.lineno, ast.unparse(target)))
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def test_no_repository_is_called_directly_on_the_event_loop() -> None:
    offenders = [
        f"{path.relative_to(BOT.parent)}:{line}: {call}(…)"
        for path in sorted(BOT.rglob("*.py"))
        for line, call in _repository_calls_on_the_loop(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], "await store.run(...) instead:\n" + "\n".join(offenders)


def test_the_rule_catches_a_direct_call() -> None:
    blocking = "async def f(ctx):\n    return ctx.store.jobs.get(1)\n"
    awaited = "async def f(ctx):\n    return await ctx.store.run(ctx.store.jobs.get, 1)\n"
    threaded = """
async def f(store):
    def work():
        return store.jobs.get(1)
    return await store.run(work)
"""
    assert _repository_calls_on_the_loop(ast.parse(blocking)) == [(2, "ctx.store.jobs.get")]
    assert _repository_calls_on_the_loop(ast.parse(awaited)) == []
    assert _repository_calls_on_the_loop(ast.parse(threaded)) == []


def test_bot_never_imports_the_stand_ins() -> None:
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [
                f"{path.relative_to(BOT.parent)}:{node.lineno}" for n in names if n.startswith("standins")
            ]
    assert offenders == []


def _slack_text_in(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals that can only be Slack text: one holding an emoji code (`:x:`), or an
    f-string with a value inside a mrkdwn bold or code span (`*{name}*`, `` `/tune {name}` ``).
    Docstrings are skipped."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    in_fstrings = {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts = [str(p.value) if isinstance(p, ast.Constant) else None for p in node.values]
            marked = any(
                texts[i] is None  # a value, inside a span that its mark opened before it and closes after
                and "".join(t or "" for t in texts[:i]).count(m) % 2 == 1
                and m in "".join(t or "" for t in texts[i + 1 :])
                for i in range(len(texts))
                for m in MRKDWN_MARKS
            )
            if marked or any(t is not None and EMOJI_CODE.search(t) for t in texts):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | in_fstrings
            and EMOJI_CODE.search(node.value)
        ):
            found.append((node.lineno, node.value))
    return found


def test_listeners_build_no_slack_text() -> None:
    offenders = [
        f"{path.relative_to(BOT.parent)}:{line}: {text}"
        for path in sorted(LISTENERS.rglob("*.py"))
        for line, text in _slack_text_in(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], "move the text into bot/presentation/:\n" + "\n".join(offenders)


def test_the_text_rule_catches_a_message_and_spares_ids_and_logs() -> None:
    message = """
async def f(request, name):
    await request.ack(text=f":hourglass: Starting `{esc(name)}`…")
"""
    bold = 'raise UsageError(f"What should I ask *{esc(model)}*?")\n'
    code = 'hint = f" Did you mean `/tune {guess}`?"\n'
    emoji_only = 'TEXT = ":x: no"\n'
    spared = """
\"\"\"A docstring may say :x: and `{x}`.\"\"\"
PATTERN = re.compile(f"^{blocks.ACTION_LIST_PAGE}_")
log.info("job %s: `%s` at 12:30:45", job_id, name)
log.info(f"joined {channel_id} as {user}")
NAME = f"{model}*{checkpoint}"
"""
    assert _slack_text_in(ast.parse(message)) == [(3, "f':hourglass: Starting `{esc(name)}`…'")]
    assert _slack_text_in(ast.parse(bold)) == [(1, "f'What should I ask *{esc(model)}*?'")]
    assert _slack_text_in(ast.parse(code)) == [(1, "f' Did you mean `/tune {guess}`?'")]
    assert _slack_text_in(ast.parse(emoji_only)) == [(1, ":x: no")]
    assert _slack_text_in(ast.parse(spared)) == []
