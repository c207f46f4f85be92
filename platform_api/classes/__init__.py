"""Classes of teachers and their students (added by email or joining with a code)."""
