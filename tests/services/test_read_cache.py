"""The read models' cache (services/read_frames.Cache): requests never queue behind a rebuild of a stale entry."""

from __future__ import annotations

import threading

import pytest

from healthscore.services.read_frames import Cache


def test_a_stale_entry_is_served_while_another_request_rebuilds_it():
    cache = Cache()
    assert cache.get("latest", 1, lambda: "run 1") == "run 1"
    started, release = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        release.wait(10)
        return "run 2"

    rebuilt: list[str] = []
    builder = threading.Thread(target=lambda: rebuilt.append(cache.get("latest", 2, slow_build, stale_ok=True)))
    builder.start()
    assert started.wait(10)
    # a run finished: the rebuilding request pays for it, the others see the previous run meanwhile
    assert cache.get("latest", 2, lambda: "built twice", stale_ok=True) == "run 1"
    release.set()
    builder.join(10)
    assert rebuilt == ["run 2"]
    assert cache.get("latest", 2, lambda: "built twice") == "run 2"


def test_a_cold_entry_is_built_once_by_concurrent_requests():
    cache = Cache()
    builds: list[int] = []
    gate = threading.Event()

    def build():
        builds.append(1)
        gate.wait(10)
        return "value"

    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("directory", 1, build))) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert got == ["value"] * 4 and builds == [1]


def test_a_failed_rebuild_keeps_the_previous_value_and_lets_the_next_request_try_again():
    cache = Cache()
    cache.get("latest", 1, lambda: "run 1")

    def broken():
        raise RuntimeError("store unavailable")

    with pytest.raises(RuntimeError):
        cache.get("latest", 2, broken)
    assert cache.get("latest", 1, lambda: "rebuilt") == "run 1"
    assert cache.get("latest", 2, lambda: "run 2") == "run 2"


def test_a_value_that_is_not_stale_ok_waits_for_the_rebuild():
    """Row positions into the latest frame must never outlive it: without stale_ok a request waits for the
    rebuild instead of getting the previous run's positions."""
    cache = Cache()
    cache.get("accounts:red", 1, lambda: [0, 1])
    started, release = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        release.wait(10)
        return [5]

    builder = threading.Thread(target=lambda: cache.get("accounts:red", 2, slow_build))
    builder.start()
    assert started.wait(10)
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(cache.get("accounts:red", 2, lambda: [9])))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and got == []  # it waits rather than take [0, 1]
    release.set()
    builder.join(10)
    waiter.join(10)
    assert got == [[5]]
