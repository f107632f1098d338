"""The built-in converters, one module per input format: WATS's own (wsjf, wsxf, wstf), csv,
test equipment (atml, teststand, teradyne_gr228x, teradyne_spectrum, spea_3030, takaya_atd,
xjtag, klippel), and ``auto``, which picks one of them per file by content.

They are trusted code: the station runs them in a worker thread
(:func:`pywats_station.converters.sandbox.run_conversion`), except big inputs, which they
convert in a child process so that the memory goes back to the system
(:func:`pywats_station.converters._placement.convert_builtin`). ``csv`` and ``wstf`` read line
by line and stop once their reports are certainly over the output limits (:mod:`._budget`).
"""
