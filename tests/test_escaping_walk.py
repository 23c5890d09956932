"""Every message kind tunebot builds (every public function of every `bot.presentation` module,
every refusal of `error_text`, every echo of `/tune start`'s options), fed hostile text in each
field a user controls, shows that text as typed: no `<!channel>`, `<@…>` or `<http…>` of theirs
goes live, and no `*…*` or `&amp;` of theirs turns into formatting or an entity.

`BUILDERS` must name every public function of `bot.presentation`: a new one fails
`test_every_public_builder_is_walked` until it is added, with hostile input (or the reason
it shows no user text)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import bot.presentation
from bot.datasets import parse_dataset
from bot.datasets.insight import InsightBuilder
from bot.datasets.samples import tutorial_csv
from bot.domain.approvals import ApprovalStart, ApprovalState
from bot.domain.errors import BackendError, UsageError
from bot.domain.pricing import OVERRIDE_SOURCE, CostBasis, CostEstimate, Price, counted_cost, estimate_cost
from bot.domain.requests import StartArgs
from bot.domain.spend import StartRule
from bot.domain.text import escape_mrkdwn
from bot.domain.types import BaseModelChoice, Checkpoint, DataStats, ModelState, ModelSummary
from bot.evaluation.board import EvalBoard
from bot.evaluation.report import EvalReport, EvalRow
from bot.polling.view import JobView
from bot.presentation import (
    aliases,
    approvals,
    blocks,
    channels,
    commands,
    costs,
    datasets,
    details,
    downloads,
    errors,
    evaluation,
    home,
    insight,
    jobs,
    leaderboard,
    models,
    progress,
    uploads,
)
from bot.presentation.lineage import lineage_text, model_notes_text
from bot.presentation.text import prompt_echo
from bot.services import errors as e
from bot.services import lineage
from bot.services.aliases import AliasInfo, AliasMoveLine, Promoted, PromotePrompt
from bot.services.approval_decisions import Refusal
from bot.services.approvals import ApprovalView, AskedApproval
from bot.services.conversation import SystemChoice
from bot.services.datasets import (
    DatasetDeleted,
    DatasetDeletePrompt,
    DatasetName,
    DatasetRenamed,
    StartEstimate,
)
from bot.services.home import HomeData
from bot.services.jobs import ValidationSet
from bot.services.lineage_notes import LineageNote
from bot.services.models import Deleted
from bot.services.sweep_summaries import SweepNote
from bot.services.uploads import UploadOutcome
from bot.slack import commands as parsing
from bot.slack.reporter import EVALUATION_EVENT_TYPE
from bot.storage.models import ApprovalRequest, Dataset, TuningJob
from bot.storage.repositories.datasets import DatasetSummary
from standins.offline import OfflineStack
from tests.helpers.cancel_walk import cancel_audit_builders
from tests.helpers.evaluation import finished_job
from tests.helpers.limits_walk import limits_builders
from tests.helpers.slack import CHANNEL, all_text, command, upload_file
from tests.helpers.spend import spend_builders
from tests.helpers.sweep_walk import hostile_summaries, sweep_builders

# Each part must stay as typed: a broadcast, a mention, a link, bold, an entity, other scripts.
HOSTILE = "<!channel> <@U123> <https://evil.example|x> *bold* &amp; 名前 имя عربى"
# What each part looks like when it went out unescaped (live in Slack).
LIVE = ("<!channel", "<@U123", "<https://evil", " *bold*", "&amp; 名前")
CODE_SPAN = re.compile(r"`[^`\n]*`")
OWNER = "U0OWNER"
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _insight() -> Any:
    builder = InsightBuilder(40_000, 5_000)
    for index in range(3):
        builder.observe(f"example {index + 1}", HOSTILE, HOSTILE)
    builder.observe("example 4", HOSTILE, HOSTILE)  # a duplicate, listed by its label
    return builder.finish()


def _sweep_note() -> SweepNote:
    return SweepNote(3, 2, 4, ((HOSTILE, HOSTILE), ("epochs", "2")))


def _dataset() -> Dataset:
    return Dataset(
        id=7,
        team_id="T1",
        owner_user_id=OWNER,
        channel_id="C1",
        name=HOSTILE,
        display_name=HOSTILE + " 🤖",
        file_name=HOSTILE + ".csv",
        format="csv",
        example_count=4,
        sha256="a" * 64,
        created_at=NOW,
    )


def _plain_dataset(name: str) -> Dataset:
    """A dataset whose display name is its slug."""
    dataset = _dataset()
    dataset.name = dataset.display_name = name
    return dataset


def _job(state: str = "running") -> TuningJob:
    return TuningJob(
        id=3,
        team_id="T1",
        owner_user_id=OWNER,
        channel_id="C1",
        display_name=HOSTILE,
        base_model=HOSTILE,
        model_name="tunedModels/" + HOSTILE,
        epoch_count=5,
        batch_size=2,
        learning_rate=0.001,
        state=state,
        percent=40.0,
        error_message=HOSTILE,
        detail_state=HOSTILE,
        tuned_model=HOSTILE,
        created_at=NOW,
        updated_at=NOW,
        finished_at=NOW,
    )


def _view(state: str = "running") -> JobView:
    return JobView(
        job_id=3,
        display_name=HOSTILE,
        model_name="tunedModels/" + HOSTILE,
        owner_user_id=OWNER,
        base_model=HOSTILE,
        state=state,
        percent=40.0,
        completed_steps=4,
        total_steps=10,
        epoch=1,
        epoch_count=5,
        mean_loss=0.5,
        started_at=NOW - timedelta(minutes=5),
        now=NOW,
        error_message=HOSTILE,
        dataset_name=HOSTILE,
        batch_size=2,
        learning_rate=0.001,
        cancelled_by=OWNER,
        detail_state=HOSTILE,
        eval_loss=0.4,
        tuning_started_at=NOW - timedelta(minutes=4),
        data_stats=DataStats(
            examples=4, billable_tokens=100, truncated_examples=1, dropped_reasons=(HOSTILE,)
        ),
        checkpoints=(Checkpoint(HOSTILE, epoch=1, step=2, endpoint=HOSTILE, eval_loss=0.4),),
        tuned_model=HOSTILE,
        price_per_million_tokens=2.0,
        currency="USD",
        parent_name=HOSTILE,
        parent_checkpoint=HOSTILE,
    )


STATES = ("queued", "running", "succeeded", "failed", "lost", "cancelled")
FINISHED = ("succeeded", "failed", "lost", "cancelled")


def _views(states: tuple[str, ...] = STATES) -> list[JobView]:
    """Each state, with a hostile sub-state and with one tunebot words (quota, dataset checks)."""
    views = [_view(state) for state in states]
    return views + [
        dataclasses.replace(view, detail_state=detail)
        for view in views
        for detail in ("waiting_for_quota", "partially_succeeded")
    ]


def _systems() -> list[SystemChoice]:
    """A thread's system instruction from each source, hostile and long."""
    return [
        SystemChoice(HOSTILE * 5, "option"),
        SystemChoice(HOSTILE + "\n> quoted", "dataset", HOSTILE),
    ]


