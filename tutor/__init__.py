"""ARIA, the tutor: role- and level-aware retrieval, prompts, answer backends, citations (issue 4)."""
