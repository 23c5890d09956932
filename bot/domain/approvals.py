"""Approvals (issue #22): a start over a limit becomes a request an approver decides, once.

Plain data: the request's states, one start as it is stored to be run later (its arguments
round-trip through JSON), and the signed value a request's buttons carry."""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain.requests import StartArgs, ValidationChoice


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ApprovalStart:
    """One start a request asks for, as it will run once approved (as the requester's)."""

    args: StartArgs
    dataset_id: int
    dataset_name: str
    base_model: str
    summary: str = ""  # the dataset's insight summary line, plain text
    hyperparameters: dict[str, str] = field(default_factory=dict)  # shown as given: name -> value
    estimate: Decimal | None = None  # None: no price for the base model
    sweep_id: int | None = None  # a variant of this sweep (`/tune sweep`): its held-out split

    def to_dict(self) -> dict[str, Any]:
        return {
            "args": start_args_to_dict(self.args),
            "dataset_id": self.dataset_id,
            "dataset_name": self.dataset_name,
            "base_model": self.base_model,
            "summary": self.summary,
            "hyperparameters": dict(self.hyperparameters),
            "estimate": str(self.estimate) if self.estimate is not None else None,
        } | ({"sweep_id": self.sweep_id} if self.sweep_id is not None else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalStart:
        estimate = data.get("estimate")
        return cls(
            args=start_args_from_dict(data["args"]),
            dataset_id=int(data["dataset_id"]),
            dataset_name=str(data["dataset_name"]),
            base_model=str(data["base_model"]),
            summary=str(data.get("summary") or ""),
            hyperparameters={str(k): str(v) for k, v in (data.get("hyperparameters") or {}).items()},
            estimate=Decimal(estimate) if estimate is not None else None,
            sweep_id=int(data["sweep_id"]) if data.get("sweep_id") is not None else None,
        )


def starts_to_json(starts: list[ApprovalStart]) -> str:
    return json.dumps([start.to_dict() for start in starts], sort_keys=True, ensure_ascii=False)


def starts_from_json(text: str) -> list[ApprovalStart]:
    return [ApprovalStart.from_dict(item) for item in json.loads(text)]


def start_args_to_dict(args: StartArgs) -> dict[str, Any]:
    return asdict(args)


def start_args_from_dict(data: dict[str, Any]) -> StartArgs:
    values = dict(data)
    validation = values.pop("validation", None)
    return StartArgs(
        **values, validation=ValidationChoice(**validation) if isinstance(validation, dict) else None
    )


def given_hyperparameters(args: StartArgs) -> dict[str, str]:
    """The tuning options typed for a start, by their option names (the rest are defaults)."""
    values = {
        "epochs": args.epoch_count,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "learning_rate_multiplier": args.learning_rate_multiplier,
        "adapter_size": args.adapter_size,
        "export_last_checkpoint_only": args.export_last_checkpoint_only,
    }
    shown = {name: str(value) for name, value in values.items() if value is not None}
    if args.validation is not None:
        shown["validation"] = args.validation.label
    return shown


def total_estimate(starts: list[ApprovalStart]) -> Decimal | None:
    """What all the starts cost together; None when any cannot be estimated."""
    if any(start.estimate is None for start in starts):
        return None
    return sum((start.estimate for start in starts if start.estimate is not None), Decimal(0))


# A button's value: the request's id and its nonce (a random secret stored with the request),
# so a click naming another request, or a value changed on the way, matches nothing.
def button_value(request_id: int, nonce: str) -> str:
    return f"{request_id}.{nonce}"


def parse_button_value(value: str) -> tuple[int, str] | None:
    head, sep, nonce = value.partition(".")
    if not sep or not head.isdigit() or not nonce or len(value) > 80:
        return None
    return int(head), nonce


def nonce_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
