"""Everything that knows a provider's wire format: the Channel interface (base.py) and the
WhatsApp Cloud API as its first implementation (webhook.py in, whatsapp.py and
whatsapp_messages.py out, errors.py typed by meaning)."""
