"""The WhatsApp sandbox: its merchant, fake Graph API and simulated phones."""
