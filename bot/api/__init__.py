"""The HTTP API for automation, served beside /slack/events: `app` routes /api/v1, `kpis` checks and writes a
batch of values, `openapi` is its published document."""
