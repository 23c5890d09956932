"""`/tune eval <model>,<model>,… <dataset>` (issue #23 item 3): every model on the same
examples, one leaderboard (exact match, similarity, win rate against the base model, the best
marked) and one CSV of every row and every answer, exactly once; refusals of an unknown model
in the list, too many models and an empty name; the single-model `/tune eval` with its win rate."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

from bot.domain.states import EvalRequestState
from bot.domain.types import TrainingExample
from bot.evaluation.board import MAX_MODELS, EvalBoard, plan_json, planned_models, stored_kind
from bot.evaluation.report import EvalReport, EvalRow, read_evaluation_csv
from bot.evaluation.runner import evaluate_many
from bot.gemini import GeminiClient, TuningExample
from bot.polling.eval_requests import stored_outcome
from bot.storage.models import EvalRequest, utcnow
from bot.storage.repositories.eval_requests import EvalRequestRepository
from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.polling import poller_clock_ahead
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    ack_body,
    all_text,
    bot_posts,
    ephemerals_for,
    eventually,
    next_ephemeral,
    store_of,
    wait_for,
)
from tests.test_eval_requests import SimulatedCrash, csvs, eval_threads, model_and_dataset, reports

BASE = "models/gemini-1.5-flash-001-tuning"


async def _another_model(stack: OfflineStack, name: str, pairs: Sequence[tuple[str, str]]) -> str:
    assert stack.emulator is not None
    client = GeminiClient("offline-emulator-key", base_url=stack.emulator.url)
    try:
        operation = await client.create_tuned_model(
            display_name=name,
            base_model=BASE,
            examples=[TuningExample(i, o) for i, o in pairs],
            epoch_count=1,
            batch_size=2,
        )
    finally:
        await client.aclose()
    stack.emulator.advance(60)
    assert operation.metadata is not None and operation.metadata.tuned_model
    return operation.metadata.tuned_model


def _leaderboards(stack: OfflineStack) -> list[Message]:
    return [
        m
        for m in bot_posts(stack)
        if not m.is_reply and ("is evaluating 3 models" in m.texts[0] or "evaluated 3 models" in m.text)
    ]


async def test_three_models_on_the_same_examples_one_leaderboard_and_one_csv(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    good = await model_and_dataset(stack)  # tuned on the dataset: answers every one right
    off_by_one = await _another_model(stack, "steps of two", [("1", "3"), ("10", "12")])  # close, wrong
    wrong = await _another_model(stack, "greetings", [("hello", "world"), ("bye", "ciao")])
    assert stack.sender is not None
    names = ",".join(m.removeprefix("tunedModels/") for m in (wrong, good, off_by_one))
    await stack.sender.slash_command(OTHER, f"eval {names} tutorial")
    parent = await wait_for(stack, lambda: next(iter(_leaderboards(stack)), None))
    await wait_for(stack, lambda: "evaluated 3 models" in parent.text and csvs(stack.workspace))
    for _ in range(2):  # later cycles post nothing more
        await stack.poll(all_due=True)
    assert len(_leaderboards(stack)) == 1
    assert "is evaluating 3 models" in parent.texts[0] and "15 examples" in parent.texts[0]
    [board] = reports(stack.workspace, parent)
    text = all_text(board)
    assert "Leaderboard on tutorial" in text and "3 models on the same 15 examples" in text
    lines = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(lines) == 3
    # Best first, and marked: the model tuned on the dataset, then the close one, then the wrong one.
    assert good.removeprefix("tunedModels/") in lines[0] and ":star: *best*" in lines[0]
    assert "exact 100%" in lines[0] and "win rate *100%* (15 W / 0 T / 0 L)" in lines[0]
    # then the other two, by win rate (the judge's verdicts on their wrong answers vary)
    assert {off_by_one, wrong} == {
        m for m in (off_by_one, wrong) for line in lines[1:] if m.removeprefix("tunedModels/") in line
    }
    rates = [int(re.search(r"win rate \*(\d+)%\*", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert rates == sorted(rates, reverse=True) and rates[1] < 100
    assert "(wins + ½ ties) / judged rows" in text and "both orders" in text
    # One CSV: a line per example and model, every answer, the same examples for every model.
    [upload] = csvs(stack.workspace)
    assert upload.thread_ts == parent.ts and upload.title == "Leaderboard — tutorial"
    rows = read_evaluation_csv(upload.content)
    assert len(rows) == 3 * 15
    by_model: dict[str, list[str]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row["row"])
    assert set(by_model) == {wrong, good, off_by_one}
    assert by_model[good] == by_model[wrong] == by_model[off_by_one]
    assert {row["judge_outcome"] for row in rows if row["model"] == good} == {"win"}
    # The base answers were asked once per example, not once per model.
    assert stack.emulator is not None
    counts = stack.emulator.emulator.runtime.stats.by_model
    assert counts[BASE]["models.generateContent"] == 15
    assert counts["models/gemini-1.5-flash-001"]["models.generateContent"] == 2 * 3 * 15  # the judge
    # Stored once, as a leaderboard (the request's row keeps it; a later cycle finds it done).
    request = await eventually(
        lambda: (lambda r: r if r is not None and r.state == "done" else None)(
            store_of(stack).eval_requests.get(1)
        )
    )
    assert stored_kind(request.report_json) == "board"
    assert store_of(stack).eval_requests.get(2) is None


async def test_the_list_is_refused_with_an_unknown_model_too_many_or_an_empty_name(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    good = await model_and_dataset(stack)
    assert stack.sender is not None
    posts = len(bot_posts(stack))
    seen = len(ephemerals_for(stack, OTHER))
    await stack.sender.slash_command(OTHER, f"eval {good},tunedModels/no-such-model-abc tutorial")
    unknown = await next_ephemeral(stack, OTHER, seen)
    assert "There is no tuned model `tunedModels/no-such-model-abc`" in unknown.text
    many = ",".join([good] * (MAX_MODELS + 1))
    # Refused in the command's answer (within Slack's 3 s), seen by the user alone.
    too_many = ack_body(await stack.sender.slash_command(OTHER, f"eval {many} tutorial"))
    assert f"{MAX_MODELS + 1} models is too many" in too_many["text"]
    assert f"at most {MAX_MODELS}" in too_many["text"]
    assert too_many.get("response_type", "ephemeral") == "ephemeral"
    empty = ack_body(await stack.sender.slash_command(OTHER, f"eval {good},,{good} tutorial"))
    assert "A model is missing in the list" in empty["text"]
    assert "/tune eval <model>[,<model>,…]" in empty["text"]
    assert len(bot_posts(stack)) == posts  # nothing posted, nothing stored
    assert store_of(stack).eval_requests.pending() == []


async def test_the_single_model_eval_reports_its_win_rate(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    model = await model_and_dataset(stack)
    assert stack.sender is not None
    await stack.sender.slash_command(OTHER, f"eval {model} tutorial")
    await wait_for(stack, lambda: eval_threads(stack.workspace) and csvs(stack.workspace))
    [parent] = eval_threads(stack.workspace)
    [report] = await wait_for(stack, lambda: reports(stack.workspace, parent) or None)
    text = all_text(report)
    assert "base 0% → tuned 100%" in text  # as before
    assert (
        "*Win rate* vs base, judged by `models/gemini-1.5-flash-001`: *100%* (15 wins, 0 ties, 0 losses)"
        in text
    )
    assert "The judge's reasons" in text
    [upload] = csvs(stack.workspace)
    rows = read_evaluation_csv(upload.content)
    assert {row["judge_outcome"] for row in rows} == {"win"} and all(row["judge_reason"] for row in rows)


async def test_every_model_is_scored_on_one_sample_and_each_base_answers_once() -> None:
    examples = [TrainingExample(f"q{n}", f"a{n}") for n in range(40)]
    calls: list[tuple[str, str]] = []

    class Backend:
        async def generate(self, model: str, prompt: str, **options: object) -> str:
            calls.append((model, prompt))
            return prompt.replace("q", "a") if model == "good" else "?"

        async def generate_base(self, model: str, prompt: str, **options: object) -> str:
            calls.append((model, prompt))
            return "base"

    reports = await evaluate_many(
        Backend(),  # type: ignore[arg-type]
        models=[("good", "b1"), ("bad", "b1"), ("other", "b2")],
        examples=examples,
        limit=10,
        seed=5,
    )
    numbers = [[row.number for row in report.rows] for report in reports]
    assert numbers[0] == numbers[1] == numbers[2] and len(numbers[0]) == 10
    assert numbers[0] != list(range(1, 11))  # a random sample, the seed's
    base_calls = [c for c in calls if c[0] in ("b1", "b2")]
    assert len(base_calls) == 20 and len({c for c in base_calls}) == 20  # once per base and example
    board = EvalBoard(reports)
    assert board.best() == 0 and board.ranked()[0] == 0


def test_the_stored_plan_and_board_read_back_and_a_single_report_stays_as_it_was() -> None:
    plan = plan_json([("m1", "b1"), ("m2", "b2")])
    assert stored_kind(plan) == "plan" and planned_models(plan) == [("m1", "b1"), ("m2", "b2")]
    single = EvalReport("m", "b", [EvalRow("q", "a", "x", "a", number=1)], available=1)
    assert isinstance(stored_outcome(single.to_json()), EvalReport)
    assert planned_models(single.to_json()) is None
    board = EvalBoard(
        [single, EvalReport("n", "b", [EvalRow("q", "a", "x", "=cmd()", number=1)], available=1)]
    )
    again = stored_outcome(board.to_json())
    assert isinstance(again, EvalBoard) and [r.tuned_model for r in again.reports] == ["m", "n"]
    # Every text cell of the CSV is spreadsheet-safe.
    content = board.to_csv().decode()
    assert "'=cmd()" in content and json.dumps("=cmd()") not in content
    assert read_evaluation_csv(board.to_csv())[1]["tuned_answer"] == "=cmd()"


async def test_a_crash_after_slack_took_the_leaderboard_posts_it_once_and_evaluates_once(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multi-model request a dead process left (its models stored with it) is carried on by
    the next process; a crash after Slack took the leaderboard leaves one leaderboard, one CSV,
    and the models asked once."""
    stack = fast_stack
    good = await model_and_dataset(stack)
    other = await _another_model(stack, "steps of two", [("1", "3"), ("10", "12")])
    assert stack.emulator is not None
    store = store_of(stack)
    dataset = store.datasets.by_name(stack.workspace.team_id, "tutorial")
    assert dataset is not None and dataset.id is not None
    store.eval_requests.create(
        EvalRequest(
            team_id=stack.workspace.team_id,
            channel_id=CHANNEL,
            user_id=OTHER,
            model_name=good,
            base_model=BASE,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            example_count=dataset.example_count,
            report_json=plan_json([(good, BASE), (other, BASE)]),
        ),
        owner="a-dead-process",
        now=utcnow(),
        lease_seconds=1.0,
    )
    real_update = EvalRequestRepository.update_leased

    def crash_when_recording(
        self: EvalRequestRepository, request_id: int, owner: str, **changes: Any
    ) -> bool:
        if changes.get("state") == EvalRequestState.POSTED:
            raise SimulatedCrash
        return real_update(self, request_id, owner, **changes)

    monkeypatch.setattr(EvalRequestRepository, "update_leased", crash_when_recording)
    poller_clock_ahead(stack, 1.1)  # the dead process's lease has expired
    with pytest.raises(SimulatedCrash):
        await stack.poll()
    parents = [m for m in bot_posts(stack) if not m.is_reply and "evaluating 2 models" in m.texts[0]]
    [parent] = parents
    assert len(reports(stack.workspace, parent)) == 1
    calls = dict(stack.emulator.emulator.runtime.stats.by_method)
    monkeypatch.setattr(EvalRequestRepository, "update_leased", real_update)

    stack.restart_bot()
    poller_clock_ahead(stack, 2.2)
    await stack.poll()
    await stack.poll()
    await wait_for(stack, lambda: "evaluated 2 models" in parent.text and csvs(stack.workspace))
    [board] = reports(stack.workspace, parent)
    assert "Leaderboard on tutorial" in all_text(board) and ":star: *best*" in all_text(board)
    assert len(csvs(stack.workspace)) == 1
    assert dict(stack.emulator.emulator.runtime.stats.by_method) == calls  # not evaluated again
    assert store.eval_requests.pending() == []


