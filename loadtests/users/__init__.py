"""Locust users: the operators' open-model dispatcher and the RTSP viewer."""
