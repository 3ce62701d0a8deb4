"""Instagram Direct (the Instagram API's Messenger Platform messaging): webhook parsing,
our outbound messages in its wire format, and a client that sends them."""
