"""The ``nexus`` command line."""
