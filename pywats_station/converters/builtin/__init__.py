"""The built-in converters, one module per input format: wsjf, wsxf, wstf, csv.

They are trusted code: the station runs them in a worker thread
(:func:`pywats_station.converters.sandbox.run_conversion`), not in a child process.
"""
