"""The API domains: each operation builds calls; ``pywats._domain`` makes it runnable."""
