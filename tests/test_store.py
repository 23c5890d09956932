"""Storage on a real SQLite file and on the local PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.types import TrainingExample
from bot.storage.models import TuningJob, utcnow
from bot.storage.repositories.datasets import DuplicateDataset, dataset_name_from
from bot.storage.store import Store
from tests.helpers.databases import postgres_schema_url, sqlite_url

PAIRS = [TrainingExample(str(n), str(n + 1)) for n in range(12)]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = Store.from_url(sqlite_url(tmp_path))
        yield store
        store.engine.dispose()
    else:
        with postgres_schema_url() as url:
            store = Store.from_url(url)
            yield store
            store.engine.dispose()


def add(store: Store, name: str = "numbers", sha: str = "a" * 64, user: str = "U1") -> int:
    dataset = store.datasets.add(
        team_id="T1",
        owner_user_id=user,
        channel_id="C1",
        name=name,
        file_name=f"{name}.csv",
        format="csv",
        sha256=sha,
        examples=PAIRS,
    )
    assert dataset.id is not None
    return dataset.id


def job(dataset_id: int | None = None, **fields: object) -> TuningJob:
    values: dict[str, object] = {
        "team_id": "T1",
        "owner_user_id": "U1",
        "channel_id": "C1",
        "dataset_id": dataset_id,
        "display_name": "numbers",
        "base_model": "models/gemini-1.5-flash-001-tuning",
        "model_name": "tunedModels/numbers-abc",
        "operation_name": "tunedModels/numbers-abc/operations/x",
        "epoch_count": 5,
        "batch_size": 2,
        "learning_rate": 0.001,
    }
    values.update(fields)
    return TuningJob(**values)  # type: ignore[arg-type]


def test_dataset_round_trip_keeps_every_example(store: Store) -> None:
    dataset_id = add(store)
    assert store.datasets.examples(dataset_id) == PAIRS
    summaries = store.datasets.list_for_owner("T1", "U1")
    assert [s.dataset.name for s in summaries] == ["numbers"]
    assert summaries[0].dataset.example_count == 12


def test_datasets_are_listed_newest_first_with_the_jobs_run_on_them(store: Store) -> None:
    first = add(store, name="numbers", sha="a" * 64)
    second = add(store, name="letters", sha="b" * 64)
    add(store, name="theirs", sha="c" * 64, user="U2")
    store.jobs.create(job(first, display_name="numbers-v1", model_name="tunedModels/a", operation_name="o/a"))
    store.jobs.create(job(first, display_name="numbers-v2", model_name="tunedModels/b", operation_name="o/b"))
    summaries = store.datasets.list_for_owner("T1", "U1")
    assert [(s.dataset.name, s.job_names) for s in summaries] == [
        ("letters", []),
        ("numbers", ["numbers-v1", "numbers-v2"]),
    ]
    assert [s.dataset.id for s in summaries] == [second, first]
    assert store.datasets.list_for_owner("T1", "U3") == []


def test_same_bytes_are_recognised_and_names_get_a_suffix(store: Store) -> None:
    add(store, sha="a" * 64)
    with pytest.raises(DuplicateDataset) as caught:
        add(store, name="other", sha="a" * 64)
    assert caught.value.existing.name == "numbers"
    add(store, sha="b" * 64)
    assert store.datasets.names("T1") == ["numbers", "numbers-2"]
    assert store.datasets.count() == 2


def test_dataset_lookup_by_name_or_id(store: Store) -> None:
    dataset_id = add(store)
    assert store.datasets.by_name("T1", "numbers") is not None
    assert store.datasets.by_id("T1", dataset_id) is not None
    assert store.datasets.by_name("T2", "numbers") is None and store.datasets.by_id("T2", dataset_id) is None


def test_dataset_names_from_file_names() -> None:
    assert dataset_name_from("Sales Q3.csv") == "sales-q3"
    assert dataset_name_from("../../etc/passwd") == "passwd"
    assert dataset_name_from("....csv") == "dataset"


def test_a_leased_job_is_not_claimed_twice(store: Store) -> None:
    for n in range(5):
        store.jobs.create(job(model_name=f"tunedModels/m{n}"))
    now = utcnow()
    first = store.jobs.claim_due(owner="A", now=now, lease_seconds=60)
    second = store.jobs.claim_due(owner="B", now=now, lease_seconds=60)
    assert len(first) == 5
    assert second == []
    # B cannot write to A's jobs (fenced), A can.
    assert not store.jobs.update_leased(first[0].id or 0, "B", percent=50.0)
    assert store.jobs.update_leased(first[0].id or 0, "A", percent=50.0)
    # When A's leases expire (A died), B takes over.
    later = now + timedelta(seconds=61)
    taken = store.jobs.claim_due(owner="B", now=later, lease_seconds=60)
    assert len(taken) == 5
    assert not store.jobs.update_leased(first[0].id or 0, "A", percent=60.0)


def test_finished_jobs_with_notice_done_are_not_claimed(store: Store) -> None:
    store.jobs.create(job(state="succeeded", notice_state="done"))
    store.jobs.create(job(state="succeeded", notice_state="posting", model_name="tunedModels/b"))
    store.jobs.create(job(state="running", notice_state="starting", model_name="tunedModels/c"))
    claimed = store.jobs.claim_due(owner="A", now=utcnow(), lease_seconds=60)
    assert [j.model_name for j in claimed] == ["tunedModels/b"]


def test_deleting_a_model_stops_its_job(store: Store) -> None:
    created = store.jobs.create(job())
    store.ownership.record(
        model_name="tunedModels/numbers-abc", team_id="T1", owner_user_id="U1", job_id=created.id
    )
    store.ownership.mark_deleted("tunedModels/numbers-abc", "U1")
    stopped = store.jobs.get(created.id or 0)
    assert stopped is not None and stopped.state == "cancelled"
    owner = store.ownership.get("tunedModels/numbers-abc")
    assert owner is not None and owner.deleted_by == "U1"
    assert store.jobs.claim_due(owner="A", now=utcnow(), lease_seconds=60) == []


def test_events_are_handled_once(store: Store) -> None:
    assert store.events.first_delivery("Ev1")
    assert not store.events.first_delivery("Ev1")
    assert store.events.first_delivery("Ev2")


def test_racing_claims_never_get_the_same_job(store: Store) -> None:
    """Many threads claiming at once (a poll cycle and a just-started job, or replicas)."""
    import threading

    for n in range(20):
        store.jobs.create(job(model_name=f"tunedModels/r{n}"))
    now = utcnow()
    results: list[list[int]] = []
    barrier = threading.Barrier(6)

    def claim(owner: str) -> None:
        barrier.wait()
        results.append([j.id or 0 for j in store.jobs.claim_due(owner=owner, now=now, lease_seconds=60)])

    threads = [threading.Thread(target=claim, args=(f"owner-{i % 2}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [job_id for batch in results for job_id in batch]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 20


def test_old_event_records_are_forgotten_recent_ones_kept(store: Store) -> None:
    assert store.events.first_delivery("EvOld") and store.events.first_delivery("EvNew")
    from bot.storage.models import SeenEvent

    with store.session() as session:
        old = session.get(SeenEvent, "EvOld")
        assert old is not None
        old.seen_at = utcnow() - timedelta(days=2)
        session.add(old)
        session.commit()
    assert store.events.forget_older_than(timedelta(days=1)) == 1
    assert not store.events.first_delivery("EvNew")  # a retry of a recent event is still recognised
    assert store.events.first_delivery("EvOld")


def test_forgetting_events_follows_the_clock_it_is_given(store: Store) -> None:
    assert store.events.first_delivery("EvA") and store.events.first_delivery("EvB")
    assert store.events.forget_older_than(timedelta(days=1), now=utcnow()) == 0
    assert store.events.forget_older_than(timedelta(days=1), now=utcnow() + timedelta(days=2)) == 2
    assert store.events.first_delivery("EvA")  # forgotten: a delivery now counts as the first
