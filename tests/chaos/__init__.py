"""Chaos scenarios: the delivery guarantee under kills, power cuts, outages and full disks."""
