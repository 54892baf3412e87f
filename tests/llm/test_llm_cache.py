"""The sqlite result cache: keys, persistence, threads and processes writing at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from trait.errors import TraitError
from trait.llm import ChatRequest, ChatResult, ResultCache


def result(i: int) -> ChatResult:
    return ChatResult(text=f"answer {i} ✓", prompt_tokens=i, completion_tokens=2 * i, finish_reason="stop")


def test_key_covers_everything_that_changes_the_output():
    base = ChatRequest(model="m", messages=(("user", "hi"),), temperature=0.7, top_p=0.9, max_tokens=64, seed=1)
    variants = [ChatRequest(model="m2", messages=base.messages, temperature=0.7, top_p=0.9, max_tokens=64, seed=1),
                ChatRequest(model="m", messages=(("user", "hi!"),), temperature=0.7, top_p=0.9, max_tokens=64, seed=1),
                ChatRequest(model="m", messages=(("system", "hi"),), temperature=0.7, top_p=0.9, max_tokens=64, seed=1),
                ChatRequest(model="m", messages=base.messages, temperature=0.8, top_p=0.9, max_tokens=64, seed=1),
                ChatRequest(model="m", messages=base.messages, temperature=0.7, top_p=1.0, max_tokens=64, seed=1),
                ChatRequest(model="m", messages=base.messages, temperature=0.7, top_p=0.9, max_tokens=65, seed=1),
                ChatRequest(model="m", messages=base.messages, temperature=0.7, top_p=0.9, max_tokens=64, seed=2),
                ChatRequest(model="m", messages=base.messages, temperature=0.7, top_p=0.9, max_tokens=64)]
    assert len({base.key, *(v.key for v in variants)}) == 1 + len(variants)
    tagged = ChatRequest(model="m", messages=(("user", "hi"),), temperature=0.7, top_p=0.9, max_tokens=64, seed=1,
                         meta={"passage": 3})
    assert tagged.key == base.key  # bookkeeping metadata is not part of the payload


def test_roundtrip_and_persistence(tmp_path):
    cache = ResultCache(tmp_path / "c.sqlite")
    cache.put("k1", result(1), "m")
    cache.put("k2", ChatResult(text="cut", completion_tokens=5, finish_reason="length"), "m")
    cache.close()
    again = ResultCache(tmp_path / "c.sqlite")
    got = again.get_many(["k1", "k2", "missing", "k1"])
    assert set(got) == {"k1", "k2"}
    assert got["k1"].text == "answer 1 ✓" and got["k1"].prompt_tokens == 1 and got["k1"].completion_tokens == 2
    assert got["k1"].cached and got["k1"].key == "k1" and got["k2"].finish_reason == "length"
    assert len(again) == 2


def test_many_keys_in_one_lookup(tmp_path):
    cache = ResultCache(tmp_path / "c.sqlite")
    for i in range(1200):
        cache.put(f"k{i}", result(i))
    got = cache.get_many([f"k{i}" for i in range(0, 2400, 2)])
    assert len(got) == 600 and got["k1198"].text == "answer 1198 ✓"


def test_threads_write_concurrently(tmp_path):
    cache = ResultCache(tmp_path / "c.sqlite")

    def write(t: int) -> None:
        for i in range(100):
            cache.put(f"t{t}-{i}", result(i))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 400


def test_processes_write_concurrently(tmp_path):
    script = textwrap.dedent("""
        import sys
        from trait.llm.base import ChatResult
        from trait.llm.cache import ResultCache
        cache = ResultCache(sys.argv[1])
        for i in range(150):
            cache.put(f"{sys.argv[2]}-{i}", ChatResult(text=str(i)))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "c.sqlite"), tag]) for tag in "ab"]
    assert [p.wait(60) for p in procs] == [0, 0]
    cache = ResultCache(tmp_path / "c.sqlite")
    assert len(cache) == 300 and cache.get_many(["a-149", "b-0"])["a-149"].text == "149"


def test_a_file_that_is_not_a_cache_is_one_clear_error(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(TraitError, match="cannot open the LLM cache"):
        ResultCache(bad)