def _refs() -> list[e.ModelRef]:
    """A model tunebot made (display name and id) and one it did not (id alone)."""
    return [e.ModelRef(HOSTILE, HOSTILE), e.ModelRef(HOSTILE)]


def _report() -> EvalReport:
    rows = [
        EvalRow(HOSTILE, HOSTILE, HOSTILE, HOSTILE),
        EvalRow(HOSTILE, HOSTILE, "", HOSTILE, base_error=HOSTILE, tuned_error=HOSTILE),
    ]
    return EvalReport(tuned_model=HOSTILE, base_model=HOSTILE, rows=rows, available=5)


def _judged_report() -> EvalReport:
    """A judged report: every judged outcome, hostile reasons, a row the judge failed on."""
    rows = [
        EvalRow(HOSTILE, HOSTILE, HOSTILE, HOSTILE, judged=outcome, judge_reason=HOSTILE)
        for outcome in ("win", "tie", "loss")
    ] + [EvalRow(HOSTILE, HOSTILE, HOSTILE, HOSTILE, judge_error=HOSTILE)]
    return EvalReport(
        tuned_model=HOSTILE, base_model=HOSTILE, rows=rows, available=9, seed=3, judge_model=HOSTILE
    )


def _board() -> EvalBoard:
    return EvalBoard([_judged_report(), _report(), _judged_report()])


def _parsed(content: bytes, file_name: str = HOSTILE + ".csv", **columns: str) -> Any:
    return parse_dataset(content, file_name, **columns)


HOSTILE_CSV = ("input,output\n" + "".join(f'"{HOSTILE} {n}","{HOSTILE}"\n' for n in range(3))).encode()
# Wrong columns, an empty field and a broken JSON line: refusals that quote the file.
BAD_CSV = f'"{HOSTILE}","other"\n"{HOSTILE}",""\n'.encode()
BAD_JSONL = f'{{"{HOSTILE}": "{HOSTILE}"}}\n{{not json {HOSTILE}\n'.encode()


def _outcomes() -> list[UploadOutcome]:
    parsed = _parsed(HOSTILE_CSV)
    return [
        UploadOutcome("stored", HOSTILE, _dataset(), parsed, wanted=HOSTILE, asked=DatasetName("x", "x")),
        UploadOutcome(
            "stored", HOSTILE, _dataset(), parsed, wanted=HOSTILE, asked=DatasetName(HOSTILE, None)
        ),
        UploadOutcome("duplicate", HOSTILE, _dataset(), parsed),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(BAD_CSV)),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(BAD_CSV, input_column=HOSTILE, output_column="x")),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(BAD_JSONL, HOSTILE + ".jsonl")),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(b"", HOSTILE + ".csv")),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(HOSTILE_CSV), storage_error="disk full"),
        UploadOutcome("stored", HOSTILE, _dataset(), parsed, source_uri=f"gs://b/{HOSTILE}"),
        UploadOutcome("rejected", HOSTILE, parsed=_parsed(BAD_CSV), source_uri=f"gs://b/{HOSTILE}"),
    ]


def _model_summaries() -> list[ModelSummary]:
    return [ModelSummary("tunedModels/" + HOSTILE, HOSTILE, state, HOSTILE, NOW) for state in ModelState]


