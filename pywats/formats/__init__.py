"""Report file formats: WSJF (JSON) and WSXF (XML)."""
