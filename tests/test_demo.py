"""`tunebot demo`: the README's script end to end, and the terminal renderer."""

from __future__ import annotations

import re
from pathlib import Path

from bot.datasets.samples import tutorial_csv
from standins.demo import render
from standins.demo.terminal import HELP
from tests.helpers.demo import EXAMPLES, run_script, section_after

USERS = {"U0YOU": "you", "U0BOT": "tunebot"}


# --------------------------------------------------------------------------- the README's script


def test_the_example_files_are_the_tutorial() -> None:
    assert (EXAMPLES / "next-number.csv").read_bytes() == tutorial_csv()
    script = (EXAMPLES / "demo.txt").read_text(encoding="utf-8")
    assert "/tune upload next-number.csv" in script and "{model}" in script


def test_the_demo_script_walks_through_the_tutorial(tmp_path: Path) -> None:
    lines = (EXAMPLES / "demo.txt").read_text(encoding="utf-8").splitlines()
    status, transcript = run_script(lines, tmp_path)
    assert status == 0, transcript
    assert "! " not in transcript  # no line the demo could not run

    # The demo tunes on Vertex AI (the default) against the emulator: {model} became the
    # Vertex tuning job the bot created in the emulator's project.
    assert "tuning on Vertex AI" in transcript
    model = re.search(
        r"you> /tune try (projects/tunebot-offline/locations/us-central1/tuningJobs/\d+) 55", transcript
    )
    assert model is not None, transcript
    model_name = model.group(1)
    assert f"you> /tune delete {model_name}" in transcript

    # The upload went through the bot's form and stored the 15 examples, for you alone.
    upload = section_after(transcript, "you> /tune upload next-number.csv")
    assert "form “Upload examples”" in upload
    assert "tunebot  " in upload and "(only visible to you)" in upload
    assert "Stored dataset next-number: 15 examples" in upload

    # The job message is edited in place until 100%; the notice mentions you in its thread.
    # (The first version shows where tuning was when the bot first polled the job.)
    assert re.search(r"number generator · (queued|tuning)", transcript)
    edits = [block for block in transcript.split("tunebot  ") if "(edited)" in block.split("\n", 1)[0]]
    assert any("number generator · ready" in block and "100%" in block for block in edits)
    assert "step 10 / 10" in transcript and "Dataset as Vertex AI counted it: 15 examples" in transcript
    assert re.search(r"\n  │ tunebot  \d\d:\d\d  \(also sent to the channel\)\n", transcript)
    assert "\n  │   :tada: @you, your tuned model number generator is ready" in transcript
    assert "  │   [ Try it ]" in transcript

    # The loss chart was saved and its path printed.
    saved = re.search(r"tunebot-job-1-loss\.png \(Loss curve — number generator\) saved to (\S+)", transcript)
    assert saved is not None, transcript
    chart = Path(saved.group(1))
    assert chart.parent == tmp_path and chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # /tune list shows the model with its owner.
    listed = section_after(transcript, "you> /tune list")
    assert model_name in listed and "owner: @you" in listed and ":white_check_mark: ready" in listed

    # /tune try opens a thread: the prompt in the channel, the answer indented under it.
    tried = section_after(transcript, f"you> /tune try {model_name} 55")
    assert f"@you asked number generator:\n  > 55\n  `{model_name}`" in tried
    assert "  │   56" in tried.split("\n")
    replied = section_after(transcript, "you> reply 100")
    assert re.search(r"  │ you  \d\d:\d\d\n  │   100\n", replied)
    assert re.search(r"  │ tunebot  \d\d:\d\d  \(edited\)\n  │   101(\n|$)", replied)

    # Delete asks first, then deletes; the model is gone from the final list.
    asked = section_after(transcript, f"you> /tune delete {model_name}")
    assert "Delete tuned model number generator" in asked and "[ Delete ]" in asked
    dialog = section_after(transcript, "you> click Delete")
    assert "┌ Delete this model?" in dialog and "type `confirm` or `cancel`" in dialog
    confirmed = section_after(transcript, "you> confirm")
    assert "(you click [ Delete ])" in confirmed
    short = model_name.rsplit("/", 1)[-1]
    assert (
        f"(only visible to you, edited)\n  :wastebasket: Deleted number generator (`{short}`)." in confirmed
    )
    final = section_after(transcript, "you> /tune list", last=True)
    assert "There are no tuned models yet" in final and model_name not in final


def test_mistakes_are_explained_and_make_the_exit_status_1(tmp_path: Path) -> None:
    status, transcript = run_script(
        [
            "frobnicate",
            "reply hello",
            "click Delete",
            "confirm",
            "/tune try {model} 1",
            "/tune upload missing.csv",
            "/tune help",
            "help",
        ],
        tmp_path,
    )
    assert status == 1
    assert "! I don't know `frobnicate`. Type `help`" in transcript
    assert "! No /tune try thread is open" in transcript
    assert "! There is no [ Delete ] button on the recent messages." in transcript
    assert "! There is no confirmation dialog open." in transcript
    assert "you> /tune try {model} 1\n! `{model}` stands for the latest model you started" in transcript
    assert "! There is no file `missing.csv`." in transcript
    # The bot's own help comes back in its acknowledgement: shown to you alone.
    bot_help = section_after(transcript, "you> /tune help")
    assert "(only visible to you)" in bot_help and "tunebot fine-tunes Gemini models from Slack." in bot_help
    assert HELP.split("\n", 1)[0] in section_after(transcript, "you> help")


