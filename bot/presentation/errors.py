"""The one way an error reaches a user: `error_text(exc)`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.errors import BackendError
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.aliases import lineage_error_text
from bot.presentation.datasets import unknown_dataset_message
from bot.presentation.downloads import describe_size
from bot.presentation.limits import limits_error_text
from bot.presentation.models import delete_refusal, model_label
from bot.presentation.uploads import not_saved_message
from bot.services import errors as e
from bot.services.models import short_id


def error_text(exc: Exception) -> str:
    """Slack mrkdwn for a refusal: a service's typed error, a tuning service's error, or
    any other `UserError`/`UsageError` (whose `str()` is already the message)."""
    if isinstance(exc, e.ServiceError):
        return limits_error_text(exc) or lineage_error_text(exc) or _service_error_text(exc)
    if isinstance(exc, BackendError):
        return f":x: {esc(str(exc))}"
    return str(exc)


def _service_error_text(exc: e.ServiceError) -> str:
    match exc:
        case e.UnknownDataset(wanted=wanted, names=names, for_validation=validation):
            text = unknown_dataset_message(wanted, names)
            return "Validation set: " + text if validation else text
        case e.NotDatasetOwner(owner_user_id=owner, dataset=name):
            return (
                f":no_entry: Only <@{owner}> (who uploaded *{esc(name)}*) or a tunebot admin may change it."
            )
        case e.DatasetNameTaken(name=name):
            return f"There is already a dataset `{esc(name)}`; choose another name."
        case e.StartRefused(reason=reason):
            return f":x: {reason}"  # tunebot's own words and the configured names
        case e.OptionsRefused(backend=backend, base_model=base_model, refused=refused):
            return options_refused_text(backend, base_model, refused)
        case e.BaseModelNotTunable(wanted=wanted, tunable=tunable):
            shown = ", ".join(f"`{esc(n)}`" for n in tunable)
            return f"`{esc(wanted)}` cannot be tuned here. Base models that can: {shown}."
        case e.ValidationIsTraining(dataset=name):
            return (
                f"`validation={esc(name)}` is the dataset being tuned on; a validation set must "
                "not be trained on. Hold a share out instead, e.g. `validation=10%`."
            )
        case e.HoldoutTooSmall(dataset=name, example_count=count):
            return (
                f":x: Cannot hold out a validation set: dataset *{esc(name)}* has "
                f"{count} example; holding some out needs at least 2."
            )
        case e.HoldoutFailed(reason=reason):
            return f":x: Cannot hold out a validation set: {esc(reason)}"
        case e.JobNotSaved(display_name=name, reason=reason):
            return not_saved_message(f"the job *{esc(name)}*", reason).replace(
                "Nothing was stored", "Nothing was stored and no tuning was started"
            )
        case e.StartRejected(display_name=name, reason=reason):
            return f":x: The tuning service refused to start *{esc(name)}*: {esc(reason)}"
        case e.StartNotRecorded(display_name=name, reason=reason):
            return (
                f":warning: The tuning service started *{esc(name)}*, but tunebot could not save "
                f"that yet ({esc(reason)}). It will be picked up and announced here once it can."
            )
        case e.AmbiguousModel(wanted=wanted, candidates=candidates):
            shown = "\n".join(
                f"• *{esc(c.display_name)}* by <@{c.owner_user_id}>: `{esc(short_id(c.model_name))}`"
                for c in candidates
            )
            return f"Several models are called *{esc(wanted)}*; use the id of the one you mean:\n{shown}"
        case e.UnknownModel(wanted=wanted):
            return f"There is no model called *{esc(wanted)}* in this team. `/tune list` shows the models."
        case e.StillTuning(display_name=name, percent=None):
            return f":hourglass_flowing_sand: *{esc(name)}* is still tuning."
        case e.StillTuning(display_name=name, percent=percent):
            return (
                f":hourglass_flowing_sand: *{esc(name)}* is still tuning: {percent:.0f}%. "
                "`/tune status` shows how far it is."
            )
        case e.ModelNotReady(display_name=name, state=state):
            return f":x: *{esc(name)}* cannot answer: its tuning {esc(state)}."
        case e.NoSuchCheckpoint(display_name=name, checkpoint=checkpoint, available=[]):
            return f":x: *{esc(name)}* has no checkpoint {esc(checkpoint)}: it has no checkpoints to try."
        case e.NoSuchCheckpoint(display_name=name, checkpoint=checkpoint, available=available):
            known = ", ".join(
                esc(c.checkpoint_id) + (f" (epoch {c.epoch})" if c.epoch is not None else "")
                for c in available
            )
            return (
                f":x: *{esc(name)}* has no checkpoint {esc(checkpoint)}; its checkpoints are {known}. "
                f"Try one with `checkpoint={esc(available[0].checkpoint_id)}`."
            )
        case e.ModelGone(model=model, during="try"):
            return f"There is no tuned model {model_label(model)} (any more). `/tune list` shows the models."
        case e.ModelGone(model=model):
            return f"There is no tuned model {model_label(model)} (it may be deleted already)."
        case e.ModelLookupFailed(model=model, reason=None):
            return f":x: Could not look up {model_label(model)} right now; try again in a minute."
        case e.ModelLookupFailed(model=model, reason=reason):
            return f":x: Could not look up {model_label(model)}: {esc(str(reason))}"
        case e.DeleteRefused(model=model, owner_user_id=owner):
            return delete_refusal(owner, model_label(model))
        case e.DeleteFailed(model=model, reason=reason):
            return f":x: The tuning service did not delete {model_label(model)}: {esc(reason)}"
        case e.TuningNotDone(model_name=name, state=state):
            return (
                f"`{esc(name)}` is not ready to answer: its tuning job is {esc(state)}. "
                "`/tune status` shows how it is doing."
            )
        case e.NoTunedModel(model_name=name):
            return f"There is no tuned model `{esc(name)}`. `/tune list` shows them."
        case e.TunedModelLookupFailed(model_name=name, reason=reason):
            return f":x: Could not look up `{esc(name)}`: {esc(reason)}"
        case e.NoBaseModel(model_name=name):
            return f"`{esc(name)}` does not say which base model it was tuned from."
    return _cloud_error_text(exc) or str(exc)


OBJECT_VIEWER = "Storage Object Viewer (`roles/storage.objectViewer`)"
VERTEX_AGENT = "`service-<project number>@gcp-sa-aiplatform.iam.gserviceaccount.com`"


def _cloud_error_text(exc: e.ServiceError) -> str | None:
    """The refusals of a dataset read in place from Cloud Storage (`/tune upload gs://…`)."""
    match exc:
        case e.CloudStorageNeedsVertex(backend=backend):
            return (
                f":x: `/tune upload gs://…` works on the Vertex AI backend only: this tunebot uses "
                f"{BACKEND_LABELS.get(backend, esc(backend))}, which takes its examples inline, not from "
                "Cloud Storage. Upload the file through Slack with `/tune upload` instead."
            )
        case e.CloudObjectUnreadable(uri=uri, reason="forbidden", detail=detail):
            bucket = uri.removeprefix("gs://").split("/", 1)[0]
            return (
                f":no_entry: tunebot may not read `{esc(uri)}`: {esc(detail)}\nGrant tunebot's service "
                f"account (the credentials tunebot runs with) {OBJECT_VIEWER} on bucket `{esc(bucket)}`. "
                f"Vertex AI's service agent ({VERTEX_AGENT}) needs the same role to train from it."
            )
        case e.CloudObjectUnreadable(uri=uri, reason="no_object", detail=detail):
            bucket = uri.removeprefix("gs://").split("/", 1)[0]
            return (
                f":x: There is no object `{esc(uri)}` ({esc(detail)}). Check the path: "
                f"`gcloud storage ls gs://{esc(bucket)}/` lists what the bucket holds."
            )
        case e.CloudObjectUnreadable(uri=uri, reason="no_bucket", detail=detail):
            bucket = uri.removeprefix("gs://").split("/", 1)[0]
            return f":x: There is no bucket `{esc(bucket)}` ({esc(detail)}). Check the name in `{esc(uri)}`."
        case e.CloudObjectUnreadable(uri=uri, detail=detail):
            said = detail.strip().rstrip(".")
            return (
                f":x: Could not read `{esc(uri)}` from Cloud Storage ({esc(said)}). Nothing was stored; "
                "send the same command again."
            )
        case e.CloudObjectTooLarge(uri=uri, size=size, limit=limit):
            return (
                f":x: `{esc(uri)}` is {describe_size(size)}; the limit on Vertex AI is "
                f"{describe_size(limit)}. Nothing was read or stored."
            )
        case e.CloudObjectIsTunebots(uri=uri, prefix=prefix):
            return (
                f":x: `{esc(uri)}` is under `{esc(prefix)}`, where tunebot keeps its own training files "
                "and deletes them with their models. Put your dataset elsewhere and upload it from there."
            )
        case e.CloudObjectNotVertexRecords(uri=uri, found=found, keys=keys):
            named = ", ".join(f"`{esc(key)}`" for key in keys)
            what = f"{esc(found)} with the keys {named}" if keys else esc(found)
            return (
                f":x: `{esc(uri)}` holds {what}. Vertex AI reads a Cloud Storage dataset as it is, "
                "so it must be Vertex's supervised-tuning JSON Lines: one "
                '`{"systemInstruction": …, "contents": [{"role": "user", …}, {"role": "model", …}]}` a line. '
                "Convert it, or upload it through Slack with `/tune upload` (tunebot converts the files "
                "it stores). Nothing was stored."
            )
        case e.CloudDatasetNotSplit(dataset=name):
            return (
                f":x: Dataset *{esc(name)}* is read in place from Cloud Storage: tunebot does not copy a "
                "Cloud Storage dataset, so it cannot split it; give `validation=<another dataset>`."
            )
        case e.CloudObjectChanged(dataset=name, uri=uri):
            return (
                f":x: `{esc(uri)}` has changed since it was validated as dataset *{esc(name)}*, so Vertex AI "
                "would train on lines nobody checked. Validate it again with "
                f"`/tune upload {esc(uri)}` (new content becomes a new dataset), then start that one. "
                "Nothing was started."
            )
        case e.CloudDatasetNotEvaluated(dataset=name):
            return (
                f":x: Dataset *{esc(name)}* is read in place from Cloud Storage, so tunebot keeps none "
                "of its examples to evaluate on. Evaluate on a dataset uploaded through Slack; a job "
                "validated on a Cloud Storage dataset is evaluated on that set's first examples when it "
                "finishes."
            )
        case e.CloudDatasetNeedsVertex(dataset=name, backend=backend):
            return (
                f":x: Dataset *{esc(name)}* is read in place from Cloud Storage, which only Vertex AI "
                f"trains from; this tunebot uses {BACKEND_LABELS.get(backend, esc(backend))}."
            )
    return None


BACKEND_LABELS = {"vertex": "Vertex AI", "gemini": "the Gemini API (legacy)"}


def options_refused_text(backend: str, base_model: str, refused: Sequence[e.RefusedOption]) -> str:
    """Why `/tune start` refused its options, one line each, saying what to use instead."""
    service = BACKEND_LABELS.get(backend, esc(backend))
    lines = []
    for item in refused:
        option = f"`{esc(item.option)}`"
        if item.kind == "batch_size_chosen":
            lines.append(f"{service} chooses the batch size itself; leave {option} out.")
        elif item.kind == "use_multiplier":
            lines.append(
                f"On {service} use `learning_rate_multiplier=…` (1.0 is Vertex's default rate for "
                f"the model) instead of {option}."
            )
        elif item.kind == "vertex_only":
            lines.append(
                f"{option} is a Vertex AI option; this tunebot tunes with {service}, which does not "
                "take it. Leave it out (its options: `epochs`, `batch_size`, `learning_rate`)."
            )
        elif item.kind == "adapter_size":
            sizes = ", ".join(str(size) for size in item.allowed)
            lines.append(f"`{esc(base_model)}` allows adapter sizes {sizes}; choose one of them.")
        else:
            lines.append(f"{service} does not take {option}; leave it out.")
    return ":x: Nothing was started.\n" + "\n".join(f"• {line}" for line in lines)
