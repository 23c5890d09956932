"""Base-vs-tuned evaluation: the scores, the engine over the emulator, the post-job evaluation
in the job's thread (exactly once, across a crash), `/tune eval` and `/tune compare`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.backends.gemini_backend import GeminiBackend
from bot.datasets.samples import TUTORIAL_EXAMPLES, tutorial_csv
from bot.domain.backoff import Backoff
from bot.domain.types import TrainingExample
from bot.evaluation import EvalReport, EvalRetry, evaluate
from bot.evaluation.runner import sample_numbers
from bot.evaluation.score import exact_match, normalise, similarity
from bot.gemini import GeminiClient, TuningExample
from bot.google import RetryPolicy
from bot.presentation.evaluation import evaluation_blocks
from bot.slack.reporter import EVALUATION_EVENT_TYPE
from bot.storage.models import EvalRequest, TuningJob
from bot.storage.repositories.jobs import JobRepository
from bot.storage.store import Store
from standins.emulator.running import FrozenClock, RunningEmulator
from standins.fakeslack import Message
from standins.offline import OfflineConfig, OfflineStack
from tests.helpers.evaluation import HELD_NUMBERS, finished_job
from tests.helpers.polling import poller_clock_ahead
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)

BASE = "models/gemini-1.5-flash-001-tuning"
PAIRS = [TrainingExample(e.text_input, e.output) for e in TUTORIAL_EXAMPLES]


class SimulatedCrash(BaseException):
    """The process dying at a chosen line."""


def test_scores_compare_normalised_text() -> None:
    assert normalise("  Four\tHundred ") == "four hundred"
    assert exact_match("Four hundred", "four   HUNDRED ")
    assert not exact_match("400", "four hundred")
    assert similarity("abc", "abc") == 1.0 and similarity("abc", "xyz") == 0.0
    assert similarity("abcd", "abce") == pytest.approx(0.75)


async def _tuned_model(client: GeminiClient, emulator: RunningEmulator) -> str:
    operation = await client.create_tuned_model(
        display_name="numbers",
        base_model=BASE,
        examples=[TuningExample(p.text_input, p.output) for p in PAIRS],
        epoch_count=1,
        batch_size=15,
    )
    emulator.advance(60)
    assert operation.metadata is not None and operation.metadata.tuned_model
    return operation.metadata.tuned_model


class CountingBackend(GeminiBackend):
    """The real backend, counting how many calls are in flight at once."""

    def __init__(self, client: GeminiClient) -> None:
        super().__init__(client)
        self.in_flight = 0
        self.most = 0

    async def _counted(self, call: Any) -> str:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return str(await call)
        finally:
            self.in_flight -= 1

    async def generate(self, model_name: str, prompt: str, **options: Any) -> str:
        return await self._counted(super().generate(model_name, prompt, **options))

    async def generate_base(self, base_model: str, prompt: str, **options: Any) -> str:
        return await self._counted(super().generate_base(base_model, prompt, **options))


async def test_engine_scores_both_models_one_call_each_with_bounded_concurrency(
    emulator: RunningEmulator,
) -> None:
    async with GeminiClient("k", base_url=emulator.url) as client:
        model = await _tuned_model(client, emulator)
        emulator.emulator.set_faults(emulator.emulator.runtime.faults.updated({"latency_seconds": 0.02}))
        emulator.emulator.runtime.reset_stats()
        backend = CountingBackend(client)
        report = await evaluate(
            backend, tuned_model=model, base_model=BASE, examples=PAIRS, limit=12, concurrency=4
        )
    assert report.count == 12 and report.available == 15
    assert [r.text_input for r in report.rows] == [p.text_input for p in PAIRS[:12]]
    assert report.tuned_exact_rate == 1.0 and report.base_exact_rate == 0.0
    assert report.tuned_mean_similarity > report.base_mean_similarity + 0.5
    assert 1 < backend.most <= 4
    stats = emulator.emulator.runtime.stats
    assert stats.by_model[model]["tunedModels.generateContent"] == 12
    assert stats.by_model[BASE]["models.generateContent"] == 12
    rows = list(csv.DictReader(io.StringIO(report.to_csv().decode())))
    assert len(rows) == 12 and rows[0]["tuned_exact"] == "1" and rows[0]["base_exact"] == "0"


async def test_engine_retries_as_the_poller_does_and_keeps_a_failed_row(emulator: RunningEmulator) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retry = EvalRetry(attempts=3, backoff=Backoff(base_seconds=1.0, max_seconds=30.0), sleep=sleep)
    no_retry = RetryPolicy(max_attempts=1)
    async with GeminiClient("k", base_url=emulator.url, retry=no_retry) as client:
        model = await _tuned_model(client, emulator)
        emulator.emulator.update_faults(
            {
                "scripted": [
                    {"method": "models.generateContent", "code": 429, "retry_after_seconds": 7, "times": 1},
                    {"method": "tunedModels.generateContent", "code": 400, "times": 1},
                ]
            }
        )
        report = await evaluate(
            GeminiBackend(client),
            tuned_model=model,
            base_model=BASE,
            examples=PAIRS[:1],
            concurrency=1,
            retry=retry,
        )
    [row] = report.rows
    assert slept == [7.0]  # the service's Retry-After, not the 1 s base
    assert row.base_error is None and row.base  # the 429 was retried
    assert row.tuned_error is not None and row.tuned_similarity == 0.0  # a 400 is not retried
    assert report.errors == 1


@pytest.fixture
def fast_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    config = OfflineConfig(
        database_url=f"sqlite:///{tmp_path / 'tunebot.db'}", emulator_clock=FrozenClock(), lease_seconds=1.0
    )
    with OfflineStack(config) as running:
        for user, name in ((OWNER, "olivia"), (OTHER, "oscar")):
            running.workspace.add_user(user, name)
        yield running


def _evaluations(stack: OfflineStack, job: TuningJob) -> list[Message]:
    assert job.message_ts is not None
    return [
        m
        for m in stack.workspace.thread(CHANNEL, job.message_ts)
        if (m.metadata or {}).get("event_type") == EVALUATION_EVENT_TYPE
    ]


def _only_request_id(stack: OfflineStack) -> int:
    with store_of(stack).session() as session:
        [request] = session.exec(select(EvalRequest)).all()
    assert request.id is not None
    return request.id


def _csvs(stack: OfflineStack) -> list[Any]:
    return [f for f in stack.workspace.uploads(CHANNEL) if f.name.endswith(".csv")]


async def test_a_succeeded_job_with_a_held_out_split_is_evaluated_once_in_its_thread(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial validation=held")
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    [message] = _evaluations(stack, job)
    text = all_text(message)
    assert "on 12 held-out examples" in text
    assert "Exact match:* base 0% → tuned 100% (+100 points)" in text
    assert job.model_name
    assert f"tuned *{job.display_name}* (`{job.model_name.removeprefix('tunedModels/')}`)" in text
    report = EvalReport.from_json(store_of(stack).evaluations.report(job.id or 0) or "")
    assert report.tuned_mean_similarity == 1.0 and report.base_mean_similarity < 0.2
    gain = 1 - report.base_mean_similarity
    assert f"base {report.base_mean_similarity:.2f} → tuned 1.00 (+{gain:.2f})" in text
    assert text.count("*Input:*") == 3 and text.count("*Base*") == 3 and text.count("*Tuned*") == 3
    [csv_file] = _csvs(stack)
    assert csv_file.thread_ts == job.message_ts
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode())))
    assert [(r["input"], r["expected"]) for r in rows] == [(p.text_input, p.output) for p in HELD_NUMBERS]
    assert {r["tuned_exact"] for r in rows} == {"1"} and {r["base_exact"] for r in rows} == {"0"}
    # More cycles change nothing.
    await stack.poll(all_due=True)
    assert len(_evaluations(stack, job)) == 1 and len(_csvs(stack)) == 1
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.eval_state == "done" and row.eval_ts == message.ts


async def test_a_share_held_out_of_the_dataset_is_evaluated_too(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial validation=20%")
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    [message] = _evaluations(stack, job)
    assert "on 3 held-out examples" in all_text(message)
    report = EvalReport.from_json(store_of(stack).evaluations.report(job.id or 0) or "")
    held = store_of(stack).evaluations.held_out_examples(job.id or 0)
    assert [(r.text_input, r.expected) for r in report.rows] == [(p.text_input, p.output) for p in held]
    assert report.base_exact_rate == 0.0


async def test_without_a_held_out_split_there_is_no_evaluation(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial")
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    assert _evaluations(stack, job) == [] and _csvs(stack) == []
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.eval_state == "skipped" and row.notice_state == "done"


async def test_a_crash_after_posting_the_evaluation_does_not_repeat_it(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial validation=20%")
    assert stack.emulator is not None
    real_update = JobRepository.update_leased

    def crash_when_recording(self: Store, job_id: int, owner: str, **changes: Any) -> bool:
        if changes.get("eval_state") == "posted":
            raise SimulatedCrash
        return real_update(self, job_id, owner, **changes)

    monkeypatch.setattr(JobRepository, "update_leased", crash_when_recording)
    with pytest.raises(SimulatedCrash):
        await stack.poll(all_due=True)
    assert len(_evaluations(stack, job)) == 1  # posted, but the database says "posting"
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.eval_state == "posting"
    calls = stack.emulator.emulator.runtime.stats.by_method["models.generateContent"]
    monkeypatch.setattr(JobRepository, "update_leased", real_update)

    stack.restart_bot()
    poller_clock_ahead(stack, 1.1)  # the dead process's lease (one second) has expired
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    assert len(_evaluations(stack, job)) == 1 and len(_csvs(stack)) == 1
    # The stored report was posted: the models were not asked again.
    assert stack.emulator.emulator.runtime.stats.by_method["models.generateContent"] == calls
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.eval_state == "done" and done.notice_state == "done"


async def test_tune_eval_on_demand_posts_scores_and_a_csv_in_a_thread(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial")
    await stack.poll(all_due=True)
    assert stack.sender is not None and job.model_name
    before = len(bot_posts(stack))
    model_id = job.model_name.removeprefix("tunedModels/")
    seen = len(ephemerals_for(stack, OTHER))
    sent = await stack.sender.slash_command(OTHER, f"eval {model_id} tutorial")
    parent = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    # (Its first version: once the CSV is in the thread, it is edited to say the evaluation is done.)
    assert "evaluating" in parent.texts[0] and BASE in parent.texts[0]
    # the model by the name it was given (its id beside it), as /tune try names it
    named = f"*{job.display_name}* (`{model_id}`)"
    assert named in parent.texts[0], parent.texts[0]
    # the channel says it is evaluating; no private "Evaluating…" says it again
    assert not ack_body(sent).get("text") and len(ephemerals_for(stack, OTHER)) == seen
    result = await wait_for(
        stack, lambda: next((m for m in stack.workspace.thread(CHANNEL, parent.ts) if m.blocks), None)
    )
    text = all_text(result)
    # its own training examples: never called "held-out" (#23 item 6), and said to flatter it
    assert "on 15 examples it was tuned on" in text and "held-out" not in text
    assert "base 0% → tuned 100%" in text
    assert "tuned on this dataset" in text and named in text
    upload = await wait_for(stack, lambda: next(iter(_csvs(stack)), None))
    assert upload.name == f"tunebot-eval-tutorial-request-{_only_request_id(stack)}.csv"  # readable
    assert upload.thread_ts == parent.ts and upload.content.count(b"\n") == 16
    assert upload.title == f"Evaluation — {job.display_name} on tutorial"
    await wait_for(stack, lambda: "evaluated" in parent.text)
    assert named in parent.text


async def test_tune_compare_answers_side_by_side_and_replies_go_to_both(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial")
    await stack.poll(all_due=True)
    assert stack.sender is not None and job.model_name
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"compare {job.model_name} 55")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert "comparing" in prompt.text and BASE in prompt.text
    named = f"*{job.display_name}* (`{job.model_name.removeprefix('tunedModels/')}`)"
    assert named in prompt.text, prompt.text

    def answers() -> list[str]:
        return [all_text(m) for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    first = answers()[-1]
    assert "*Base*" in first and "*Tuned*" in first and "\n56" in first and '"55"' in first
    assert f"*Tuned* *{job.display_name}*" in first and "tunedModels/" not in first, first
    await stack.sender.message(OTHER, CHANNEL, "7", thread_ts=prompt.ts)
    await wait_for(stack, lambda: len(answers()) == 2 and "thinking" not in answers()[-1])
    second = answers()[-1]
    assert "\n8" in second and '"7"' in second


async def test_on_vertex_the_evaluation_asks_the_publisher_base_model(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex") as stack:
        assert stack.emulator is not None
        job = await finished_job(stack, "tutorial validation=20%")
        for _ in range(3):
            await stack.poll(all_due=True)
        [message] = _evaluations(stack, job)
        assert "on 3 held-out examples" in all_text(message) and "Exact match:* base 0%" in all_text(message)
        stats = stack.emulator.emulator.runtime.stats
        # One base answer per example, and the judge (a publisher model too) twice per example.
        assert stats.by_method["vertex.publishers.models.generateContent"] == 3 + 2 * 3
        assert stats.by_method["vertex.endpoints.generateContent"] == 3


async def test_eval_and_compare_refuse_a_model_that_is_not_ready_or_unknown(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(OWNER, "start tutorial")
    store = store_of(stack)
    job = await eventually(lambda: next((j for j in store.jobs.active() if j.message_ts), None))
    assert job.model_name
    posts = len(bot_posts(stack))
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.slash_command(OWNER, f"eval {job.model_name} tutorial")
    refusal = await next_ephemeral(stack, OWNER, seen)
    assert "is not ready to answer" in refusal.text and "/tune status" in refusal.text
    await stack.sender.slash_command(OWNER, "compare tunedModels/no-such-model-abc 55")
    unknown = await next_ephemeral(stack, OWNER, seen + 1)
    assert "There is no tuned model `no-such-model-abc`" in unknown.text
    assert len(bot_posts(stack)) == posts  # nothing was posted in the channel


def test_a_sample_is_random_reproducible_and_keeps_the_datasets_row_numbers() -> None:
    """#23 item 6: `/tune eval` scores a random sample (not the first N) with a seed it
    reports, and the CSV numbers each row as the dataset does."""
    first = sample_numbers(1000, 5, None)
    assert first == [1, 2, 3, 4, 5]
    drawn = sample_numbers(1000, 5, 17)
    assert drawn == sample_numbers(1000, 5, 17) and drawn == sorted(drawn)
    assert drawn != first and drawn != sample_numbers(1000, 5, 18)
    assert sample_numbers(3, 50, 17) == [1, 2, 3]  # fewer than the limit: all of them


async def test_the_csv_numbers_rows_as_the_dataset_does() -> None:
    examples = [TrainingExample(f"q{n}", f"a{n}") for n in range(1, 101)]

    class Echo:
        async def generate(self, model: str, prompt: str, **options: Any) -> str:
            return "a" + prompt[1:]

        async def generate_base(self, model: str, prompt: str, **options: Any) -> str:
            return "?"

    report = await evaluate(
        Echo(),  # type: ignore[arg-type]
        tuned_model="m",
        base_model="b",
        examples=examples,
        limit=4,
        seed=7,
    )
    numbers = sample_numbers(100, 4, 7)
    assert [row.number for row in report.rows] == numbers
    assert [row.text_input for row in report.rows] == [f"q{n}" for n in numbers]
    rows = list(csv.DictReader(io.StringIO(report.to_csv().decode())))
    assert [int(r["row"]) for r in rows] == numbers
    assert EvalReport.from_json(report.to_json()).seed == 7
    text, _ = evaluation_blocks(report, title="Evaluation on qa", examples="examples of the dataset")
    shown = all_text({"text": text, "blocks": _})
    assert "on 4 of 100 examples of the dataset, sampled at random (seed 7)" in shown, shown
