"""Schema migrations: an existing database upgrades in place, and the revisions build
exactly the schema the models describe (SQLite file and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from bot.storage import schema
from bot.storage.engine import make_engine
from bot.storage.store import Store
from tests.helpers.databases import PAIRS, database_made_before_alembic


def test_a_database_made_before_migrations_upgrades_in_place_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "tunebot.db"
    database_made_before_alembic(path)

    store = Store.from_url(f"sqlite:///{path}")

    (dataset,) = store.datasets.list_for_owner("T1", "U1")
    assert (dataset.dataset.name, dataset.dataset.example_count) == ("numbers", 12)
    assert store.datasets.examples(1) == PAIRS
    job = store.jobs.get(7)
    assert job is not None
    assert (job.display_name, job.state, job.percent, job.message_ts) == (
        "numbers",
        "running",
        40.0,
        "1700000000.000100",
    )
    assert [j.id for j in store.jobs.active()] == [7]
    owner = store.ownership.get("tunedModels/numbers-abc")
    assert owner is not None and (owner.owner_user_id, owner.job_id) == ("U1", 7)
    assert store.threads.model_for("C1", "1700000001.000200") == "tunedModels/numbers-abc"
    with store.engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
    # 0003_vertex: the old job has the new columns (empty) and can be given what Vertex reports;
    # held-out examples can be stored for new jobs.
    assert (job.detail_state, job.eval_loss, job.checkpoints, job.data_stats) == (None, None, None, None)
    assert store.evaluations.held_out_examples(7) == []
    store.jobs.update(7, detail_state="waiting_for_quota", eval_loss=0.5, data_stats='{"examples": 12}')
    moved = store.jobs.get(7)
    assert moved is not None and (moved.detail_state, moved.eval_loss) == ("waiting_for_quota", 0.5)
    store.engine.dispose()

    again = Store.from_url(f"sqlite:///{path}")  # a second start finds it current and changes nothing
    assert again.jobs.get(7) is not None
    again.engine.dispose()


def test_the_revisions_build_exactly_the_schema_of_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            schema.migrate(connection)  # every revision, from nothing
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            assert schema.current_revision(connection) == schema.head_revision()
        assert differences == []
    finally:
        engine.dispose()


def test_a_new_database_is_created_from_the_models_and_marked_current(database_url: str) -> None:
    store = Store.from_url(database_url)
    try:
        with store.engine.connect() as connection:
            assert schema.current_revision(connection) == schema.head_revision()
            assert {"dataset", "tuning_job", "model_ownership"} <= set(inspect(connection).get_table_names())
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        store.engine.dispose()
