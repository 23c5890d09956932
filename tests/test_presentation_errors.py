"""Every refusal a service raises, worded by `error_text` exactly as tunebot always worded it."""

from __future__ import annotations

import pytest

from bot.domain.errors import BackendError, UsageError, UserError
from bot.domain.types import Checkpoint
from bot.presentation.errors import error_text
from bot.presentation.models import deleted_text
from bot.services import errors as e
from bot.services.models import Deleted

ZW = "\u200b"
GONE = e.ModelRef("tunedModels/numbers-x8k2p")
NAMED = e.ModelRef("tunedModels/numbers-x8k2p", "Next <number>")

CASES: list[tuple[Exception, str]] = [
    (
        e.UnknownDataset("sales", ["a", "b_c"]),
        "There is no dataset `sales`. Datasets: `a`, `b_c`. `/tune datasets` lists yours.",
    ),
    (
        e.UnknownDataset("sales", [], for_validation=True),
        "Validation set: There is no dataset `sales`, and no datasets yet. Upload one with `/tune upload`.",
    ),
    (
        e.UnknownDataset("x", [f"d{i}" for i in range(17)]),
        "There is no dataset `x`. Datasets: " + ", ".join(f"`d{i}`" for i in range(15)) + " and 2 more. "
        "`/tune datasets` lists yours.",
    ),
    (
        e.NotDatasetOwner("U1", "sales"),
        ":no_entry: Only <@U1> (who uploaded *sales*) or a tunebot admin may change it.",
    ),
    (e.DatasetNameTaken("sales"), "There is already a dataset `sales`; choose another name."),
    (e.StartRefused("Vertex AI needs a bucket."), ":x: Vertex AI needs a bucket."),
    (
        e.OptionsRefused(
            "vertex",
            "gemini-2.5-pro",
            (
                e.RefusedOption("batch_size", "batch_size_chosen"),
                e.RefusedOption("learning_rate", "use_multiplier"),
                e.RefusedOption("adapter_size", "adapter_size", (1, 2, 4, 8)),
            ),
        ),
        ":x: Nothing was started.\n"
        "• Vertex AI chooses the batch size itself; leave `batch_size` out.\n"
        "• On Vertex AI use `learning_rate_multiplier=…` (1.0 is Vertex's default rate for the model) "
        "instead of `learning_rate`.\n"
        "• `gemini-2.5-pro` allows adapter sizes 1, 2, 4, 8; choose one of them.",
    ),
    (
        e.OptionsRefused(
            "gemini", "models/gemini-2.5-flash", (e.RefusedOption("adapter_size", "vertex_only"),)
        ),
        ":x: Nothing was started.\n"
        "• `adapter_size` is a Vertex AI option; this tunebot tunes with the Gemini API (legacy), which "
        "does not take it. Leave it out (its options: `epochs`, `batch_size`, `learning_rate`).",
    ),
    (
        e.BaseModelNotTunable("gpt", ["models/a", "models/b"]),
        "`gpt` cannot be tuned here. Base models that can: `models/a`, `models/b`.",
    ),
    (
        e.ValidationIsTraining("sales"),
        "`validation=sales` is the dataset being tuned on; a validation set must not be trained on. "
        "Hold a share out instead, e.g. `validation=10%`.",
    ),
    (
        e.HoldoutTooSmall("one", 1),
        ":x: Cannot hold out a validation set: dataset *one* has 1 example; "
        "holding some out needs at least 2.",
    ),
    (e.HoldoutFailed("no <examples> left"), ":x: Cannot hold out a validation set: no &lt;examples&gt; left"),
    (
        e.JobNotSaved("Numbers", "disk full"),
        ":x: tunebot could not save the job *Numbers*: disk full. Nothing was stored and no tuning was "
        "started; try again later (tell whoever runs tunebot if it keeps happening).",
    ),
    (
        e.StartRejected("Numbers", "400 INVALID_ARGUMENT: bad"),
        ":x: The tuning service refused to start *Numbers*: 400 INVALID_ARGUMENT: bad",
    ),
    (
        e.StartNotRecorded("Numbers", "database is locked"),
        ":warning: The tuning service started *Numbers*, but tunebot could not save that yet "
        "(database is locked). It will be picked up and announced here once it can.",
    ),
    (
        e.AmbiguousModel("numbers", [e.Candidate("numbers", "U1", "tunedModels/numbers-a")]),
        "Several models are called *numbers*; use the id of the one you mean:\n"
        "• *numbers* by <@U1>: `numbers-a`",
    ),
    (
        e.UnknownModel("nope"),
        "There is no model called *nope* in this team. `/tune list` shows the models.",
    ),
    (e.StillTuning("Numbers"), ":hourglass_flowing_sand: *Numbers* is still tuning."),
    (
        e.StillTuning("Numbers", 41.6),
        ":hourglass_flowing_sand: *Numbers* is still tuning: 42%. `/tune status` shows how far it is.",
    ),
    (e.ModelNotReady("Numbers", "failed"), ":x: *Numbers* cannot answer: its tuning failed."),
    (
        e.NoSuchCheckpoint(
            "Numbers", "9", [Checkpoint("1", epoch=1, endpoint="e1"), Checkpoint("2", endpoint="e2")]
        ),
        ":x: *Numbers* has no checkpoint 9; its checkpoints are 1 (epoch 1), 2. Try one with `checkpoint=1`.",
    ),
    (
        e.NoSuchCheckpoint("Numbers", "9", []),
        ":x: *Numbers* has no checkpoint 9: it has no checkpoints to try.",
    ),
    (
        e.ModelGone(GONE, "try"),
        "There is no tuned model `numbers-x8k2p` (any more). `/tune list` shows the models.",
    ),
    (
        e.ModelGone(NAMED, "delete"),
        "There is no tuned model *Next &lt;number&gt;* (it may be deleted already).",
    ),
    (
        e.ModelLookupFailed(GONE),
        ":x: Could not look up `numbers-x8k2p` right now; try again in a minute.",
    ),
    (
        e.ModelLookupFailed(NAMED, "503 UNAVAILABLE: busy"),
        ":x: Could not look up *Next &lt;number&gt;*: 503 UNAVAILABLE: busy",
    ),
    (
        e.DeleteRefused(GONE, None),
        ":no_entry: `numbers-x8k2p` was not created through tunebot, so only a tunebot admin may delete it.",
    ),
    (
        e.DeleteRefused(NAMED, "U1"),
        ":no_entry: Only <@U1> (who owns *Next &lt;number&gt;*) or a tunebot admin may delete it.",
    ),
    (
        e.DeleteFailed(GONE, "500 INTERNAL: oops"),
        ":x: The tuning service did not delete `numbers-x8k2p`: 500 INTERNAL: oops",
    ),
    (
        e.TuningNotDone("tunedModels/x", "running"),
        "`tunedModels/x` is not ready to answer: its tuning job is running. "
        "`/tune status` shows how it is doing.",
    ),
    (e.NoTunedModel("tunedModels/x"), "There is no tuned model `tunedModels/x`. `/tune list` shows them."),
    (
        e.TunedModelLookupFailed("tunedModels/x", "timed out"),
        ":x: Could not look up `tunedModels/x`: timed out",
    ),
    (e.NoBaseModel("tunedModels/x"), "`tunedModels/x` does not say which base model it was tuned from."),
    (
        BackendError("quota *exceeded*", code=429, status="RESOURCE_EXHAUSTED"),
        f":x: 429 RESOURCE_EXHAUSTED: quota {ZW}*exceeded*{ZW}",
    ),
    (UserError(":x: said as is"), ":x: said as is"),
    (UsageError("Usage: `/tune start`"), "Usage: `/tune start`"),
]


