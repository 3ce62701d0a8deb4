"""The desk: how operators work conversations (life cycle, assignment, canned responses,
private notes, labels)."""