def _service_error(kind: type[e.ServiceError]) -> e.ServiceError:
    """`kind` with hostile text in every field a user's input or a name can reach."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        annotation = str(field.type)
        if field.name in ("owner_user_id", "deleted_by"):  # Slack user ids, shown as mentions
            values[field.name] = OWNER
        elif annotation.startswith("tuple[RefusedOption"):
            values[field.name] = tuple(e.RefusedOption(HOSTILE, kind) for kind in REFUSAL_KINDS)
        elif annotation.startswith("Sequence[Candidate]"):
            values[field.name] = [e.Candidate(HOSTILE, OWNER, "tunedModels/" + HOSTILE)]
        elif annotation.startswith("Sequence[Checkpoint]"):
            values[field.name] = [Checkpoint(HOSTILE, epoch=1, endpoint="e"), Checkpoint("2", endpoint="e")]
        elif annotation.startswith("Sequence"):
            values[field.name] = [HOSTILE, "plain"]
        elif annotation == "ModelRef":
            values[field.name] = e.ModelRef("tunedModels/" + HOSTILE, HOSTILE)
        elif annotation.startswith("Literal"):
            values[field.name] = "try"
        elif annotation in ("float | None", "float"):
            values[field.name] = 41.6
        elif annotation == "int":
            values[field.name] = 1
        elif annotation == "bool":
            values[field.name] = True
        else:
            values[field.name] = HOSTILE
    return kind(**values)


REFUSAL_KINDS = ("batch_size_chosen", "use_multiplier", "vertex_only", "adapter_size", "not_taken")


# The refusals worded from operator settings or tunebot's own catalogue, never from user input.
TRUSTED_REFUSALS = {e.StartRefused: "tunebot's own words about a base model in its catalogue"}


def _error_texts() -> Iterator[str]:
    kinds = [
        k
        for k in vars(e).values()
        if isinstance(k, type) and issubclass(k, e.ServiceError) and k is not e.ServiceError
    ]
    kinds += [lineage.ContinueNeedsVertex, lineage.CannotContinueFrom, lineage.ContinueBaseModelMismatch]
    assert len(kinds) > 20
    for kind in kinds:
        if kind in TRUSTED_REFUSALS:
            continue
        yield errors.error_text(_service_error(kind))
        if kind is e.ModelGone:
            yield errors.error_text(e.ModelGone(e.ModelRef(HOSTILE, HOSTILE), "delete"))
            yield errors.error_text(e.ModelGone(e.ModelRef(HOSTILE), "delete"))
        if kind is e.ModelLookupFailed:
            yield errors.error_text(e.ModelLookupFailed(e.ModelRef(HOSTILE), None))
        if kind is e.NoSuchCheckpoint:
            yield errors.error_text(e.NoSuchCheckpoint(HOSTILE, HOSTILE, []))
        if kind is e.BadAliasName:
            for reason in (
                "empty",
                "too_long",
                "uppercase",
                "characters",
                "digits",
                "model_id",
                "model_name",
            ):
                yield errors.error_text(e.BadAliasName(HOSTILE, reason, HOSTILE))
        if kind is e.PromoteRefused:
            yield errors.error_text(e.PromoteRefused(e.ModelRef(HOSTILE, HOSTILE), None))
        if kind is lineage.CannotContinueFrom:
            yield errors.error_text(lineage.CannotContinueFrom(HOSTILE, "tuning", None))
            yield errors.error_text(lineage.CannotContinueFrom(HOSTILE, "tuning", 41.6))
    yield errors.error_text(BackendError(HOSTILE))


def _usage_echoes() -> Iterator[str]:
    """`/tune start`'s options as typed: every refusal that quotes them."""
    for typed in (
        f"x validation={HOSTILE}%",
        f"x validation={HOSTILE}9%",
        "x validation=<!channel>%",
        "x validation=99%",
        "x validation=12",
        f"x epochs={HOSTILE}",
        f"x learning_rate={HOSTILE}",
        "x learning_rate=5",
        f"x {HOSTILE}=1",
        f'x name="{HOSTILE * 3}"',
        f"x 'unclosed {HOSTILE}",
    ):
        with pytest.raises(UsageError) as caught:
            parsing.parse_start(typed)
        yield str(caught.value)


def _approval_views() -> list[ApprovalView]:
    """A request of two hostile starts, in every state, asked by every rule."""
    start = ApprovalStart(
        args=StartArgs(HOSTILE, HOSTILE),
        dataset_id=7,
        dataset_name=HOSTILE,
        base_model=HOSTILE,
        summary=HOSTILE,
        hyperparameters={HOSTILE: HOSTILE},
        estimate=Decimal("12.5"),
    )
    base = ApprovalView(
        request_id=4,
        requester=OWNER,
        channel_id="C1",
        starts=[start, dataclasses.replace(start, estimate=None)],
        amount=None,
        currency="USD",
        month_spent=30.0,
        rule=StartRule.APPROVAL_ABOVE.value,
        rule_limit=10.0,
        state=ApprovalState.PENDING,
        expires_at=NOW,
        hours=24.0,
        approvers=["U0A", "U0B"],
        value="4.abc",
        decided_by="U0A",
        reason=HOSTILE,
        jobs=[HOSTILE],
    )
    views = [dataclasses.replace(base, state=state) for state in ApprovalState]
    views += [dataclasses.replace(base, rule=rule.value, approvers=["C9"]) for rule in StartRule]
    approved = dataclasses.replace(base, rule=HOSTILE, state=ApprovalState.APPROVED, jobs=[])
    failed = [
        dataclasses.replace(approved, start_error=error) for error in ("interrupted", escape_mrkdwn(HOSTILE))
    ]
    return [*views, approved, *failed]


def _asked() -> AskedApproval:
    request = ApprovalRequest(
        team_id="T1",
        requester_user_id=OWNER,
        channel_id="C1",
        starts="[]",
        currency="USD",
        rule=HOSTILE,
        nonce="n",
        expires_at=NOW,
    )
    return AskedApproval(request, ["C9"])


