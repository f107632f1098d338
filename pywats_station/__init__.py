"""The pywats-station daemon: arrives with the station-core issue."""
