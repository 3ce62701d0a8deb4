"""Outgoing conversation events, signed and delivered with retries."""
