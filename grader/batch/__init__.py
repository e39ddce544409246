"""Grading a whole class: many submissions in, one gradebook out.

One module per idea: ``discover`` (LMS download layouts -> students),
``roster`` (ids -> names), ``worker`` (grade one submission in a worker
process), ``local`` and ``dask_executor`` (where the workers run),
``gradebook`` (SQLite, the only writer is the parent), ``exports`` (CSV,
Canvas, Gradescope, JUnit, feedback), ``analytics`` and ``similarity`` (the
class page), ``api`` (the library call behind ``dlgrade grade``).
"""