Builder = Callable[[], Any]


# Every public function of bot.presentation: how it is walked, or why it shows no user text.
def _prices() -> list[Price | None]:
    """A price from the operator's setting, one from the table (unconfirmed), and none."""
    return [
        Price(HOSTILE, Decimal(2), Decimal("0.3"), None, HOSTILE, OVERRIDE_SOURCE),
        Price(HOSTILE, Decimal(5), None, None, HOSTILE, f"https://x/{HOSTILE}", date(2026, 12, 3), False),
        None,
    ]


def _cost(epochs: int | None, price: Price | None) -> CostEstimate:
    return estimate_cost(CostBasis(HOSTILE, 1000, 100, price, HOSTILE), epochs)


BUILDERS: dict[str, Builder | str] = {
    "blocks.state_badge": lambda: blocks.state_badge(HOSTILE),
    "blocks.section": "a Block Kit wrapper around text its caller built (and escaped)",
    "blocks.context": "a Block Kit wrapper around text its caller built (and escaped)",
    "blocks.plain": "plain_text, which Slack never parses for mentions or links",
    "blocks.when": "a date Slack formats",
    "blocks.help_blocks": lambda: blocks.help_blocks(note=None),
    "blocks.mention_help_text": lambda: blocks.mention_help_text(),
    "blocks.metadata": "private_metadata of a form: ids, never shown",
    "blocks.upload_modal": lambda: blocks.upload_modal("C1", OWNER),
    "blocks.start_modal": lambda: blocks.start_modal(
        "C1", OWNER, [HOSTILE, "7"], [BaseModelChoice(HOSTILE, HOSTILE)], display_names={"7": HOSTILE}
    ),
    "blocks.dataset_select": "a form's field of plain_text choices, walked in the start and sweep forms",
    "blocks.no_datasets_text": lambda: blocks.no_datasets_text(),
    "blocks.dataset_title": lambda: [
        blocks.dataset_title(HOSTILE, HOSTILE),
        blocks.dataset_title(HOSTILE, "x"),
    ],
    "blocks.page_count": "a number",
    "blocks.datasets_blocks": lambda: [
        blocks.datasets_blocks([DatasetSummary(_dataset(), [HOSTILE, HOSTILE])], page_number=1),
        blocks.datasets_blocks([]),
    ],
    "blocks.status_blocks": lambda: [
        blocks.status_blocks([_job(s) for s in ("running", "failed", "succeeded")])
    ],
    "blocks.models_page_blocks": lambda: [
        blocks.models_page_blocks(
            _model_summaries(),
            {"tunedModels/" + HOSTILE: OWNER},
            scope=scope,
            page_number=1,
            page_size=10,
            total=len(ModelState),
            yours=1,
            notes={
                "tunedModels/" + HOSTILE: model_notes_text(LineageNote(HOSTILE, HOSTILE, (HOSTILE,))) or ""
            },
        )
        for scope in ("all", "mine")
    ],
    "blocks.parse_page_value": "reads a button's value; builds no message",
    "blocks.delete_prompt_blocks": lambda: [
        blocks.delete_prompt_blocks("tunedModels/" + HOSTILE, HOSTILE),
        blocks.delete_prompt_blocks("tunedModels/" + HOSTILE, HOSTILE, tuning_percent=40.0),
        blocks.delete_prompt_blocks(
            "tunedModels/" + HOSTILE, HOSTILE, warning=aliases.delete_alias_warning([HOSTILE])
        ),
    ],
    "blocks.model_context": lambda: [
        blocks.model_context("tunedModels/" + HOSTILE),
        blocks.model_context("tunedModels/" + HOSTILE, HOSTILE),
    ],
    "blocks.checkpoint_name": "plain text, escaped where it is shown (thinking_text, failure_message)",
    "blocks.try_prompt_text": lambda: [
        blocks.try_prompt_text(OWNER, HOSTILE, HOSTILE),
        blocks.try_prompt_text(OWNER, HOSTILE, HOSTILE, HOSTILE),
        *[blocks.try_prompt_text(OWNER, HOSTILE, HOSTILE, HOSTILE, choice) for choice in _systems()],
    ],
    "blocks.try_started_text": lambda: [
        blocks.try_started_text(OWNER, HOSTILE),
        *[blocks.try_started_text(OWNER, HOSTILE, choice) for choice in _systems()],
    ],
    "blocks.system_line": lambda: [blocks.system_line(choice, both=True) for choice in _systems()],
    "blocks.thinking_text": lambda: blocks.thinking_text(HOSTILE),
    "channels.is_direct_message": "a yes/no about a channel id",
    "channels.refusal_for": lambda: [
        channels.refusal_for("C1", HOSTILE),
        channels.refusal_for("D1", HOSTILE),
    ],
    "chart.loss_chart_png": "draws a PNG",
    "chart.loss_chart_figure": "draws a PNG",
    "chart.lengths_chart_png": "draws a PNG",
    "chart.lengths_chart_figure": "draws a PNG",
    "commands.unknown_subcommand_text": lambda: [
        commands.unknown_subcommand_text(HOSTILE, "status"),
        commands.unknown_subcommand_text(HOSTILE, None),
    ],
    "commands.unknown_dataset_action_text": lambda: [
        commands.unknown_dataset_action_text(HOSTILE, "delete"),
        commands.unknown_dataset_action_text(HOSTILE, None),
    ],
    "commands.rename_to_what_text": lambda: commands.rename_to_what_text(HOSTILE),
    "commands.no_prompt_text": lambda: commands.no_prompt_text(HOSTILE, "`/tune try <model> <prompt>`"),
    "commands.bad_checkpoint_text": lambda: commands.bad_checkpoint_text(HOSTILE),
    "commands.bad_list_scope_text": lambda: commands.bad_list_scope_text(HOSTILE),
    "commands.which_dataset_text": lambda: commands.which_dataset_text(),
    "datasets.dataset_detail_text": lambda: datasets.dataset_detail_text(_dataset(), _insight()),
    "datasets.start_estimate_text": lambda: [
        datasets.start_estimate_text(StartEstimate(_insight(), _cost(epochs, price), 0.9, name))
        for epochs in (3, None)
        for price in _prices()
        for name in (HOSTILE, None)
    ],
    "datasets.unknown_dataset_message": lambda: [
        datasets.unknown_dataset_message(HOSTILE, [HOSTILE, "7"]),
        datasets.unknown_dataset_message(HOSTILE, []),
    ],
    "datasets.dataset_deleted_text": lambda: datasets.dataset_deleted_text(DatasetDeleted(HOSTILE, 3)),
    "datasets.dataset_delete_prompt": lambda: [
        datasets.dataset_delete_prompt(DatasetDeletePrompt(7, HOSTILE, HOSTILE, 3, [HOSTILE] * 12)),
        datasets.dataset_delete_prompt(DatasetDeletePrompt(7, HOSTILE, HOSTILE, 3, [])),
    ],
    "datasets.dataset_kept_text": lambda: [
        datasets.dataset_kept_text(HOSTILE),
        datasets.dataset_kept_text(None),
    ],
    "datasets.dataset_renamed_text": lambda: [
        datasets.dataset_renamed_text(
            DatasetRenamed(HOSTILE, _dataset(), HOSTILE, DatasetName(HOSTILE, None))
        ),
        datasets.dataset_renamed_text(
            DatasetRenamed(HOSTILE, _dataset(), HOSTILE, DatasetName(HOSTILE + " 🤖", HOSTILE))
        ),
    ],
    "datasets.start_form_estimate_text": lambda: datasets.start_form_estimate_text(
        StartEstimate(_insight(), _cost(3, None))
    ),
    "datasets.looking_at_text": lambda: datasets.looking_at_text(HOSTILE),
    "datasets.start_form_live_estimate": lambda: [
        datasets.start_form_live_estimate(StartEstimate(_insight(), _cost(2, _prices()[0]), 0.5, HOSTILE)),
        datasets.start_form_live_estimate(None, HOSTILE),
        datasets.start_form_live_estimate(None),
    ],
    "details.detail_line": lambda: [details.detail_line(v) for v in _views()],
    "details.short_detail": lambda: [details.short_detail(v) for v in _views()],
    "details.training_tokens": "a number",
    "details.data_line": lambda: [details.data_line(v) for v in _views()],
    "details.checkpoint_lines": lambda: [details.checkpoint_lines(v) for v in _views()],
    "details.signature_facts": "what decides whether a message is edited; never shown",
    "downloads.describe_size": "a size in words",
    "downloads.file_not_described_text": lambda: downloads.file_not_described_text(HOSTILE),
    "downloads.foreign_host_text": lambda: downloads.foreign_host_text(HOSTILE),
    "downloads.download_status_text": "a status code",
    "downloads.too_many_redirects_text": "a number",
    "downloads.download_failed_text": lambda: downloads.download_failed_text(HOSTILE),
    "downloads.declared_too_big_text": "sizes",
    "downloads.grew_too_big_text": "a size",
    "errors.error_text": lambda: list(_error_texts()) + list(_usage_echoes()),
    "evaluation.evaluation_file_name": "a file name made of a key tunebot chose",
    "evaluation.judge_lines": lambda: evaluation.judge_lines(_judged_report()),
    "evaluation.judged_blocks": lambda: evaluation.judged_blocks(_judged_report()),
    "evaluation.win_rate_text": "a percentage",
    "leaderboard.leaderboard_blocks": lambda: [
        leaderboard.leaderboard_blocks(_board(), dataset=HOSTILE, models=_refs() + _refs()[:1]),
        leaderboard.leaderboard_blocks(
            _board(), dataset=HOSTILE, models=[], note=leaderboard.TRAINED_ON_BOARD_NOTE
        ),
    ],
    "leaderboard.board_evaluating_text": lambda: leaderboard.board_evaluating_text(
        OWNER, _refs(), 3, HOSTILE
    ),
    "leaderboard.board_evaluated_text": lambda: leaderboard.board_evaluated_text(OWNER, _refs(), 3, HOSTILE),
    "leaderboard.board_file_title": "a file's title: plain text",
    "commands.too_many_models_text": "two numbers and the usage",
    "commands.empty_model_list_text": "the usage alone",
    "evaluation.summary_lines": lambda: evaluation.summary_lines(_report()),
    "evaluation.example_blocks": lambda: [evaluation.example_blocks(row) for row in _report().rows],
    "evaluation.evaluation_blocks": lambda: [
        evaluation.evaluation_blocks(_report(), title=evaluation.job_evaluation_title(HOSTILE)),
        evaluation.evaluation_blocks(
            _report(), title=evaluation.dataset_evaluation_title(HOSTILE), note=evaluation.TRAINED_ON_NOTE
        ),
        evaluation.evaluation_blocks(_judged_report(), title=evaluation.job_evaluation_title(HOSTILE)),
        *[
            evaluation.evaluation_blocks(_report(), title=evaluation.dataset_evaluation_title("t"), model=ref)
            for ref in _refs()
        ],
    ],
    "evaluation.evaluating_text": lambda: [
        evaluation.evaluating_text(OWNER, ref, HOSTILE, 3, HOSTILE) for ref in _refs()
    ],
    "evaluation.evaluated_text": lambda: [
        evaluation.evaluated_text(OWNER, ref, HOSTILE, 3, HOSTILE) for ref in _refs()
    ],
    "evaluation.dataset_evaluation_title": "a title escaped where it is shown (evaluation_blocks, walked)",
    "evaluation.dataset_evaluation_file_title": "a file's title: plain text",
    "evaluation.job_evaluation_title": "a title escaped where it is shown (evaluation_blocks, walked)",
    "evaluation.job_evaluation_file_title": "a file's title: plain text",
    "evaluation.compare_prompt_text": lambda: [
        *[evaluation.compare_prompt_text(OWNER, ref, HOSTILE, HOSTILE) for ref in _refs()],
        *[evaluation.compare_prompt_text(OWNER, _refs()[0], HOSTILE, HOSTILE, c) for c in _systems()],
    ],
    "evaluation.compare_blocks": lambda: [
        *[
            evaluation.compare_blocks(tuned_model=ref, base_model=HOSTILE, tuned=HOSTILE, base=HOSTILE)
            for ref in _refs()
        ],
        evaluation.compare_blocks(
            tuned_model=e.ModelRef(HOSTILE, HOSTILE),
            base_model=HOSTILE,
            tuned="",
            base="",
            tuned_error=HOSTILE,
            base_error=HOSTILE,
        ),
    ],
    "fonts.font_files": "font files for the charts",
    "home.home_view": lambda: home.home_view(
        HomeData(
            user_id=OWNER,
            datasets=[DatasetSummary(_dataset(), [HOSTILE])],
            running=[_job("running")],
            mine=[_job("succeeded")],
            others=[_job("succeeded")],
            aliases=_alias_infos(),
            notes={"tunedModels/" + HOSTILE: LineageNote(HOSTILE, HOSTILE, (HOSTILE,), _sweep_note())},
            sweeps=hostile_summaries(HOSTILE),
        )
    ),
    "insight.insight_lines": lambda: insight.insight_lines(_insight()),
    "costs.price_basis_text": lambda: [costs.price_basis_text(p, validation=True) for p in _prices() if p],
    "costs.unknown_cost_text": lambda: costs.unknown_cost_text(HOSTILE),
    "costs.start_estimate_block": lambda: costs.start_estimate_block(
        costs.estimate_text(_cost(2, _prices()[0]), validation_name=HOSTILE)
    ),
    "costs.with_start_estimate": lambda: costs.with_start_estimate(
        blocks.start_modal("C1", OWNER, [HOSTILE], [BaseModelChoice(HOSTILE, HOSTILE)]),
        costs.estimate_text(_cost(None, _prices()[1]), validation_name=HOSTILE),
    ),
    "costs.estimate_text": lambda: [
        costs.estimate_text(_cost(epochs, price), share=0.8, validation_name=HOSTILE)
        for epochs in (2, None)
        for price in _prices()
    ],
    "costs.counted_cost_text": lambda: [
        costs.counted_cost_text(counted_cost(HOSTILE, 1000, epochs, price, HOSTILE))
        for epochs in (2, 0)
        for price in _prices()
    ],
    "costs.stored_estimate_text": lambda: [
        costs.stored_estimate_text(10, 1.5, HOSTILE),
        costs.stored_estimate_text(None, None, None),
    ],
    "jobs.validation_note": lambda: [
        jobs.validation_note(ValidationSet("dataset", 3, None, HOSTILE, sent, source_uri=uri, evaluated=n))
        for sent in (True, False)
        for uri, n in ((None, 0), (f"gs://b/{HOSTILE}", 0), (f"gs://b/{HOSTILE}", 2))
    ],
    "jobs.progress_not_posted_text": lambda: jobs.progress_not_posted_text(_job()),
    "jobs.starting_text": lambda: jobs.starting_text(HOSTILE, "≈ 10 training tokens"),
    "jobs.no_such_job_text": lambda: jobs.no_such_job_text(HOSTILE),
    "jobs.no_validation_dataset_text": "a form field's error: plain text",
    "jobs.loss_chart_title": "drawn on a PNG",
    "jobs.loss_chart_file_title": "a file's title: plain text",
    "jobs.loss_chart_file_name": "a file name made of a job id",
    "models.model_label": lambda: [
        models.model_label(e.ModelRef(HOSTILE, HOSTILE)),
        models.model_label(e.ModelRef(HOSTILE)),
    ],
    "models.model_named": lambda: [models.model_named(ref) for ref in _refs()],
    "models.delete_refusal": "wraps a label model_label built (walked) and a user id",
    "models.left_out_note": "a count of turns",
    "models.deleted_text": lambda: [
        models.deleted_text(Deleted(kind, e.ModelRef("tunedModels/" + HOSTILE, name), deleted_by=OWNER))
        for kind in ("deleted", "cancelled", "already", "gone")
        for name in (HOSTILE, None)
    ],
    "models.answer_message": lambda: [models.answer_message(HOSTILE), models.answer_message(HOSTILE * 400)],
    "models.failure_message": lambda: models.failure_message(HOSTILE, BackendError(HOSTILE)),
    "models.list_failed_text": lambda: models.list_failed_text(HOSTILE),
    "progress.progress_blocks": lambda: [progress.progress_blocks(v) for v in _views()],
    "progress.completion_notice": lambda: [progress.completion_notice(v) for v in _views(FINISHED)],
    "progress.shown_percent": "a number",
    "progress.steps_text": "numbers",
    "progress.epoch_text": "numbers",
    "progress.vertex_hyperparameters": "numbers and a yes/no read back from Vertex",
    "errors.options_refused_text": lambda: errors.options_refused_text(
        HOSTILE, HOSTILE, [e.RefusedOption(HOSTILE, kind, (1, 2)) for kind in REFUSAL_KINDS]
    ),
    "signature.progress_signature": "what decides whether a message is edited; never shown",
    "text.clamp_percent": "a number",
    "text.format_percent": "a number",
    "text.progress_bar": "a bar of blocks",
    "text.format_duration": "a duration",
    "text.elapsed_seconds": "a number",
    "text.eta_seconds": "a number",
    "text.format_loss": "a number",
    "text.format_money": "an amount in the operator's currency",
    "text.plain_text": "turns tunebot's mrkdwn into plain text for form fields",
    "text.prompt_echo": lambda: prompt_echo(HOSTILE * 500),
    "uploads.upload_text": lambda: [uploads.upload_text(o, chart_in_dm=True) for o in _outcomes()],
    "uploads.not_saved_message": lambda: uploads.not_saved_message(f"`{escape_mrkdwn(HOSTILE)}`", HOSTILE),
    "uploads.duplicate_message": lambda: uploads.duplicate_message(HOSTILE, _dataset()),
    "uploads.name_note": lambda: [
        uploads.name_note(_dataset(), HOSTILE, DatasetName("x", "x")),
        uploads.name_note(_dataset(), HOSTILE, DatasetName(HOSTILE + " 🤖", None)),
        uploads.name_note(_plain_dataset(HOSTILE), HOSTILE, DatasetName(HOSTILE + "x", HOSTILE + "x")),
        uploads.name_note(_plain_dataset("dataset-1"), HOSTILE, DatasetName("dataset-1", "dataset-1")),
    ],
    "uploads.stored_message": lambda: uploads.stored_message(
        _dataset(), _parsed(HOSTILE_CSV), wanted=HOSTILE, asked=DatasetName(HOSTILE, HOSTILE)
    ),
    "uploads.file_too_big_text": lambda: uploads.file_too_big_text(HOSTILE, "3 MB", "2 MB"),
    "uploads.no_download_link_text": lambda: uploads.no_download_link_text(HOSTILE),
    "uploads.fetch_failed_text": lambda: uploads.fetch_failed_text(
        HOSTILE, downloads.download_failed_text("X")
    ),
    "uploads.lengths_chart_title": "drawn on a PNG",
    "uploads.lengths_chart_file_name": "a file name made of a dataset id",
    "uploads.lengths_chart_file_title": "a file's title: plain text",
    "uploads.too_many_files_text": "a number",
    "uploads.cloud_upload_started_text": lambda: uploads.cloud_upload_started_text(f"gs://b/{HOSTILE}"),
}
BUILDERS.update(limits_builders(HOSTILE, _dataset))
BUILDERS.update(
    {
        "approvals.rule_text": lambda: [approvals.rule_text(v) for v in _approval_views()],
        "approvals.outcome_text": lambda: [approvals.outcome_text(v) for v in _approval_views()],
        "approvals.approver_message": lambda: [approvals.approver_message(v) for v in _approval_views()],
        "approvals.requester_message": lambda: [approvals.requester_message(v) for v in _approval_views()],
        "approvals.requester_outcome_text": lambda: [
            approvals.requester_outcome_text(v) for v in _approval_views()
        ],
        "approvals.approval_asked_text": lambda: [
            approvals.approval_asked_text(_asked(), v) for v in _approval_views()
        ],
        "approvals.decline_modal": lambda: approvals.decline_modal("4.abc", "C1", _approval_views()[0]),
        "approvals.refusal_text": lambda: [
            approvals.refusal_text(r, v) for r in Refusal for v in (None, *_approval_views())
        ],
    }
)
BUILDERS.update(cancel_audit_builders(HOSTILE))
BUILDERS.update(spend_builders(HOSTILE))
BUILDERS.update(sweep_builders(HOSTILE))


