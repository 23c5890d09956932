"""Configuration from the environment (and a `.env` file).

Every setting has the name a deployer types; secrets are `SecretStr` so they never
show up in a repr, a log line or a Slack message.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.datasets import Limits
from bot.datasets.limits import limits_for, parse_overrides
from bot.domain.policy import (
    PolicyKey,
    PolicyValueError,
    approvers_of,
    format_approvers,
    parse_amount,
    parse_approvers,
    parse_over_budget,
    parse_starters,
    parse_time_zone,
    policy_from_values,
)
from bot.domain.spend import SpendPolicy
from bot.domain.types import GenerationSettings
from bot.storage.engine import database_url_problem

DEFAULT_GEMINI_API_BASE = "https://generativelanguage.googleapis.com"
DEFAULT_VERTEX_LOCATION = "us-central1"
DEFAULT_GCS_API_BASE = "https://storage.googleapis.com"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///tunebot.db"
SLACK_FILE_HOSTS = ("files.slack.com", "slack-files.com", "files-edge.slack.com", "slack.com")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")

    google_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GOOGLE_API_KEY", "GEMINI_API_KEY")
    )
    gemini_api_base: str = Field(default=DEFAULT_GEMINI_API_BASE, validation_alias="GEMINI_API_BASE")
    # Vertex AI tunes Gemini models today; "gemini" is the legacy Gemini API tuning service.
    tunebot_backend: Literal["gemini", "vertex"] = Field(default="vertex", validation_alias="TUNEBOT_BACKEND")

    vertex_project: str | None = Field(default=None, validation_alias="VERTEX_PROJECT")
    vertex_location: str = Field(default=DEFAULT_VERTEX_LOCATION, validation_alias="VERTEX_LOCATION")
    vertex_bucket: str | None = Field(default=None, validation_alias="VERTEX_BUCKET")
    vertex_adapter_size: int | None = Field(default=None, validation_alias="VERTEX_ADAPTER_SIZE")
    # The tunable base models (JSON, inline or a file path; see bot/backends/vertex_models.py).
    vertex_base_models: str | None = Field(default=None, validation_alias="VERTEX_BASE_MODELS")
    vertex_default_base_model: str | None = Field(default=None, validation_alias="VERTEX_DEFAULT_BASE_MODEL")
    # exportLastCheckpointOnly: keep only the final checkpoint (fewer endpoints to try and delete).
    vertex_export_last_checkpoint_only: bool = Field(
        default=False, validation_alias="VERTEX_EXPORT_LAST_CHECKPOINT_ONLY"
    )
    # Keep the training/validation JSONL in the bucket when a model is deleted.
    vertex_keep_files: bool = Field(default=False, validation_alias="VERTEX_KEEP_FILES")
    # Price per 1M training tokens per base model, e.g. "gemini-2.5-flash=5,gemini-2.5-pro=25".
    # None is built in: without one, no cost estimate is shown.
    training_prices: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict, validation_alias="TUNEBOT_TRAINING_PRICES"
    )
    price_currency: str = Field(default="USD", validation_alias="TUNEBOT_PRICE_CURRENCY")
    # The spend policy's first values (issue #22; the syntax: bot/domain/policy.py). Once an
    # admin changes the policy in Slack (`/tune policy set`), the stored policy wins.
    starters: str = Field(default="everyone", validation_alias="TUNEBOT_STARTERS")
    approval_above: str = Field(default="none", validation_alias="TUNEBOT_APPROVAL_ABOVE")
    monthly_budget_per_user: str = Field(default="none", validation_alias="TUNEBOT_MONTHLY_BUDGET_PER_USER")
    monthly_budget_per_channel: str = Field(
        default="none", validation_alias="TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL"
    )
    over_budget: str = Field(default="refuse", validation_alias="TUNEBOT_OVER_BUDGET")
    # The workspace's time zone: budgets and `/tune spend` count calendar months in it.
    time_zone: str = Field(default="UTC", validation_alias="TUNEBOT_TIME_ZONE")
    # Gemini 3.x tuned models are served from https://aiplatform.{us|eu}.rep.googleapis.com.
    vertex_multi_region_api_base: str | None = Field(
        default=None, validation_alias="VERTEX_MULTI_REGION_API_BASE"
    )
    # Overrides for the offline emulator: its base URLs and the static token it accepts.
    vertex_api_base: str | None = Field(default=None, validation_alias="VERTEX_API_BASE")
    gcs_api_base: str = Field(default=DEFAULT_GCS_API_BASE, validation_alias="GCS_API_BASE")
    vertex_access_token: SecretStr | None = Field(default=None, validation_alias="VERTEX_ACCESS_TOKEN")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    admins: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias="TUNEBOT_ADMINS"
    )
    # Who decides a start over a limit (issue #22): user ids (a DM each) or one channel id,
    # written `users:U1,U2`, `channel:C1`, `none`, or as a bare list (bot/domain/policy.py); the
    # spend policy's first value (a team's stored policy wins, bot/services/spend.py).
    approvers: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias="TUNEBOT_APPROVERS"
    )
    approval_hours: float = Field(default=24.0, gt=0, validation_alias="TUNEBOT_APPROVAL_HOURS")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")

    poll_interval_seconds: float = Field(default=12.0, gt=0, validation_alias="TUNEBOT_POLL_INTERVAL")
    max_poll_interval_seconds: float = Field(
        default=300.0, gt=0, validation_alias="TUNEBOT_MAX_POLL_INTERVAL"
    )
    lease_seconds: float = Field(default=120.0, gt=0, validation_alias="TUNEBOT_LEASE_SECONDS")
    # The largest file Slack carries to tunebot (an upload or a shared file); the backend's own
    # file limit (Vertex AI: 1 GB) applies too, and the smaller of the two wins.
    max_upload_mb: int = Field(default=64, ge=1, validation_alias="TUNEBOT_MAX_UPLOAD_MB")
    # Overrides of the backend's dataset limits (JSON, bot.datasets.limits), e.g.
    # {"max_examples": 500000, "max_example_tokens": 65536}.
    dataset_limits: str | None = Field(default=None, validation_alias="TUNEBOT_DATASET_LIMITS")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # Held-out examples evaluated after a job succeeds, and on `/tune eval`.
    eval_max_examples: int = Field(default=50, ge=1, le=5000, validation_alias="TUNEBOT_EVAL_EXAMPLES")
    # 64 since the pairwise judge (issue #23): an evaluation makes 3 calls per row and model, not 2.
    eval_concurrency: int = Field(default=64, ge=1, le=256, validation_alias="TUNEBOT_EVAL_CONCURRENCY")
    # The base model that judges evaluations pairwise (unset: the backend's default judge;
    # `off`: no judge, no win rate).
    judge_model_setting: str | None = Field(default=None, validation_alias="TUNEBOT_JUDGE_MODEL")
    # The most variants one `/tune sweep` may start (issue #23).
    sweep_max: int = Field(default=8, ge=1, le=64, validation_alias="TUNEBOT_SWEEP_MAX")

    # Try and compare threads: earlier turns sent with each reply, within this many tokens
    # (estimated locally, about 4 bytes a token); the oldest turns are left out first.
    try_context_tokens: int = Field(default=8000, ge=0, validation_alias="TUNEBOT_TRY_CONTEXT_TOKENS")
    # generationConfig of answers in try and compare threads (unset: the service's default).
    generation_temperature: float | None = Field(
        default=None, ge=0, le=2, validation_alias="TUNEBOT_GENERATION_TEMPERATURE"
    )
    generation_top_p: float | None = Field(
        default=None, ge=0, le=1, validation_alias="TUNEBOT_GENERATION_TOP_P"
    )
    generation_max_output_tokens: int | None = Field(
        default=None, ge=1, validation_alias="TUNEBOT_GENERATION_MAX_OUTPUT_TOKENS"
    )
    # Tuned models' thinking budget (unset: the smallest the base model allows, as Google advises).
    tuned_thinking_budget: int | None = Field(
        default=None, ge=0, validation_alias="TUNEBOT_TUNED_THINKING_BUDGET"
    )

    @field_validator("tunebot_backend", mode="before")
    @classmethod
    def _backend_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().upper()
            if level not in LOG_LEVELS or not isinstance(logging.getLevelName(level), int):
                raise ValueError(f"allowed values: {', '.join(LOG_LEVELS)} (in any case)")
            return level
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.strip()

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("training_prices", mode="before")
    @classmethod
    def _split_prices(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        prices: dict[str, float] = {}
        for part in value.replace(";", ",").split(","):
            if not part.strip():
                continue
            model, sep, price = part.partition("=")
            if not sep or not model.strip():
                raise ValueError("TUNEBOT_TRAINING_PRICES is `model=price,…`, e.g. gemini-2.5-flash=5")
            try:
                amount = float(price)
            except ValueError as exc:
                raise ValueError(f"TUNEBOT_TRAINING_PRICES: {price.strip()!r} is not a number") from exc
            if amount < 0:
                raise ValueError("TUNEBOT_TRAINING_PRICES: a price cannot be negative")
            prices[model.strip()] = amount
        return prices

    @field_validator("approvers", mode="before")
    @classmethod
    def _approvers(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return parse_approvers(value).ids
        except PolicyValueError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("starters", "over_budget", "time_zone")
    @classmethod
    def _policy_words(cls, value: str, info: ValidationInfo) -> str:
        readers = {
            "starters": parse_starters,
            "over_budget": parse_over_budget,
            "time_zone": parse_time_zone,
        }
        try:
            readers[str(info.field_name)](value)
        except PolicyValueError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("approval_above", "monthly_budget_per_user", "monthly_budget_per_channel")
    @classmethod
    def _policy_amount(cls, value: str, info: ValidationInfo) -> str:
        try:
            parse_amount(value, str(info.data.get("price_currency") or "USD"))
        except PolicyValueError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("dataset_limits")
    @classmethod
    def _dataset_limits(cls, value: str | None) -> str | None:
        parse_overrides(value)  # a LimitsSettingError (a ValueError) names what is wrong
        return value

    @field_validator("vertex_adapter_size")
    @classmethod
    def _adapter_size(cls, value: int | None) -> int | None:
        if value is not None and value not in (1, 2, 4, 8, 16, 32):
            raise ValueError("VERTEX_ADAPTER_SIZE must be 1, 2, 4, 8, 16 or 32")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slash_terminated(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def generation(self) -> GenerationSettings:
        """generationConfig settings of answers in try and compare threads."""
        return GenerationSettings(
            temperature=self.generation_temperature,
            top_p=self.generation_top_p,
            max_output_tokens=self.generation_max_output_tokens,
            thinking_budget=self.tuned_thinking_budget,
        )

    def judge_model(self, default: str) -> str | None:
        """The judge's model name: TUNEBOT_JUDGE_MODEL, else `default`; None when it is `off`."""
        chosen = (self.judge_model_setting or "").strip()
        if chosen.lower() in ("off", "none", "no"):
            return None
        return chosen or default

    def limits(self, backend: str | None = None, *, slack_file: bool = True) -> Limits:
        """The dataset limits of `backend` (TUNEBOT_BACKEND's by default) with
        TUNEBOT_DATASET_LIMITS applied; for a file Slack carries, the file size is also capped
        at TUNEBOT_MAX_UPLOAD_MB (the smaller wins)."""
        limits = limits_for(backend or self.tunebot_backend, self.dataset_limits)
        if not slack_file:
            return limits
        slack_bytes = self.max_upload_mb * 1024 * 1024
        return replace(limits, max_file_bytes=min(limits.max_file_bytes, slack_bytes))

    def spend_policy(self) -> SpendPolicy:
        """The spend policy these settings give (a team's stored policy wins over it)."""
        values = {
            PolicyKey.STARTERS: self.starters,
            PolicyKey.APPROVAL_ABOVE: self.approval_above,
            PolicyKey.BUDGET_PER_USER: self.monthly_budget_per_user,
            PolicyKey.BUDGET_PER_CHANNEL: self.monthly_budget_per_channel,
            PolicyKey.OVER_BUDGET: self.over_budget,
            PolicyKey.APPROVERS: format_approvers(approvers_of(SpendPolicy(approvers=self.approvers))),
        }
        return policy_from_values(values, self.price_currency)

    @property
    def zone(self) -> ZoneInfo:
        """TUNEBOT_TIME_ZONE: the calendar months of budgets and `/tune spend`."""
        return parse_time_zone(self.time_zone)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def missing_for_run(self) -> list[str]:
        """Names of the settings `tunebot run` cannot start without."""
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
        if self.tunebot_backend == "vertex":
            if not self.vertex_project:
                missing.append("VERTEX_PROJECT")
            if not self.vertex_bucket:
                missing.append("VERTEX_BUCKET")
        elif self.google_api_key is None:
            missing.append("GOOGLE_API_KEY (or GEMINI_API_KEY)")
        return missing

    @property
    def resolved_vertex_api_base(self) -> str:
        return self.vertex_api_base or f"https://{self.vertex_location}-aiplatform.googleapis.com"

    def secrets(self) -> list[str]:
        """Every secret value, so log filters can redact them."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.google_api_key,
            self.vertex_access_token,
        ]
        return [value.get_secret_value() for value in values if value is not None]
