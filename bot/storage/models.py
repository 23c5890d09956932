"""Tables. Plain columns only (no pickles), so a migration tool such as Alembic can
take the schema over later: `SQLModel.metadata` is the single source of truth."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.domain.states import EvalRequestState, EvalState, MessageState, NoticeState


def utcnow() -> datetime:
    """Aware UTC: SQLModel stores it as UTC and returns it with the UTC zone on every database."""
    return datetime.now(UTC)


class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    __table_args__ = (
        UniqueConstraint("team_id", "name", name="uq_dataset_team_name"),
        UniqueConstraint("team_id", "sha256", name="uq_dataset_team_sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    owner_user_id: str = Field(index=True, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    name: str = Field(max_length=80)  # the slug people type: ASCII where it can be (services.datasets)
    display_name: str = Field(max_length=80)  # the name as typed, in any script (cleaned, never digits alone)
    file_name: str = Field(max_length=255)
    format: str = Field(max_length=16)
    example_count: int
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    # What the examples hold beyond input/output pairs (migration 0010_conversations).
    multi_turn_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    system_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The system instruction most examples share: what a try thread of a model tuned on it sends.
    system_instruction: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    max_example_tokens: int | None = None  # the largest example, estimated (bytes / 4)
    skipped_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # bad rows left out
    # A gs:// file validated where it is and never copied; None: the examples are in dataset_content.
    source_uri: str | None = Field(default=None, max_length=1024)
    source_generation: str | None = Field(default=None, max_length=40)  # the object's validated generation

    @property
    def conversational(self) -> bool:
        """Holds a system instruction or a multi-turn example (the Gemini API takes neither)."""
        return bool(self.multi_turn_count or self.system_count)


class DatasetContent(SQLModel, table=True):
    """The examples of one dataset, gzip-compressed JSON, kept apart so that
    listing datasets never loads them."""

    __tablename__ = "dataset_content"

    dataset_id: int = Field(primary_key=True, foreign_key="dataset.id")
    examples_gz: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class DatasetInsightRow(SQLModel, table=True):
    """What was found in a dataset while it was validated (bot.datasets.insight), as JSON;
    a table of its own so that neither listing datasets nor loading examples reads it."""

    __tablename__ = "dataset_insight"

    dataset_id: int = Field(primary_key=True, foreign_key="dataset.id")
    insight_json: str = Field(sa_column=Column(Text, nullable=False))


class TuningJob(SQLModel, table=True):
    __tablename__ = "tuning_job"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    owner_user_id: str = Field(index=True, max_length=32)
    channel_id: str = Field(max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    message_state: str = Field(default=MessageState.NONE.value, max_length=16)  # bot/domain/states.py
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    backend: str = Field(default="gemini", max_length=16)
    display_name: str = Field(max_length=80)
    base_model: str = Field(max_length=200)
    model_name: str | None = Field(default=None, index=True, max_length=200)
    operation_name: str | None = Field(default=None, max_length=300)
    epoch_count: int
    batch_size: int
    learning_rate: float

    state: str = Field(default="queued", index=True, max_length=16)
    percent: float = 0.0
    completed_steps: int | None = None
    total_steps: int | None = None
    epoch: int | None = None
    mean_loss: float | None = None
    error_message: str | None = None
    shown_signature: str | None = Field(default=None, max_length=500)

    # What Vertex AI reports beyond state and percent (see bot/domain/types.py JobProgress).
    detail_state: str | None = Field(default=None, max_length=32)  # e.g. waiting_for_quota
    eval_loss: float | None = None
    tuning_started_at: datetime | None = None
    error_code: int | None = None
    tuned_model: str | None = Field(default=None, max_length=300)  # the Model Registry resource
    data_stats: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    checkpoints: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    training_uri: str | None = Field(default=None, max_length=500)  # the file tunebot uploaded
    # What Vertex AI received, read back from the job (`SentHyperparameters` JSON; Vertex only).
    hyperparameters: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    # What the job costs (migration 0011_spend_audit), in `cost_currency`; computed by
    # bot.domain.pricing (`estimate_cost`, `counted_cost`) at the price of the base model
    # (TUNEBOT_TRAINING_PRICES, else tunebot's Vertex AI price table). None means unknown
    # (no price, or epochs not known yet), never zero.
    # - estimated_tokens / estimated_cost: written by `start_job` (bot/services/start_costs.py):
    #   tunebot's token estimate of the training part × epochs, plus the validation set's tokens
    #   × epochs (Vertex evaluates it each epoch, billed at the prediction input price). With
    #   epochs left to Vertex, filled once its answer to the create says them; else None.
    # - counted_tokens / counted_cost: written by the poller (bot/polling/schedule.py
    #   `counted_changes`) once Vertex reports `totalBillableTokenCount` and the epochs are
    #   known: billable tokens × epochs at the training price. Vertex counts no validation
    #   tokens, so the count covers training only (the validation part stays in the estimate).
    # - cost_currency: the currency of the amounts (set with the first amount; None without one).
    estimated_tokens: int | None = None
    estimated_cost: float | None = None
    counted_tokens: int | None = None
    counted_cost: float | None = None
    cost_currency: str | None = Field(default=None, max_length=8)
    cancelled_by: str | None = Field(default=None, max_length=32)  # who stopped it (/tune cancel, a budget)

    # Continued from another tuned model (`/tune start … from=<model> [checkpoint=N]`; migration
    # 0014_lineage_aliases): its model name, the checkpoint, and its display name at the start.
    parent_model: str | None = Field(default=None, max_length=200)
    parent_checkpoint: str | None = Field(default=None, max_length=40)
    parent_name: str | None = Field(default=None, max_length=80)
    # One variant of a sweep (`/tune sweep`; migration 0015_sweeps), else None.
    sweep_id: int | None = Field(default=None, index=True)

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    # Polling schedule and leases (see bot/polling).
    next_poll_at: datetime = Field(default_factory=utcnow, index=True)
    poll_interval_seconds: float = 0.0
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None

    # End-of-job notice, posted exactly once (see bot/polling/poller.py; states: bot/domain/states.py).
    notice_state: str = Field(default=NoticeState.NONE.value, max_length=16)
    notice_ts: str | None = Field(default=None, max_length=32)

    # Base-vs-tuned evaluation after success, posted exactly once (see bot/evaluation):
    # none -> evaluated (report stored) -> posting -> posted (message) -> done (CSV), or
    # skipped (no held-out examples); the moves are in bot/domain/states.py.
    eval_state: str = Field(default=EvalState.NONE.value, max_length=16)
    eval_ts: str | None = Field(default=None, max_length=32)


class JobEvaluation(SQLModel, table=True):
    """The base-vs-tuned evaluation of a job (bot.evaluation.EvalReport as JSON), kept once it
    has run so that posting it after a crash does not run it again."""

    __tablename__ = "job_evaluation"

    job_id: int = Field(primary_key=True, foreign_key="tuning_job.id")
    report_json: str = Field(sa_column=Column(Text, nullable=False))


class EvalRequest(SQLModel, table=True):
    """A `/tune eval`, stored like a job so that it survives a restart and posts once: who
    asked where, what to evaluate, how far it got (`state`, bot/domain/states.py), the lease of
    the process running it, and the report once it has run (so it never runs twice)."""

    __tablename__ = "eval_request"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    model_name: str = Field(max_length=200)
    base_model: str = Field(max_length=200)
    dataset_id: int  # no foreign key: deleting the dataset meanwhile leaves the request answerable
    dataset_name: str = Field(max_length=80)
    example_count: int  # how many examples it evaluates (the thread's first message says so)
    state: str = Field(default=EvalRequestState.QUEUED.value, index=True, max_length=16)
    thread_ts: str | None = Field(default=None, max_length=32)  # the thread's first message
    report_ts: str | None = Field(default=None, max_length=32)
    report_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class JobHoldout(SQLModel, table=True):
    """The examples a job held out of training for validation (gzip-compressed JSON, as
    in `dataset_content`), kept so the tuned model can be evaluated on them later.

    `source` is "split" (a share of the job's dataset, `percent`) or "dataset" (another
    dataset, `source_dataset_id`); `sent` says whether the backend received them as its
    validation set (Vertex AI does; the Gemini API has no validation set)."""

    __tablename__ = "job_holdout"

    job_id: int = Field(primary_key=True, foreign_key="tuning_job.id")
    source: str = Field(max_length=16)
    percent: float | None = None
    source_dataset_id: int | None = Field(default=None, foreign_key="dataset.id")
    example_count: int
    sent: bool = False
    uri: str | None = Field(default=None, max_length=500)
    examples_gz: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ModelOwnership(SQLModel, table=True):
    __tablename__ = "model_ownership"

    model_name: str = Field(primary_key=True, max_length=200)
    team_id: str = Field(index=True, max_length=32)
    owner_user_id: str = Field(index=True, max_length=32)
    job_id: int | None = Field(default=None, foreign_key="tuning_job.id")
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None
    deleted_by: str | None = Field(default=None, max_length=32)


class TryThread(SQLModel, table=True):
    """A thread opened by `/tune try`: every reply in it goes to `model_name`; one opened by
    `/tune compare` also names `base_model`, and every reply goes to both."""

    __tablename__ = "try_thread"

    channel_id: str = Field(primary_key=True, max_length=32)
    thread_ts: str = Field(primary_key=True, max_length=32)
    model_name: str = Field(max_length=200)
    user_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    base_model: str | None = Field(default=None, max_length=200)
    # `system="…"` on `/tune try`: sent as the systemInstruction of every turn.
    system_instruction: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ThreadTurn(SQLModel, table=True):
    """One turn of a try or compare thread, oldest first by `id`: a person's prompt (`lane` "")
    or a model's answer (`lane` "tuned" or "base": which of a compare thread's two models)."""

    __tablename__ = "thread_turn"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32, index=True)
    thread_ts: str = Field(max_length=32)
    lane: str = Field(default="", max_length=8)
    role: str = Field(max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))


class AuditEvent(SQLModel, table=True):
    """One line of the audit log (issue #22): who did what, when, to what, for how much.
    Appended only: nothing in tunebot updates or deletes a row."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: str = Field(max_length=32)  # a Slack user id, or "tunebot" for what it did itself
    action: str = Field(max_length=32)  # bot/domain/audit.py AuditAction
    subject: str = Field(default="", max_length=300)  # the job, model, request or policy acted on
    amount: float | None = None
    currency: str | None = Field(default=None, max_length=8)
    details: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON


class ModelAlias(SQLModel, table=True):
    """A team's name for one of its models (`/tune promote <model> as <alias>`): wherever a
    model is typed, the alias stands for the model it points to now."""

    __tablename__ = "model_alias"

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(primary_key=True, max_length=40)
    model_name: str = Field(max_length=200)
    moved_by: str = Field(max_length=32)
    moved_at: datetime = Field(default_factory=utcnow)


class AliasMove(SQLModel, table=True):
    """One move of an alias, appended only: who pointed it, when, from which model (None: the
    alias was new) to which."""

    __tablename__ = "alias_move"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    alias: str = Field(max_length=40)
    from_model: str | None = Field(default=None, max_length=200)
    to_model: str = Field(max_length=200)
    moved_by: str = Field(max_length=32)
    moved_at: datetime = Field(default_factory=utcnow)


class ApprovalRequest(SQLModel, table=True):
    """A start over a limit, waiting for an approver (issue #22; bot/services/approvals.py):
    who asked where, the starts it would run (`starts`: a JSON list, one item today; a sweep
    asks once for several), what they cost, the rule that asked, and how it was decided.
    `state` (bot/domain/approvals.py) leaves `pending` once, by a conditional UPDATE."""

    __tablename__ = "approval_request"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    requester_user_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)  # where the start was asked: the job message goes there
    starts: str = Field(sa_column=Column(Text, nullable=False))  # JSON (ApprovalStart.to_dict each)
    amount: float | None = None  # the estimate of all the starts (None: no price)
    currency: str = Field(max_length=8)
    month_spent: float | None = None  # the month's spend so far the rule counted
    rule: str = Field(max_length=32)  # bot/domain/spend.py StartRule
    rule_limit: float | None = None
    state: str = Field(default="pending", index=True, max_length=16)
    nonce: str = Field(max_length=32)  # carried by the buttons: a click must name it
    expires_at: datetime
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    job_ids: str | None = Field(default=None, max_length=500)  # JSON list, once started
    start_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ApprovalMessage(SQLModel, table=True):
    """One message of a request, posted exactly once: to an approver (a DM) or the approvers'
    channel (`role` "approver"), or the requester's DM with its Withdraw button ("requester").
    `state`: new -> posting (written before the post; after a crash or an ambiguous failure
    the message is looked for by its metadata first) -> posted (`ts`). `shown`: the request
    state the message shows, so each decision edits it once. `lease_expires_at` keeps two
    processes from working on one message at once."""

    __tablename__ = "approval_message"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_request.id", index=True)
    role: str = Field(max_length=16)
    target: str = Field(max_length=32)  # a user id (a DM) or a channel id
    channel_id: str | None = Field(default=None, max_length=32)  # where it is posted (D… for a DM)
    ts: str | None = Field(default=None, max_length=32)
    state: str = Field(default="new", max_length=16)
    shown: str = Field(default="pending", max_length=16)
    lease_expires_at: datetime | None = None