def _hostile_ref() -> e.ModelRef:
    return e.ModelRef("tunedModels/" + HOSTILE, HOSTILE)


def _alias_infos() -> list[AliasInfo]:
    move = AliasMoveLine(NOW, OWNER, _hostile_ref(), _hostile_ref())
    first = AliasMoveLine(NOW, OWNER, None, e.ModelRef(HOSTILE))
    return [
        AliasInfo(HOSTILE, _hostile_ref(), OWNER, NOW, OWNER, True, [move] * 7 + [first]),
        AliasInfo(HOSTILE, e.ModelRef(HOSTILE), OWNER, NOW, None, False, []),
    ]


BUILDERS.update(
    {
        "aliases.alias_line": lambda: [aliases.alias_line(a) for a in _alias_infos()],
        "aliases.alias_meant_text": lambda: aliases.alias_meant_text(HOSTILE, _hostile_ref()),
        "aliases.promote_usage_text": lambda: [
            aliases.promote_usage_text(HOSTILE, model_given=True),
            aliases.promote_usage_text(HOSTILE, model_given=False),
        ],
        "aliases.aliases_blocks": lambda: [
            aliases.aliases_blocks(_alias_infos()),
            aliases.aliases_blocks([]),
        ],
        "aliases.delete_alias_warning": lambda: [
            aliases.delete_alias_warning([HOSTILE]),
            aliases.delete_alias_warning([HOSTILE, HOSTILE]),
        ],
        "aliases.deleted_aliases_note": lambda: [
            aliases.deleted_aliases_note([HOSTILE]),
            aliases.deleted_aliases_note([HOSTILE, "x"]),
        ],
        "aliases.lineage_error_text": "walked through errors.error_text",
        "aliases.parse_promote_value": "reads a button's value: shows nothing",
        "aliases.promote_cancelled_text": lambda: aliases.promote_cancelled_text(HOSTILE),
        "aliases.promote_prompt_blocks": lambda: [
            aliases.promote_prompt_blocks(PromotePrompt(HOSTILE, _hostile_ref(), None)),
            aliases.promote_prompt_blocks(PromotePrompt(HOSTILE, _hostile_ref(), e.ModelRef(HOSTILE))),
            aliases.promote_prompt_blocks(PromotePrompt(HOSTILE, _hostile_ref(), _hostile_ref())),
        ],
        "aliases.promoted_text": lambda: [
            aliases.promoted_text(Promoted(HOSTILE, _hostile_ref(), None, moved=True)),
            aliases.promoted_text(Promoted(HOSTILE, _hostile_ref(), e.ModelRef(HOSTILE), moved=True)),
            aliases.promoted_text(Promoted(HOSTILE, _hostile_ref(), _hostile_ref(), moved=False)),
        ],
        "lineage.lineage_text": lambda: [lineage_text(HOSTILE, HOSTILE), lineage_text(HOSTILE, None)],
        "lineage.model_notes_text": lambda: model_notes_text(
            LineageNote(HOSTILE, HOSTILE, (HOSTILE, "x"), _sweep_note())
        ),
    }
)


