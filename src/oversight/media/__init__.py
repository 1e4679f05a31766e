"""ffmpeg for every part that needs it: the recorder (``recorder/``), evidence clips
(``evidence/clips.py``) and tamper detection (``health/``). :mod:`oversight.media.ffmpeg`
holds the pure argv builders and is the only module that spawns ffmpeg-family programs;
their output passes through :func:`oversight.redaction.scrub`, which keeps stream
credentials out of it."""