def test_a_form_the_demo_cannot_fill_is_shown_with_what_to_type_instead(tmp_path: Path) -> None:
    status, transcript = run_script(["/tune upload next-number.csv name=numbers", "/tune start"], tmp_path)
    assert status == 0, transcript
    assert "Dataset name = numbers" in transcript and "Stored dataset numbers: 15 examples" in transcript
    start = section_after(transcript, "you> /tune start")
    assert "form “Start tuning”" in start and "[ Cancel ]  [ Start ]" in start
    assert "the demo does not fill in this form" in start


# --------------------------------------------------------------------------- the renderer


def test_mentions_links_and_escapes_read_as_in_slack() -> None:
    text = "<@U0YOU> see <#C0GENERAL|general> &amp; <https://example.com|the docs> &lt;b&gt; <!here> <@U0NEW>"
    assert render.format_mrkdwn(text, USERS) == (
        "@you see #general & the docs (https://example.com) <b> @here @U0NEW"
    )


def test_formatting_markers_are_dropped_but_code_and_escaped_markers_stay() -> None:
    assert render.format_mrkdwn("*bold* and _italic_ and `co*de*`", USERS) == "bold and italic and `co*de*`"
    assert render.format_mrkdwn("_`model` is thinking…_", USERS) == "`model` is thinking…"
    # tunebot's escaping keeps user text literal with zero-width spaces; they disappear here
    assert render.format_mrkdwn("\u200b*not bold*\u200b text_input", USERS) == "*not bold* text_input"
    assert render.format_mrkdwn("*bold*", USERS, ansi=True) == f"{render.BOLD}bold{render.RESET}"


def test_quotes_and_emoji() -> None:
    assert render.format_mrkdwn("asked:\n>55\n&gt;not a quote", USERS) == "asked:\n> 55\n>not a quote"
    assert render.format_mrkdwn(":tada: `:tada:` :unknown:", USERS) == "🎉 `:tada:` :unknown:"
    assert render.format_mrkdwn(":tada:", USERS, emoji=False) == ":tada:"


def test_blocks_become_lines() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Title*\nsecond line"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "a"}, {"type": "mrkdwn", "text": "b"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Try it"}, "action_id": "t"},
                {"type": "button", "text": {"type": "plain_text", "text": "Delete"}, "action_id": "d"},
            ],
        },
    ]
    assert render.block_lines(blocks, USERS) == [
        "Title",
        "second line",
        "a · b",
        "─" * 20,
        "[ Try it ]  [ Delete ]",
    ]
    found = render.find_button(blocks, "  delete ")
    assert found is not None and found["action_id"] == "d"
    assert render.find_button(blocks, "Nope") is None
    # A message with blocks shows its blocks; without, its text.
    assert render.body_lines("fallback", blocks, USERS)[0] == "Title"
    assert render.body_lines("just *text*", None, USERS) == ["just text"]


def test_an_ephemeral_message_is_marked() -> None:
    entry = render.Entry(author="tunebot", ts="1700000000.000100", text="hi <@U0YOU>", kind="ephemeral")
    lines = render.render_entry(entry, USERS)
    assert re.fullmatch(r"tunebot  \d\d:\d\d  \(only visible to you\)", lines[0])
    assert lines[1:] == ["  hi @you"]


def test_thread_replies_are_indented_and_edits_marked() -> None:
    reply = render.Entry(author="tunebot", ts="1700000000.000200", text="101", in_thread=True, edited=True)
    lines = render.render_entry(reply, USERS)
    assert re.fullmatch(r"  │ tunebot  \d\d:\d\d  \(edited\)", lines[0])
    assert lines[1:] == ["  │   101"]
    notice = render.Entry(
        author="tunebot",
        ts="1700000000.000300",
        text="",
        in_thread=True,
        broadcast=True,
        files=(render.SavedFile("chart.png", "Loss curve", "/tmp/x/chart.png"),),
    )
    lines = render.render_entry(notice, USERS, emoji=False)
    assert lines[0].endswith("(also sent to the channel)")
    assert lines[1] == "  │   [file] chart.png (Loss curve) saved to /tmp/x/chart.png"
    intro = render.thread_intro("tunebot", "<@U0YOU> asked `m`:\n>55", USERS)
    assert intro == "  ╭ in the thread of tunebot: “@you asked `m`: > 55”"


def test_a_confirm_dialog_and_a_form() -> None:
    confirm = {
        "title": {"type": "plain_text", "text": "Delete this model?"},
        "text": {"type": "mrkdwn", "text": "`m` will be deleted for everyone."},
        "confirm": {"type": "plain_text", "text": "Delete"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    assert render.render_confirm(confirm, USERS) == [
        "┌ Delete this model?",
        "│ `m` will be deleted for everyone.",
        "└ [ Cancel ]  [ Delete ]    type `confirm` or `cancel`",
    ]
    view = {
        "title": {"type": "plain_text", "text": "Upload examples"},
        "submit": {"type": "plain_text", "text": "Upload"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "optional": True,
                "label": {"type": "plain_text", "text": "Dataset name"},
                "element": {"type": "plain_text_input"},
            }
        ],
    }
    assert render.render_view(view, USERS) == [
        "┌ form “Upload examples”",
        "│ Dataset name (optional): plain_text_input",
        "└ [ Cancel ]  [ Upload ]",
    ]


def test_terminal_widths() -> None:
    assert render.display_width(f"{render.BOLD}ab{render.RESET}") == 2
    assert render.display_width("🎉x") == 3
    assert render.rows(["a" * 10, "", "b" * 25], 10) == 1 + 1 + 3
