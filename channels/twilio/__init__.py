"""Twilio's WhatsApp API: signed form-encoded webhooks in, the Messages API out."""
