"""Outgoing email (one-time codes for order lookups): SMTP when SMTP_HOST is set, else a
recording mailer that keeps the last mails in Redis for the sandbox and tests to read."""
