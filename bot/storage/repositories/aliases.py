"""A team's model aliases and every move of them (`/tune promote`, `/tune aliases`).

Each public method is one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.storage.engine import Repository
from bot.storage.models import AliasMove, ModelAlias, utcnow


class AliasRepository(Repository):
    def get(self, team_id: str, name: str) -> ModelAlias | None:
        with self.session() as session:
            return session.get(ModelAlias, (team_id, name))

    def for_team(self, team_id: str) -> list[ModelAlias]:
        """The team's aliases by name."""
        with self.session() as session:
            query = select(ModelAlias).where(ModelAlias.team_id == team_id).order_by(col(ModelAlias.name))
            return list(session.exec(query).all())

    def pointing_to(self, team_id: str, model_name: str) -> list[str]:
        """The names of the team's aliases that point to `model_name`."""
        with self.session() as session:
            query = (
                select(ModelAlias.name)
                .where(ModelAlias.team_id == team_id, ModelAlias.model_name == model_name)
                .order_by(col(ModelAlias.name))
            )
            return list(session.exec(query).all())

    def move(
        self, team_id: str, name: str, *, model_name: str, user_id: str, at: datetime | None = None
    ) -> AliasMove | None:
        """Point `name` at `model_name` (creating it) and record the move; None when it
        already pointed there (nothing moved, nothing recorded)."""
        moved_at = at or utcnow()
        with self.session() as session:
            alias = session.get(ModelAlias, (team_id, name), with_for_update=True)
            previous = alias.model_name if alias is not None else None
            if previous == model_name:
                return None
            if alias is None:
                alias = ModelAlias(team_id=team_id, name=name, model_name=model_name, moved_by=user_id)
            alias.model_name, alias.moved_by, alias.moved_at = model_name, user_id, moved_at
            move = AliasMove(
                team_id=team_id,
                alias=name,
                from_model=previous,
                to_model=model_name,
                moved_by=user_id,
                moved_at=moved_at,
            )
            session.add(alias)
            session.add(move)
            session.commit()
            session.refresh(move)
            return move

    def history(self, team_id: str) -> list[AliasMove]:
        """Every move of the team's aliases, oldest first."""
        with self.session() as session:
            query = (
                select(AliasMove)
                .where(AliasMove.team_id == team_id)
                .order_by(col(AliasMove.moved_at), col(AliasMove.id))
            )
            return list(session.exec(query).all())
