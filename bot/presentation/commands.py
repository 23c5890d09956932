"""Answers to how a `/tune` command was typed: each subcommand's usage, and what was not understood.

(The parser's own messages, for malformed options, are in `bot.slack.commands`.)
"""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc

TRY_USAGE = (
    '`/tune try <model> [checkpoint=N] [system="…"] <prompt>` '
    '(a model name with spaces goes in quotes: `"my model"`)'
)
COMPARE_USAGE = "`/tune compare <model> <prompt>`"
EVAL_USAGE = "`/tune eval <model>[,<model>,…] <dataset>`"
DELETE_USAGE = "`/tune delete <model>`"
DATASET_USAGE = "`/tune dataset delete <name>` or `/tune dataset rename <name> <new name>`"


def too_many_models_text(count: int, most: int) -> str:
    """`/tune eval a,b,… <dataset>` with more models than one leaderboard holds."""
    return f"{count} models is too many for one evaluation: list at most {most}. Usage: {EVAL_USAGE}"


def empty_model_list_text() -> str:
    """`/tune eval a,,b <dataset>` or `/tune eval , <dataset>`."""
    return f"A model is missing in the list (two commas, or one at an end). Usage: {EVAL_USAGE}"


def unknown_subcommand_text(name: str, guess: str | None) -> str:
    """`/tune <name>` for a subcommand there is none of; `guess` is the nearest one, if any."""
    hint = f" Did you mean `/tune {guess}`?" if guess else ""
    return f"I don't know `/tune {esc(name)}`.{hint}"


def unknown_dataset_action_text(action: str, guess: str | None) -> str:
    """`/tune dataset <action>` for an action there is none of."""
    hint = f" Did you mean `{guess}`?" if guess else ""
    return f"I don't know `/tune dataset {esc(action)}`.{hint} Usage: {DATASET_USAGE}"


def rename_to_what_text(name: str) -> str:
    """`/tune dataset rename <name>` without the new name."""
    return f"Rename `{esc(name)}` to what? Usage: {DATASET_USAGE}"


def no_prompt_text(model_text: str, usage: str) -> str:
    """`/tune try` or `/tune compare` with a model but nothing to ask it."""
    return f"What should I ask *{esc(model_text)}*? Usage: {usage}"


def bad_checkpoint_text(value: str) -> str:
    """`checkpoint=<value>` that is not a number."""
    return f"`checkpoint` is a checkpoint number such as `checkpoint=2`, not `{esc(value)}`."


def bad_list_scope_text(rest: str) -> str:
    """`/tune list <rest>` for something other than `mine` or `all`."""
    return f"`/tune list` takes `mine` or `all`, not `{esc(rest)}`."


def which_dataset_text() -> str:
    """`/tune eval <model>` without a dataset."""
    return f"On which dataset? Usage: {EVAL_USAGE}"
