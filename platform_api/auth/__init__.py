"""Authentication: registration, login, rotating refresh tokens, logout, password reset."""
