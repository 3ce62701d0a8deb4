"""Interactive messages (reply buttons, lists, URL buttons, location requests) and their
numbered-text fallback."""
