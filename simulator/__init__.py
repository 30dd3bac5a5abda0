"""camsim: a camera-network simulator and load-test harness for city video surveillance."""

__version__ = "0.1.0"
