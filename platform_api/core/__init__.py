"""Shared plumbing of the platform: settings, database, errors, security, rate limits, middleware, metrics."""
