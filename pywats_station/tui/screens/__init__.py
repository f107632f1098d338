"""One module per screen; :mod:`.base` holds what every station screen shares."""
