"""The station's actors: long-running trio tasks supervised by ``pywats_station._supervisor``."""