def test_the_judge_model_setting_names_one_or_turns_it_off() -> None:
    from bot.config import Settings

    def judge(value: str | None) -> str | None:
        env = {} if value is None else {"TUNEBOT_JUDGE_MODEL": value}
        return Settings(_env_file=None, **env).judge_model("default-judge")  # type: ignore[call-arg]

    assert judge(None) == "default-judge"
    assert judge("gemini-2.5-pro") == "gemini-2.5-pro"
    assert judge("off") is None


async def test_an_alias_in_the_list_is_resolved_and_said_privately(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    good = await model_and_dataset(stack)
    other = await _another_model(stack, "steps of two", [("1", "3"), ("10", "12")])
    store = store_of(stack)
    assert store.aliases.move(stack.workspace.team_id, "prod", model_name=good, user_id=OTHER) is not None
    assert stack.sender is not None
    sent = await stack.sender.slash_command(OTHER, f"eval prod,{other} tutorial")
    assert "`prod` is " in str(ack_body(sent).get("text")) and good.removeprefix("tunedModels/") in str(
        ack_body(sent).get("text")
    )
    await eventually(lambda: store.eval_requests.pending() == [] and store.eval_requests.get(1))
    request = store.eval_requests.get(1)
    assert request is not None and stored_kind(request.report_json) == "board"
    assert [r.tuned_model for r in EvalBoard.from_json(request.report_json or "").reports] == [good, other]
