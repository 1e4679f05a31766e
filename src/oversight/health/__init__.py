"""Camera health: is each camera streaming, and does it still see its scene?

Tamper detection (whole-frame statistics only; no person, face or object recognition):

- :mod:`oversight.health.frames`: keyframes of a segment or live stream as small grey
  numpy frames (ffmpeg ``-skip_frame nokey``);
- :mod:`oversight.health.tamper`: frame statistics, references, ``classify`` into
  covered / defocused / moved / too_dark / overexposed, and ``TamperTracker``;
- :mod:`oversight.health.references`: a camera's reference on disk
  (``learn_reference``, ``load_reference``, ``analyse``).

Nothing is imported here, so importing one module of the package does not load numpy
and OpenCV for the others.
"""
