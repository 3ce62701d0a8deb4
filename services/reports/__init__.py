"""Reports: conversation, response, resolution, escalation and CSAT figures over a range."""
