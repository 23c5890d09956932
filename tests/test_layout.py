"""Rules of the layout that a reviewer would otherwise have to remember.

- Code on the event loop reaches the database one way: `await store.run(fn, ...)`.
  A repository method called directly inside an `async def` blocks every Slack ack in the
  process while SQLite or PostgreSQL answers.
- `bot` never imports the stand-ins (import-linter checks this too; this test names the line).
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
REPOSITORIES = {"datasets", "jobs", "evaluations", "ownership", "threads", "events"}


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
