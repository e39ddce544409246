"""One module per isolation layer of a sandbox session.

Imported by the worker as the top-level package ``isolation`` (the worker runs
with only its own folder on ``sys.path``, never ``grader``), and by the trusted
side as ``grader.runner.isolation``. So these modules import only the standard
library and each other, relatively.
"""
