"""Parsing and validating uploaded example files into input/output pairs.

A pure library: no Slack, no database. `parse_dataset` never raises for bad input; it
returns a `ParsedDataset` whose `problems` say, for the uploader, what is wrong and where.
"""

from bot.datasets.core import Limits, ParsedDataset, Problem, format_problems
from bot.datasets.parse import FORMATS, INPUT_NAMES, OUTPUT_NAMES, parse_dataset
from bot.datasets.samples import TUTORIAL_EXAMPLES, tutorial_csv, tutorial_jsonl
from bot.domain.types import TrainingExample

__all__ = [
    "FORMATS",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "TUTORIAL_EXAMPLES",
    "Limits",
    "ParsedDataset",
    "Problem",
    "TrainingExample",
    "format_problems",
    "parse_dataset",
    "tutorial_csv",
    "tutorial_jsonl",
]
