"""Fixtures: an assignment package dlgrade has never seen, made fresh by the test that uses it."""

from __future__ import annotations

import itertools

import pytest

from tests.authoring.course import forget, make_course

_ids = itertools.count(1)


@pytest.fixture
def course(tmp_path):
    """A course's own assignment ``zN`` in package ``course_zN``, registered in this process."""
    made = make_course(tmp_path, f"z{next(_ids)}")
    yield made
    forget(made)
