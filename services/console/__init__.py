"""The operator console's sessions and figures."""
