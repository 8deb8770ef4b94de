"""The collector's job queue: priority order, jobs that add jobs, the first failure raised."""

import threading

import pytest

from eksaudit.collect.aws import run_jobs


def test_one_worker_runs_by_priority_including_added_jobs():
    done = []

    def run(job, add):
        done.append(job)
        if job == "parent-b":
            add((1, 0), "child-b")
        if job == "parent-a":
            add((1, 1), "child-a")  # added first, but its priority is lower: it runs after child-b

    run_jobs([((0, 1), "parent-b"), ((0, 0), "parent-a")], run, workers=1)
    assert done == ["parent-a", "parent-b", "child-b", "child-a"]


def test_a_child_starts_before_a_slow_sibling_of_its_parent_ends():
    slow_may_end = threading.Event()
    seen = []

    def run(job, add):
        if job == "slow":
            assert slow_may_end.wait(10), "the child never ran while the slow job was still running"
        elif job == "fast":
            add((1,), "child")
        elif job == "child":
            seen.append(job)
            slow_may_end.set()

    run_jobs([((0,), "slow"), ((0,), "fast")], run, workers=2)
    assert seen == ["child"]


def test_the_first_failure_is_raised_and_no_new_job_starts():
    started = []

    def run(job, add):
        started.append(job)
        if job == "bad":
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_jobs([((0,), "bad"), ((1,), "never")], run, workers=1)
    assert started == ["bad"]


def test_no_jobs_returns_at_once():
    run_jobs([], lambda job, add: None, workers=4)