def _public_builders() -> set[str]:
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(bot.presentation.__path__):
        module = importlib.import_module(f"bot.presentation.{module_info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
                continue
            found.add(f"{module_info.name}.{name}")
    return found


def test_every_public_builder_is_walked() -> None:
    public = _public_builders()
    missing = sorted(public - BUILDERS.keys())
    assert not missing, f"add these to BUILDERS (hostile input, or why they show no user text): {missing}"
    assert not sorted(BUILDERS.keys() - public), "BUILDERS names functions that no longer exist"


def _mrkdwn(output: Any) -> Iterator[str]:
    """Every text Slack reads as mrkdwn: a message's text (its fallback too), and each
    `mrkdwn` object in its blocks or view. `plain_text` objects are never parsed."""
    if output is None:
        return
    if isinstance(output, str):
        yield output
    elif isinstance(output, tuple | list):
        for item in output:
            yield from _mrkdwn(item)
    elif isinstance(output, dict):
        if output.get("type") == "mrkdwn":
            yield str(output.get("text", ""))
            return
        if output.get("type") == "plain_text":  # shown as typed: Slack parses no markup in it
            return
        for key, value in output.items():
            if key == "text" and isinstance(value, str) and output.get("type") in (None, "mrkdwn"):
                yield value
            elif key not in ("value", "action_id", "block_id", "private_metadata", "url", "callback_id"):
                yield from _mrkdwn(value)


@pytest.mark.parametrize("name", sorted(k for k, v in BUILDERS.items() if not isinstance(v, str)))
def test_hostile_text_never_goes_live(name: str) -> None:
    builder = BUILDERS[name]
    assert callable(builder)
    texts = list(_mrkdwn(builder()))
    assert texts, f"{name} built no text"
    for text in texts:
        # Inside a code span `*…*` stays literal (a span is closed only by a backtick).
        outside_code = CODE_SPAN.sub("", text)
        live = [marker for marker in LIVE if marker in (outside_code if marker == " *bold*" else text)]
        assert not live, f"{name}: {live} live in {text!r}"


# The same through Slack: what the fake Slack stores is what a channel would show.
HOSTILE_NAME = "<!channel> <@U123> *bold* 名前"  # a display name fits in 40 characters


async def test_the_post_job_evaluation_shows_a_hostile_model_name_as_typed(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, f'tutorial name="{HOSTILE_NAME}" validation=20%')
    assert job.display_name == HOSTILE_NAME
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    assert job.message_ts is not None
    [evaluation_message] = [
        m
        for m in stack.workspace.thread(CHANNEL, job.message_ts)
        if (m.metadata or {}).get("event_type") == EVALUATION_EVENT_TYPE
    ]
    assert "&lt;!channel&gt;" in evaluation_message.text
    for text in (evaluation_message.text, *_mrkdwn(evaluation_message.blocks)):
        assert not [marker for marker in LIVE if marker in text], text
    for message in stack.workspace.messages(CHANNEL):  # the job message, its notice and thread
        assert "<!channel>" not in message.text and "<@U123>" not in message.text, message.text


async def test_a_hostile_validation_share_is_echoed_as_typed(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    answer = await command(stack, OWNER, "start tutorial validation=<!channel>%")
    text = answer if isinstance(answer, str) else all_text(answer)
    assert "validation" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text, text
