"""Storage: models, sessions, migrations, the Redis buffer, the checkpointer, embedded servers."""
