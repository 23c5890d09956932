"""Triggers and views (views.open/push/update/publish, closing on submission)."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from standins.fakeslack.directory import DirectoryMixin
from standins.fakeslack.limits import MAX_VIEW_STACK, validate_view
from standins.fakeslack.records import SlackError, Trigger, View, WorkspaceEvent


class ViewsMixin(DirectoryMixin):
    """trigger_ids and the modal stack / App Home views."""

    # ------------------------------------------------------------------ views

    def new_trigger(self, user_id: str, *, ttl: float | None = None) -> str:
        """Register a trigger_id (what Slack puts in a command/interaction payload)."""
        with self._lock:
            now = self.clock()
            trigger_id = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
            lifetime = self.trigger_ttl if ttl is None else ttl
            self._triggers[trigger_id] = Trigger(trigger_id, user_id, now, now + lifetime)
            return trigger_id

    def consume_trigger(self, trigger_id: str | None) -> Trigger:
        with self._lock:
            if not trigger_id:
                raise SlackError("invalid_arguments", messages=["missing required field: trigger_id"])
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            if self.clock() > trigger.expires_at:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger

    def _new_view(
        self, user_id: str, payload: dict[str, Any], *, root: str | None = None, previous: str | None = None
    ) -> View:
        view_id = self._new_id("V")
        external_id = str(payload.pop("external_id", "") or "")
        if external_id and any(v.external_id == external_id for v in self._views.values()):
            raise SlackError("duplicate_external_id")
        view = View(
            id=view_id,
            team_id=self.team_id,
            app_id=self.app_id,
            bot_id=self.bot_id,
            user_id=user_id,
            payload=payload,
            hash=self._new_hash(),
            root_view_id=root or view_id,
            previous_view_id=previous,
            external_id=external_id,
        )
        view.history.append(copy.deepcopy(payload))
        self._views[view_id] = view
        return view

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def open_view(self, trigger_id: str | None, view: Any) -> View:
        with self._lock:
            payload = validate_view(view)
            trigger = self.consume_trigger(trigger_id)
            for old in self._stacks.get(trigger.user_id, []):
                self._views[old].closed = True
            opened = self._new_view(trigger.user_id, payload)
            self._stacks[trigger.user_id] = [opened.id]
            self._touch(WorkspaceEvent("view_opened", None, None, trigger.user_id, opened))
            return opened

    def push_view(self, trigger_id: str | None, view: Any) -> View:
        with self._lock:
            payload = validate_view(view)
            trigger = self.consume_trigger(trigger_id)
            stack = self._stacks.setdefault(trigger.user_id, [])
            if len(stack) >= MAX_VIEW_STACK:
                raise SlackError("push_limit_reached")
            root = stack[0] if stack else None
            previous = stack[-1] if stack else None
            pushed = self._new_view(trigger.user_id, payload, root=root, previous=previous)
            stack.append(pushed.id)
            self._touch(WorkspaceEvent("view_pushed", None, None, trigger.user_id, pushed))
            return pushed

    def update_view(
        self,
        view: Any,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> View:
        with self._lock:
            payload = validate_view(view)
            target: View | None = None
            if view_id:
                target = self._views.get(view_id)
            elif external_id:
                target = next((v for v in self._views.values() if v.external_id == external_id), None)
            else:
                raise SlackError(
                    "invalid_arguments", messages=["missing required field: view_id or external_id"]
                )
            if target is None:
                raise SlackError("not_found")
            if hash and hash != target.hash:
                raise SlackError("hash_conflict")
            payload.pop("external_id", None)
            target.payload = payload
            target.hash = self._new_hash()
            target.history.append(copy.deepcopy(payload))
            self._touch(WorkspaceEvent("view_updated", None, None, target.user_id, target))
            return target

    def publish_view(self, user_id: str, view: Any) -> View:
        with self._lock:
            if user_id not in self._users:
                raise SlackError("user_not_found")
            payload = validate_view(view)
            if payload.get("type") != "home":
                raise SlackError("invalid_arguments", messages=["must be home [json-pointer:/view/type]"])
            existing = self._views.get(self._home.get(user_id, ""))
            if existing is not None:
                existing.payload = payload
                existing.hash = self._new_hash()
                existing.history.append(copy.deepcopy(payload))
                published = existing
            else:
                published = self._new_view(user_id, payload)
                self._home[user_id] = published.id
            self._touch(WorkspaceEvent("view_published", None, None, user_id, published))
            return published

    def home_view(self, user_id: str) -> View | None:
        """The Home tab last published for `user_id` (what they see when they open it)."""
        with self._lock:
            return self._views.get(self._home.get(user_id, ""))

    def close_view(self, view_id: str, *, all_views: bool = False) -> None:
        """What the client does after a submission acked without a response_action."""
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                return
            stack = self._stacks.get(view.user_id, [])
            if all_views or view_id == (stack[0] if stack else None):
                closing = list(stack) or [view_id]
                stack.clear()
            else:
                closing = [view_id]
                if view_id in stack:
                    stack.remove(view_id)
            for closed_id in closing:
                self._views[closed_id].closed = True
            self._touch(WorkspaceEvent("view_closed", None, None, view.user_id, view))

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> View:
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                raise SlackError("not_found")
            view.state_values = copy.deepcopy(values)
            self._touch()
            return view

    def view(self, view_id: str) -> View | None:
        with self._lock:
            return self._views.get(view_id)

    def views(self, user: str | None = None, *, open_only: bool = False) -> list[View]:
        with self._lock:
            return [
                v
                for v in self._views.values()
                if (user is None or v.user_id == user) and not (open_only and v.closed)
            ]

    def view_stack(self, user: str) -> list[View]:
        """The user's open modals, root first."""
        with self._lock:
            return [self._views[v] for v in self._stacks.get(user, [])]
