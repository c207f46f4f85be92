"""Users, student profiles, parent-child links, erasure and export of personal data."""
