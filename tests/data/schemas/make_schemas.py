"""Regenerate the schemas tunebot created before it adopted Alembic:
`python tests/data/schemas/make_schemas.py` (from the repository root, in a git clone).

Before Alembic (commit 4955f5d) `SQLModel.metadata.create_all` made the tables on every
start, and created only the tables that were missing: a table it found was left as it was,
so a database kept the columns of the release that first created it. `bot/storage/models.py`
changed three times in that time; each change is one schema, named by its commit:

- `3e217ee` (also a17c661): `sqlmodel>=0.0.22`, whose `datetime` columns were a plain
  `DateTime` (PostgreSQL `TIMESTAMP WITHOUT TIME ZONE`, naive UTC values);
- `bb23dac` (to 89a452d): `sqlmodel>=0.0.50`, `datetime` is `UTCDateTime` (`TIMESTAMP WITH
  TIME ZONE`); no `tuning_job.message_state` yet;
- `3bb8853` (to 4955f5d^): `tuning_job.message_state` added (the `0001_baseline` schema).

For each, the models file of that commit is run on its own and the statements `create_all`
sends are written, per dialect, to `<commit>.<dialect>.sql` (`tests/helpers/old_databases.py`
builds test databases from them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

# commit -> whether its sqlmodel made `datetime` columns without a time zone
SCHEMAS = {"3e217ee": True, "bb23dac": False, "3bb8853": False}

RENDER = """
import sys, types
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

naive, dialect = sys.argv[1] == "naive", sys.argv[2]
module = types.ModuleType("old_models")
sys.modules["old_models"] = module
exec(compile(sys.stdin.read(), "old_models.py", "exec"), module.__dict__)
out = []
for table in SQLModel.metadata.sorted_tables:
    if naive:
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                column.type = sa.DateTime()
    d = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}[dialect]
    out.append(str(CreateTable(table).compile(dialect=d)).strip() + ";")
    for index in sorted(table.indexes, key=lambda i: i.name or ""):
        out.append(str(CreateIndex(index).compile(dialect=d)).strip() + ";")
print("\\n".join(out))
"""


def main() -> None:
    for commit, naive in SCHEMAS.items():
        source = subprocess.run(
            ["git", "show", f"{commit}:bot/storage/models.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for dialect in ("sqlite", "postgresql"):
            ddl = subprocess.run(
                [sys.executable, "-c", RENDER, "naive" if naive else "aware", dialect],
                input=source,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            header = f"-- the tables `create_all` made at {commit} ({dialect}); see make_schemas.py\n"
            (HERE / f"{commit}.{dialect}.sql").write_text(header + ddl)


if __name__ == "__main__":
    main()
