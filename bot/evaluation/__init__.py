"""Base-vs-tuned evaluation: run held-out examples through a tuned model and its base model,
and score both (exact match and normalised similarity, with rapidfuzz).

`score` holds the pure rules, `judge` the pairwise judgement (both orders, a win rate),
`runner` the bounded-concurrency calls with the poller's retry rules, `report` the result as
a value (JSON for storage, CSV for Slack), `board` several models' results on one sample."""

from bot.evaluation.report import EvalReport, EvalRow
from bot.evaluation.runner import EvalRetry, evaluate

__all__ = ["EvalReport", "EvalRetry", "EvalRow", "evaluate"]
