"""ONVIF: every camsim camera an ONVIF Profile S device (issue 17)."""
