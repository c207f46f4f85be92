"""ARIA in the platform: chat over REST, SSE and WebSocket, sessions and messages."""
