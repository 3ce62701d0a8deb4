"""Outbound channels: the WhatsApp Cloud API client and the helpers around it."""
