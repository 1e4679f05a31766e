"""Simulated RTSP cameras: a small RTSP relay and ffmpeg test-pattern publishers."""
