"""Live events for a person: ingestion progress of their uploads and notifications, over Server-Sent Events."""
