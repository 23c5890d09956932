"""What `tunebot run` prints when settings are missing: pure text from the settings.

It leads with Vertex AI, the default backend and the one that tunes real models today:
what to create in Google Cloud, which settings to set, how credentials are found. The Slack
part appears only when Slack settings are missing, so a deployment that lacks only its
Vertex settings is not told that it "cannot connect to Slack". The Gemini API backend is
named as the legacy service (TUNEBOT_BACKEND=gemini).
"""

from __future__ import annotations

from bot.config import Settings

VERTEX_STEPS = """\
Vertex AI (the default, TUNEBOT_BACKEND=vertex) is the service that tunes Gemini models today:
  1. In a Google Cloud project, enable the Vertex AI API:
       gcloud services enable aiplatform.googleapis.com
  2. Create a Cloud Storage bucket for the training files, in the tuning region:
       gcloud storage buckets create gs://my-tunebot-data --location=us-central1
  3. Create a service account for tunebot with roles/aiplatform.user on the project and
     roles/storage.objectAdmin on the bucket.
  4. Set VERTEX_PROJECT (the project id), VERTEX_BUCKET (the bucket) and, if not
     us-central1, VERTEX_LOCATION (Gemini 3.x tunes only in us-central1 or europe-west4).
  5. Credentials are found by Application Default Credentials: on Google Cloud (Cloud Run,
     GKE, Compute Engine) attach the service account and nothing else is needed; elsewhere
     set GOOGLE_APPLICATION_CREDENTIALS to the service account's key file (or run
     `gcloud auth application-default login` on a workstation)."""

SLACK_STEPS = """\
Slack:
  1. Create a Slack app from manifest.yml (https://api.slack.com/apps -> Create New App ->
     From a manifest), install it to your workspace.
  2. SLACK_BOT_TOKEN is the "Bot User OAuth Token" (xoxb-...) on the OAuth & Permissions page.
     SLACK_SIGNING_SECRET is on the Basic Information page (HTTP mode, Slack sends requests to
     https://<your host>/slack/events), or SLACK_APP_TOKEN (xapp-..., scope connections:write)
     for Socket Mode, which needs no public URL."""

GEMINI_NOTE = """\
The Gemini API backend (the legacy service, TUNEBOT_BACKEND=gemini) needs GOOGLE_API_KEY, but
that service has had no tunable base model since 2025-05-27: it works only against
`tunebot emulator` (GEMINI_API_BASE=http://127.0.0.1:8765 with any non-empty key). To tune
real models, use Vertex AI as above (leave TUNEBOT_BACKEND unset)."""

DEMO_NOTE = "No Slack app yet? `tunebot demo` runs the whole bot offline in this terminal."

SLACK_SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


def setup_help(settings: Settings, missing: list[str]) -> str:
    slack_missing = any(name.startswith(SLACK_SETTINGS) for name in missing)
    google_missing = [name for name in missing if not name.startswith(SLACK_SETTINGS)]
    if slack_missing:
        headline = "tunebot cannot connect to Slack yet."
    elif settings.tunebot_backend == "vertex":
        headline = "tunebot tunes on Vertex AI (TUNEBOT_BACKEND=vertex) but cannot reach it yet."
    else:
        headline = "tunebot is set to the legacy Gemini API (TUNEBOT_BACKEND=gemini) but has no key for it."
    parts = [
        f"{headline} Set these (in the environment or a .env file):",
        "\n".join(f"  - {name}" for name in missing),
        "",
    ]
    if google_missing or settings.tunebot_backend != "vertex":
        parts += [VERTEX_STEPS, ""]
    if slack_missing:
        parts += [SLACK_STEPS, ""]
    # The legacy Gemini API: for a deployment set to it, or a first setup (nothing set yet).
    if google_missing and (settings.tunebot_backend == "gemini" or slack_missing):
        parts += [GEMINI_NOTE, ""]
    if slack_missing:
        parts.append(DEMO_NOTE)
    return "\n".join(parts).rstrip()
