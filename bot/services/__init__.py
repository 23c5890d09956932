"""What tunebot does, independent of how people ask for it.

The Slack listeners, the offline demo and the tests call these functions; they talk to
the database (`Store`) and to whichever tuning service is configured (`TuningBackend`),
return result objects and raise the typed errors of `bot.services.errors`. None of them
builds Slack text: `bot.presentation` turns results and errors into messages.
"""
