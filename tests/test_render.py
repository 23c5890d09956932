"""What people see in the job progress message and the end-of-job notice."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import bot.domain.types
from bot.domain.text import escape_mrkdwn, escape_truncated
from bot.domain.types import JobState
from bot.polling import view as model
from bot.polling.view import JobView
from bot.presentation.progress import (
    TRY_MODEL_ACTION_ID,
    Block,
    completion_notice,
    progress_blocks,
)
from bot.presentation.signature import progress_signature
from bot.presentation.text import (
    EMPTY_CELL,
    FILLED_CELL,
    format_duration,
    format_loss,
    format_percent,
    progress_bar,
)

STARTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OWNER = "U0123ABCD"
MODEL = "tunedModels/support-bot-a1b2c3"
SECTION_TEXT_LIMIT = 3000  # Slack rejects longer section text
LIVE_MARKUP = re.compile(r"<[^>]*>")


def make_view(**changes: Any) -> JobView:
    view = JobView(
        job_id=7,
        display_name="Support bot",
        model_name=MODEL,
        owner_user_id=OWNER,
        base_model="models/gemini-1.5-flash-001-tuning",
        state="running",
        percent=50.0,
        completed_steps=19,
        total_steps=38,
        epoch=2,
        epoch_count=5,
        mean_loss=0.81234,
        started_at=STARTED,
        now=STARTED + timedelta(minutes=10),
        dataset_name="faq.jsonl",
        batch_size=4,
        learning_rate=0.001,
    )
    return replace(view, **changes)


def texts(blocks: list[Block]) -> list[str]:
    """Every piece of mrkdwn/plain text in the blocks, in order."""
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                found.append(element["text"]["text"])
            elif "text" in element:
                found.append(element["text"])
    return found


def all_text(message: tuple[str, list[Block]]) -> str:
    fallback, blocks = message
    return "\n".join([fallback, *texts(blocks)])


def live_markup(text: str) -> set[str]:
    """The `<…>` constructs Slack would act on (mentions, links, pings)."""
    return set(LIVE_MARKUP.findall(text))


def try_buttons(blocks: list[Block]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == TRY_MODEL_ACTION_ID
    ]


# --- one LossPoint type -------------------------------------------------------------


def test_render_model_reuses_the_tuning_loss_point() -> None:
    assert model.LossPoint is bot.domain.types.LossPoint


# --- progress message -----------------------------------------------------------------


def test_progress_shows_name_state_percent_and_steps() -> None:
    fallback, blocks = progress_blocks(make_view())
    shown = "\n".join(texts(blocks))
    assert "*Support bot*" in shown
    assert "tuning" in shown
    assert "*50%*" in shown
    assert "step 19 / 38" in shown
    assert fallback == "Support bot: tuning (50% · step 19 / 38)"


def test_progress_bar_fills_in_proportion_to_percent() -> None:
    _, blocks = progress_blocks(make_view(percent=25.0, completed_steps=9))
    assert f"`{FILLED_CELL * 5}{EMPTY_CELL * 15}`" in "\n".join(texts(blocks))


@pytest.mark.parametrize(
    ("percent", "filled"),
    [(0.0, 0), (4.9, 0), (5.0, 1), (50.0, 10), (99.9, 19), (100.0, 20), (250.0, 20), (-3.0, 0)],
)
def test_progress_bar_is_only_full_when_done(percent: float, filled: int) -> None:
    bar = progress_bar(percent)
    assert len(bar) == 20
    assert bar == FILLED_CELL * filled + EMPTY_CELL * (20 - filled)


def test_percent_rounds_down_so_100_means_done() -> None:
    assert format_percent(99.9) == "99%"
    assert format_percent(100.0) == "100%"
    assert format_percent(float("nan")) == "0%"


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, "epoch 1 of 5"), (2, "epoch 3 of 5"), (4, "epoch 5 of 5")]
)
def test_epoch_is_counted_from_one(epoch: int, expected: str) -> None:
    assert expected in all_text(progress_blocks(make_view(epoch=epoch)))


def test_progress_shows_latest_loss() -> None:
    assert "loss 0.812" in all_text(progress_blocks(make_view()))


def test_progress_context_shows_owner_model_dataset_and_hyperparameters() -> None:
    _, blocks = progress_blocks(make_view())
    context = [block for block in blocks if block["type"] == "context"]
    assert len(context) == 1
    line = " ".join(texts(context))
    assert f"<@{OWNER}>" in line
    assert "models/gemini-1.5-flash-001-tuning" in line
    assert MODEL in line
    assert "faq.jsonl" in line
    assert "5 epochs" in line
    assert "batch size 4" in line
    assert "learning rate 0.001" in line


def test_eta_is_extrapolated_from_percent_and_elapsed_time() -> None:
    text = all_text(progress_blocks(make_view(percent=25.0, now=STARTED + timedelta(minutes=10))))
    assert "10m 00s elapsed" in text
    assert "about 30m 00s left" in text


@pytest.mark.parametrize(
    "changes",
    [
        {"percent": 0.0, "completed_steps": 0},
        {"state": "queued", "percent": 0.0, "completed_steps": None},
        {"state": "succeeded", "percent": 100.0},
        {"state": "failed", "error_message": "boom"},
        {"state": "cancelled"},
        {"state": "lost"},
    ],
)
def test_eta_is_hidden_without_progress_or_once_finished(changes: dict[str, Any]) -> None:
    assert "ETA" not in all_text(progress_blocks(make_view(**changes)))


def test_succeeded_progress_shows_full_bar_and_time_taken() -> None:
    text = all_text(progress_blocks(make_view(state="succeeded", percent=97.0, completed_steps=37)))
    assert "*100%*" in text
    assert FILLED_CELL * 20 in text
    assert "step 38 / 38" in text
    assert "took 10m 00s" in text


def test_failed_progress_quotes_googles_error() -> None:
    text = all_text(progress_blocks(make_view(state="failed", error_message="Quota exceeded for tuning")))
    assert "> Quota exceeded for tuning" in text


def test_job_state_enum_is_accepted() -> None:
    from_enum = progress_blocks(make_view(state=JobState.RUNNING))
    assert from_enum == progress_blocks(make_view(state="running"))


def test_blank_display_name_falls_back_to_job_number() -> None:
    assert "*job 7*" in all_text(progress_blocks(make_view(display_name="   ")))


# --- escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here>", "&lt;!here&gt;"),
        ("<@U999>", "&lt;@U999&gt;"),
        ("<http://evil.example|click me>", "&lt;http://evil.example|click me&gt;"),
        ("Q&A", "Q&amp;A"),
        ("&lt;", "&amp;lt;"),
        ("a < b > c", "a &lt; b &gt; c"),
        ("plain words_with_underscores", "plain words_with_underscores"),
    ],
)
def test_escape_mrkdwn_neutralises_slack_control_characters(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


def test_escape_mrkdwn_keeps_formatting_markers_literal() -> None:
    escaped = escape_mrkdwn("*not bold* and > not a quote")
    assert escaped.replace("\u200b", "") == "*not bold* and &gt; not a quote"
    assert not escaped.startswith("*")
    assert not escaped.endswith("*")


def test_escape_truncated_fits_the_limit_after_escaping() -> None:
    shortened = escape_truncated("<" * 100, 20)
    assert len(shortened) <= 20
    assert shortened.endswith("…")
    assert "<" not in shortened


def test_pings_in_display_name_are_escaped_everywhere() -> None:
    view = make_view(display_name="<!channel> hi <!here> <@U999>", state="succeeded")
    for message in (progress_blocks(view), completion_notice(view)):
        text = all_text(message)
        assert "&lt;!channel&gt;" in text
        assert live_markup(text) == {f"<@{OWNER}>"}


def test_pings_in_error_message_are_escaped() -> None:
    view = make_view(state="failed", error_message="bad input <!channel> & <!here>")
    for message in (progress_blocks(view), completion_notice(view)):
        text = all_text(message)
        assert "bad input &lt;!channel&gt; &amp; &lt;!here&gt;" in text
        assert live_markup(text) == {f"<@{OWNER}>"}


def test_owner_that_is_not_a_user_id_is_shown_inert() -> None:
    view = make_view(owner_user_id="<!channel>", state="succeeded")
    for message in (progress_blocks(view), completion_notice(view)):
        assert live_markup(all_text(message)) == set()


def test_untrusted_model_and_dataset_names_are_escaped() -> None:
    view = make_view(model_name="tunedModels/x <!here>", dataset_name="<!channel>.jsonl")
    assert live_markup(all_text(progress_blocks(view))) == {f"<@{OWNER}>"}


def test_huge_inputs_stay_within_slack_limits() -> None:
    view = make_view(
        display_name="<" * 5000,
        state="failed",
        error_message="\n".join(f"> line {i} <!channel>" for i in range(2000)),
    )
    for _, blocks in (progress_blocks(view), completion_notice(view)):
        for text in texts(blocks):
            assert len(text) <= SECTION_TEXT_LIMIT


# --- completion notices -------------------------------------------------------------------


def test_success_notice_mentions_owner_and_offers_try_button() -> None:
    view = make_view(state="succeeded", percent=100.0, completed_steps=38, mean_loss=0.2)
    fallback, blocks = completion_notice(view)
    text = all_text((fallback, blocks))
    assert fallback.startswith(f"<@{OWNER}>")
    assert "*Support bot* is ready" in text
    assert "final loss *0.200*" in text
    assert "took *10m 00s*" in text
    buttons = try_buttons(blocks)
    assert len(buttons) == 1
    assert buttons[0]["value"] == MODEL
    assert buttons[0]["text"]["text"] == "Try it"


def test_failure_notice_mentions_owner_and_includes_googles_message() -> None:
    error = "Training data is invalid: example 12 has no output."
    fallback, blocks = completion_notice(make_view(state="failed", error_message=error))
    text = all_text((fallback, blocks))
    assert fallback.startswith(f"<@{OWNER}>")
    assert "failed" in fallback
    assert f"> {error}" in text
    assert try_buttons(blocks) == []


def test_failure_notice_without_details_says_so() -> None:
    assert "no error details" in all_text(completion_notice(make_view(state="failed", error_message=None)))


def test_lost_notice_mentions_owner_and_explains() -> None:
    fallback, blocks = completion_notice(make_view(state="lost"))
    text = all_text((fallback, blocks))
    assert fallback.startswith(f"<@{OWNER}>")
    assert "was lost" in text
    assert "no longer exists on Google's side" in text
    assert try_buttons(blocks) == []


def test_cancelled_notice_mentions_owner() -> None:
    fallback, blocks = completion_notice(make_view(state=JobState.CANCELLED))
    assert fallback.startswith(f"<@{OWNER}>")
    assert "cancelled" in all_text((fallback, blocks))


@pytest.mark.parametrize("state", ["queued", "running"])
def test_completion_notice_refuses_unfinished_jobs(state: str) -> None:
    with pytest.raises(ValueError, match="finished"):
        completion_notice(make_view(state=state))


# --- signature: when the poller edits the message --------------------------------------------


def test_signature_ignores_the_passing_of_time() -> None:
    before = make_view(now=STARTED + timedelta(minutes=10))
    later = make_view(now=STARTED + timedelta(minutes=11, seconds=7))
    assert progress_blocks(before) != progress_blocks(later)  # the timing line did move
    assert progress_signature(before) == progress_signature(later)


def test_signature_ignores_changes_too_small_to_show() -> None:
    assert progress_signature(make_view(percent=50.2)) == progress_signature(make_view(percent=50.7))
    assert progress_signature(make_view(mean_loss=0.81231)) == progress_signature(
        make_view(mean_loss=0.81238)
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"percent": 51.0},
        {"completed_steps": 20},
        {"total_steps": 40},
        {"epoch": 3},
        {"mean_loss": 0.7},
        {"state": "succeeded"},
        {"state": "failed", "error_message": "boom"},
        {"display_name": "Renamed"},
    ],
)
def test_signature_changes_when_something_visible_changes(changes: dict[str, Any]) -> None:
    assert progress_signature(make_view()) != progress_signature(make_view(**changes))


def test_signature_changes_when_failure_text_changes() -> None:
    first = make_view(state="failed", error_message="boom")
    assert progress_signature(first) != progress_signature(replace(first, error_message="bang"))


# --- small formatters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (-5, "0s"), (45.9, "45s"), (185, "3m 05s"), (3720, "1h 02m"), (183600, "2d 03h")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (1.23456, "1.235"),
        (0.0, "0.000"),
        (0.00012, "1.20e-04"),
    ],
)
def test_format_loss(loss: float | None, expected: str | None) -> None:
    assert format_loss(loss) == expected


def test_success_notice_without_model_name_has_no_try_button() -> None:
    _, blocks = completion_notice(make_view(state="succeeded", model_name=""))
    assert try_buttons(blocks) == []
    assert all(text for text in texts(blocks))  # Slack rejects empty text elements


# ---- wording a new user stumbled on (#15) -----------------------------------------------------


def all_of(view: JobView) -> str:
    return "\n".join(texts(progress_blocks(view)[1]))


def test_job_message_wording_reads_naturally() -> None:
    just_queued = all_of(make_view(state="queued", percent=0.0, now=STARTED, epoch_count=1))
    assert "queued just now" in just_queued and "waiting for 0s" not in just_queued
    assert "1 epoch," in just_queued and "1 epochs" not in just_queued
    nearly = all_of(make_view(percent=99.99, now=STARTED + timedelta(seconds=50)))
    assert "almost done" in nearly and "0s" not in nearly.split("elapsed")[1]
    _, notice = completion_notice(make_view(state="succeeded", percent=100.0))
    ready = "\n".join(texts(notice))
    assert "ACTIVE" not in ready and "is ready to use" in ready


def test_status_and_job_message_share_one_state_vocabulary() -> None:
    from bot.presentation.blocks import state_badge, status_blocks
    from bot.storage.models import TuningJob

    for state in ("queued", "running", "succeeded", "failed", "cancelled", "lost"):
        title = texts(progress_blocks(make_view(state=state))[1])[0]
        badge = state_badge(state)
        emoji, label = badge.split(" ", 1)
        assert title.startswith(emoji) and title.endswith(label)
        job = TuningJob(
            id=1, team_id="T", owner_user_id=OWNER, channel_id="C", display_name="x", base_model="m",
            epoch_count=1, batch_size=1, learning_rate=0.1, state=state,
        )  # fmt: skip
        assert badge in "\n".join(texts(status_blocks([job])[1]))


def test_vertex_jobs_do_not_show_a_batch_size() -> None:
    from bot.polling.view import job_view
    from bot.storage.models import TuningJob

    job = TuningJob(
        id=1, team_id="T", owner_user_id=OWNER, channel_id="C", display_name="x", base_model="m",
        epoch_count=3, batch_size=4, learning_rate=0.001, backend="vertex",
    )  # fmt: skip
    assert "batch size" not in all_of(job_view(job, STARTED))
    job.backend = "gemini"
    assert "batch size 4" in all_of(job_view(job, STARTED))
