"""Synthetic inputs of any size for the built-in converters' throughput benchmark.

One module per converter kind (``bench/enlarge/<kind>.py``), each with
``enlarge(data: bytes, factor: int) -> bytes``: a valid input of that format about ``factor``
times the size of ``data`` (a real file), converting into more reports or more steps.
"""
