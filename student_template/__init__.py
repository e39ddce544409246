"""Starter files for each built-in assignment (``dlgrade init ASSIGNMENT DIR`` copies them).

Each folder holds the handout's file names with TODO stubs; nothing here is imported by the grader.
"""
