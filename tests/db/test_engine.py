"""A forked process never uses its parent's database connections (issue 11)."""
from __future__ import annotations

import os

from sqlalchemy import func, select, text

from db import projects as project_repo
from db.engine import engine_for, session_factory
from db.models import Project


def test_a_forked_child_opens_fresh_connections_and_its_writes_land(S):
    url = S.kw["bind"].url.render_as_string(hide_password=False)
    parent_engine = engine_for(url)
    with S.begin() as s:  # the parent holds a pooled connection at fork time
        s.execute(text("SELECT 1"))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's cleanup
        try:
            fresh = engine_for(url) is not parent_engine
            with session_factory(url).begin() as s:
                project_repo.create_project(s, "from the child", "ner", ["PER"])
            os.write(write, b"fresh" if fresh else b"shared")
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.read(read, 16) == b"fresh"
    with S.begin() as s:  # the parent's pool still works, and sees the child's committed write
        assert s.scalar(select(func.count()).select_from(Project).where(Project.name == "from the child")) == 1
