"""Customer satisfaction: a 1-5 survey when a conversation is resolved, and its answers."""