# Datasets read in place from Cloud Storage (`/tune upload gs://…`).
CLOUD_CASES: list[tuple[Exception, str]] = [
    (
        e.CloudStorageNeedsVertex("gemini"),
        ":x: `/tune upload gs://…` works on the Vertex AI backend only: this tunebot uses the Gemini API "
        "(legacy), which takes its examples inline, not from Cloud Storage. Upload the file through Slack "
        "with `/tune upload` instead.",
    ),
    (
        e.CloudObjectUnreadable("gs://b/<x>.jsonl", "no_object", "No such object: b/<x>.jsonl"),
        ":x: There is no object `gs://b/&lt;x&gt;.jsonl` (No such object: b/&lt;x&gt;.jsonl). Check the "
        "path: `gcloud storage ls gs://b/` lists what the bucket holds.",
    ),
    (
        e.CloudObjectUnreadable(
            "gs://b/x.jsonl",
            "forbidden",
            "a@p.iam.gserviceaccount.com does not have storage.objects.get access",
        ),
        ":no_entry: tunebot may not read `gs://b/x.jsonl`: a@p.iam.gserviceaccount.com does not have "
        "storage.objects.get access\nGrant tunebot's service account (the credentials tunebot runs with) "
        "Storage Object Viewer (`roles/storage.objectViewer`) on bucket `b`. Vertex AI's service agent "
        "(`service-<project number>@gcp-sa-aiplatform.iam.gserviceaccount.com`) needs the same role to "
        "train from it.",
    ),
    (
        e.CloudObjectTooLarge("gs://b/x.jsonl", 2 * 1024**3, 1024**3),
        ":x: `gs://b/x.jsonl` is 2 GB; the limit on Vertex AI is 1 GB. Nothing was read or stored.",
    ),
    (
        e.CloudObjectIsTunebots("gs://b/tunebot/x.jsonl", "tunebot/"),
        ":x: `gs://b/tunebot/x.jsonl` is under `tunebot/`, where tunebot keeps its own training files and "
        "deletes them with their models. Put your dataset elsewhere and upload it from there.",
    ),
    (
        e.CloudDatasetNotSplit("big <set>"),
        ":x: Dataset *big &lt;set&gt;* is read in place from Cloud Storage: tunebot does not copy a Cloud "
        "Storage dataset, so it cannot split it; give `validation=<another dataset>`.",
    ),
    (
        e.CloudDatasetNeedsVertex("big", "gemini"),
        ":x: Dataset *big* is read in place from Cloud Storage, which only Vertex AI trains from; this "
        "tunebot uses the Gemini API (legacy).",
    ),
    (
        e.CloudObjectNotVertexRecords("gs://b/x.jsonl", "OpenAI chat records", ("messages",)),
        ":x: `gs://b/x.jsonl` holds OpenAI chat records with the keys `messages`. Vertex AI reads a Cloud "
        "Storage dataset as it is, so it must be Vertex's supervised-tuning JSON Lines: one "
        '`{"systemInstruction": …, "contents": [{"role": "user", …}, {"role": "model", …}]}` a line. '
        "Convert it, or upload it through Slack with `/tune upload` (tunebot converts the files it "
        "stores). Nothing was stored.",
    ),
    (
        e.CloudDatasetNotEvaluated("big"),
        ":x: Dataset *big* is read in place from Cloud Storage, so tunebot keeps none of its examples to "
        "evaluate on. Evaluate on a dataset uploaded through Slack; a job validated on a Cloud Storage "
        "dataset is evaluated on that set's first examples when it finishes.",
    ),
]
CLOUD_CASES.append(
    (
        e.CloudObjectChanged("chats <v2>", "gs://b/chats.jsonl"),
        ":x: `gs://b/chats.jsonl` has changed since it was validated as dataset *chats &lt;v2&gt;*, so "
        "Vertex AI would train on lines nobody checked. Validate it again with "
        "`/tune upload gs://b/chats.jsonl` (new content becomes a new dataset), then start that one. "
        "Nothing was started.",
    )
)
CLOUD_CASES.append(
    (
        e.CloudObjectUnreadable("gs://b/x.jsonl", "failed", "the download was cut off: RemoteProtocolError."),
        ":x: Could not read `gs://b/x.jsonl` from Cloud Storage (the download was cut off: "
        "RemoteProtocolError). Nothing was stored; send the same command again.",
    )
)
CASES += CLOUD_CASES
# Team aliases and continuing from a model (issue #23).
CASES += [
    (
        e.BadAliasName("Prod", "uppercase", "prod"),
        "`Prod`: aliases are lowercase. Use `prod`.",
    ),
    (
        e.BadAliasName("a/b", "characters", "a-b"),
        "`a/b` cannot be an alias. An alias is a lowercase name of letters, digits, `-`, `_` and `.`, "
        "at most 40 characters. Use `a-b`.",
    ),
    (
        e.PromoteRefused(NAMED, "U1"),
        ":no_entry: Only <@U1> (who owns *Next &lt;number&gt;*) or a tunebot admin may promote it.",
    ),
    (
        e.AliasModelGone("prod", NAMED, "U2"),
        ":x: The alias `prod` points to *Next &lt;number&gt;*, which was deleted by <@U2>. "
        "`/tune promote <model> as prod` points it to another model.",
    ),
]


@pytest.mark.parametrize(("error", "expected"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_error_text_words_each_refusal(error: Exception, expected: str) -> None:
    assert error_text(error) == expected


def test_every_service_error_is_a_user_error_and_has_a_wording() -> None:
    covered = {type(error) for error, _ in CASES}
    for name in dir(e):
        kind = getattr(e, name)
        if isinstance(kind, type) and issubclass(kind, e.ServiceError) and kind is not e.ServiceError:
            assert issubclass(kind, UserError)
            assert kind in covered, name


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [
        (Deleted("deleted", NAMED), ":wastebasket: Deleted *Next &lt;number&gt;* (`numbers-x8k2p`)."),
        (Deleted("cancelled", GONE), ":wastebasket: Cancelled the tuning of `numbers-x8k2p` and deleted it."),
        (Deleted("already", GONE, deleted_by="U2"), "`numbers-x8k2p` was already deleted by <@U2>."),
        (Deleted("gone", NAMED), "*Next &lt;number&gt;* no longer exists; nothing to delete."),
    ],
)
def test_deleted_text(deleted: Deleted, expected: str) -> None:
    assert deleted_text(deleted) == expected