class SeenEvent(SQLModel, table=True):
    """Events API deliveries already handled (Slack retries deliveries)."""

    __tablename__ = "seen_event"

    event_id: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class SpendPolicyRow(SQLModel, table=True):
    """A team's spend policy once an admin changed it in Slack (migration 0012_policies); until
    then the settings give it. Each value is written as the settings take it
    (bot/domain/policy.py), amounts in the price currency."""

    __tablename__ = "spend_policy"

    team_id: str = Field(primary_key=True, max_length=32)
    starters: str = Field(sa_column=Column(Text, nullable=False))
    approval_above: str = Field(max_length=32)
    budget_per_user: str = Field(max_length=32)
    budget_per_channel: str = Field(max_length=32)
    over_budget: str = Field(max_length=16)
    approvers: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow)


class BudgetNotice(SQLModel, table=True):
    """A budget notice (migration 0012_policies): claimed (`posting`) before it is posted, so
    each is sent once across restarts and replicas; the unique key names it: the team, the
    month, which budget (`user`, `channel`), whose, and the share passed (80 for 80 %)."""

    __tablename__ = "budget_notice"
    __table_args__ = (
        UniqueConstraint("team_id", "month", "budget", "subject_id", "mark", name="uq_budget_notice"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    month: str = Field(max_length=7)  # YYYY-MM in the workspace's time zone
    budget: str = Field(max_length=16)
    subject_id: str = Field(max_length=32)
    mark: int
    state: str = Field(default="posting", max_length=16)  # posting -> posted
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class Sweep(SQLModel, table=True):
    """`/tune sweep`: one job per combination of `grid` (JSON: option -> values), all with the
    same held-out split; ranked by `rank_by`. `message_ts`/`message_state`: its one
    leaderboard message; `notice_state`: "" until the end notice is claimed ("claimed"),
    then "posted". `lease_owner`/`lease_expires_at`: the process refreshing it now (of
    several replicas, one at a time: bot/slack/sweeps.py). `plan`: each variant's start
    (JSON, bot/domain/sweeps.py); `start_state` "starting" until every variant was handed to
    `start_job`, then "started"; `start_expires_at`: the starting process's hold, renewed
    as each variant starts (once it expired, the sweep's lease holder resumes the start)."""

    __tablename__ = "sweep"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    owner_user_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id")
    dataset_name: str = Field(max_length=200)
    grid: str = Field(sa_column=Column(Text, nullable=False))
    rank_by: str = Field(default="win_rate", max_length=16)
    message_ts: str | None = Field(default=None, max_length=32)
    message_state: str = Field(default="", max_length=16)
    shown_signature: str | None = Field(default=None, max_length=500)
    notice_state: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = None
    plan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    start_state: str = Field(default="started", max_length=16)
    start_expires_at: datetime | None = None
