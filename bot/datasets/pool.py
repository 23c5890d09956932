"""Validating uploads in worker processes, so parsing never holds the serving event loop.

Parsing a 5 MB file is pure Python for tens of milliseconds; in a thread it competes with
the event loop for the GIL and delays every ack in the process. `ValidationPool` sends the
file's bytes to a small process pool (started on the first upload, shut down with the
app) and hands back the worker's `ParsedDataset` whole, so callers see exactly what an
in-process `parse_dataset` returns. At most `workers` files are read and sent at once;
the others wait their turn without holding a copy of their bytes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import IO

from bot.datasets.core import Limits, ParsedDataset, Problem
from bot.datasets.parse import parse_dataset
from bot.datasets.reading import open_source
from bot.domain.types import TrainingExample


def _exit_with_parent() -> None:
    """Runs in each worker as it starts: a worker whose parent died (killed, so it could not
    shut the pool down) exits instead of waiting for work forever."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def default_workers() -> int:
    """One core is left to the event loop (and at least one worker)."""
    return max(1, (os.cpu_count() or 1) - 1)


# A parse result on its way back from a worker: the examples as two lists of strings, and
# the earlier turns and system instruction of those that have them, by index.
Packed = tuple[ParsedDataset, list[str], list[str], dict[int, tuple[tuple[str, ...], str | None]]]


def parse_upload(
    data: bytes, file_name: str, input_column: str | None, output_column: str | None, limits: Limits
) -> Packed:
    """What a worker process runs (a module-level function, so it pickles by name).

    The examples travel as plain strings: unpickling 100,000 `TrainingExample` objects is one C
    call that holds the GIL (and so the event loop) for tens of milliseconds; strings
    unpickle in a few, and the examples are rebuilt by `unpack` in a thread, whose Python
    code gives the GIL back every switch interval.
    """
    parsed = parse_dataset(
        data, file_name, input_column=input_column, output_column=output_column, limits=limits
    )
    examples, parsed.examples = parsed.examples, []
    extras = {i: (e.history, e.system) for i, e in enumerate(examples) if e.history or e.system is not None}
    return parsed, [e.text_input for e in examples], [e.output for e in examples], extras


def unpack(packed: Packed) -> ParsedDataset:
    parsed, inputs, outputs, extras = packed
    parsed.examples = [TrainingExample(i, o) for i, o in zip(inputs, outputs, strict=True)]
    for index, (history, system) in extras.items():
        parsed.examples[index] = TrainingExample(inputs[index], outputs[index], history, system)
    return parsed


def _not_validated(file_name: str) -> ParsedDataset:
    problem = Problem("file", None, "tunebot's validator stopped while reading the file; send it again")
    return ParsedDataset(
        examples=[], problems=[problem], format="", sha256="", filename=file_name, problem_count=1
    )


class ValidationPool:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._executor: ProcessPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            # Not fork: the serving process has threads (database writes, Slack's), and a
            # forked child would inherit their locks mid-use.
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(method), initializer=_exit_with_parent
            )
        return self._executor

    async def parse(
        self,
        content: bytes | IO[bytes],
        file_name: str,
        *,
        input_column: str | None = None,
        output_column: str | None = None,
        limits: Limits | None = None,
    ) -> ParsedDataset:
        limits = limits or Limits()
        stream, size = open_source(content)
        if size is None or size > limits.max_file_bytes:
            # An unseekable stream is read as it goes (its size unknown), a file over the
            # limit is refused before a byte is read: both stay here, in a thread.
            return await asyncio.to_thread(
                parse_dataset,
                content,
                file_name,
                input_column=input_column,
                output_column=output_column,
                limits=limits,
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            data = content if isinstance(content, bytes) else await asyncio.to_thread(stream.read)
            loop = asyncio.get_running_loop()
            pool = self._pool()
            try:
                packed = await loop.run_in_executor(
                    pool, parse_upload, data, file_name, input_column, output_column, limits
                )
            except BrokenProcessPool:
                # A worker died (killed, out of memory): this file gets an answer, the
                # next upload a fresh pool.
                if self._executor is pool:
                    self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
                return _not_validated(file_name)
        return await asyncio.to_thread(unpack, packed)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
