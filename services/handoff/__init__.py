"""The handoff state machine between the AI and human operators."""
