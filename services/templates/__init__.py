"""WhatsApp message templates: the ones we ship, filling, and Meta's copy."""
