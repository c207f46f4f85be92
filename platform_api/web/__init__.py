"""The web app: server-rendered page shells (Jinja2) and small ES modules that talk to the JSON API."""
