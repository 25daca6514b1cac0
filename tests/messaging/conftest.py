"""A school for the messaging tests that call the services directly."""

from __future__ import annotations

import shutil

import pytest

from portal.extensions import db
from tests import factories as make


@pytest.fixture(autouse=True)
def _no_attachments(app):
    """Each test starts with an empty attachment folder."""
    yield
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)


@pytest.fixture
def school():
    """5B with its teacher and three families; 4A with one; the direction."""
    school = make.school()
    teacher = make.user(school, "teacher")
    class_5b = make.school_class(school, "5B", teacher)
    families = [make.family(school, class_5b, guardians=1) for _ in range(3)]
    class_4a = make.school_class(school, "4A", make.user(school, "teacher"))
    _pupil, (parent_4a,) = make.family(school, class_4a, guardians=1)
    db.session.commit()
    return {
        "school": school,
        "teacher": teacher,
        "5B": class_5b,
        "parents": [parents[0] for _pupil, parents in families],
        "pupils": [pupil for pupil, _parents in families],
        "parent_4a": parent_4a,
        "admin": make.user(school, "admin"),
    }
