"""Outgoing email (one-time codes for order lookups): SMTP when SMTP_HOST is set, else a
recording mailer that keeps each merchant's last mails in Redis for the sandbox's Mail page."""
