"""``pywats-tui``: the operator's terminal UI for one station or a whole line, over SSH.

It sees a station only through its control channel (:mod:`pywats_station.control`): a
:class:`~pywats_station.tui.link.StationLink` per station runs the trio client in its own thread
and hands what it learns to the Textual app as messages; the screens read a plain
:class:`~pywats_station.tui.model.StationModel` and call the daemon through the link. Importing
this package imports neither Textual nor trio (the CLI starts fast and ``--help`` needs neither).
"""
