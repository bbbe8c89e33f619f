"""Assets by stage: reference → ingest → validate → score → publish (and the demo inbox)."""
