"""Synthetic cameras on the wire: scenes, encoded loops, RTP/RTSP serving, faults, control API.

Imports of PyAV and OpenCV are lazy (inside functions), so the model runs without them.
"""
