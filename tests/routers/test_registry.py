"""The router registry: lazy "module:factory" entries with declared capabilities."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentroute.llm import needs_llm
from agentroute.routers import registry as registry_module
from agentroute.routers.base import BaseRouter, SharesTraining
from agentroute.routers.registry import (
    DEFAULT_ROUTERS,
    load_router,
    make_router,
    register_router,
    router_info,
    router_names,
)


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so registrations made by a test vanish after it."""
    monkeypatch.setattr(registry_module, "_ROUTERS", dict(registry_module._ROUTERS))
    return registry_module._ROUTERS


class Fixed(BaseRouter):
    """Always the first candidate."""

    name = "fixed"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed


def test_listing_and_describing_routers_imports_no_implementation():
    code = (
        "import sys\n"
        "from agentroute.routers import router_names, router_info\n"
        "print(','.join(router_names()))\n"
        "print(router_info('gnn').device, router_info('oracle').reads_scores)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch', 'agentroute.routers.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    names, capabilities, loaded = out.splitlines()
    assert names.split(",") == router_names()
    assert set(DEFAULT_ROUTERS) <= set(names.split(","))
    assert (capabilities, loaded) == ("True True", "['agentroute.routers.base', 'agentroute.routers.registry']")


def test_default_routers_are_registered():
    assert set(DEFAULT_ROUTERS) <= set(router_names())


def test_declared_capabilities_match_what_the_routers_do():
    for name in router_names():
        info = router_info(name)
        opts = {"scores": {}} if info.reads_scores else {"device": "cpu"} if info.device else {}
        router = make_router(name, seed=0, **opts)  # an LLM router connects on first use, not when built
        assert needs_llm(router) == info.needs_llm, name
        assert isinstance(router, SharesTraining) == info.shares_training, name
        assert callable(getattr(router, "save", None)) == (info.checkpoint is not None), name
        assert (type(router).fit is not BaseRouter.fit) == info.trainable, name


def test_lazy_registration_imports_on_first_build(registry):
    register_router("lazy-fixed", f"{__name__}:Fixed", summary="the first one", trainable=False)
    info = router_info("lazy-fixed")
    assert (info.summary, info.trainable, info.target) == ("the first one", False, f"{__name__}:Fixed")
    router = make_router("lazy-fixed", seed=4)
    assert isinstance(router, Fixed) and router.seed == 4


def test_decorator_registers_with_capabilities_and_keeps_declared_ones(registry):
    @register_router("deco", trainable=False)
    class Deco(Fixed):
        """A decorated router."""

    assert router_info("deco").trainable is False
    assert router_info("deco").summary == "A decorated router."
    assert isinstance(make_router("deco"), Deco)

    register_router("late", f"{__name__}:Fixed", trainable=False, summary="declared lazily")

    @register_router("late")  # the module's own decorator, once imported: capabilities stay
    class Late(Fixed):
        pass

    info = router_info("late")
    assert (info.target, info.trainable, info.summary) == (Late, False, "declared lazily")


def test_unknown_router_names_the_known_ones():
    with pytest.raises(ValueError) as e:
        make_router("nope")
    assert str(e.value) == f"unknown router 'nope': expected one of {', '.join(router_names())}"


def test_loading_a_checkpoint_needs_a_router_that_saves_them(tmp_path):
    with pytest.raises(ValueError, match="router 'knn' does not save checkpoints"):
        load_router("knn", tmp_path / "model.pt")


def test_a_part_with_a_connect_method_of_its_own_is_not_taken_for_an_llm_part() -> None:
    from agentroute.llm import LLMSettings, connect_parts

    class Database:  # has connect(), calls no LLM
        def connect(self, settings=None):
            raise AssertionError("connect_parts must not call this")

    assert not needs_llm(Database())
    assert connect_parts([Database()], LLMSettings(base_url="http://127.0.0.1:9/v1"), check=False) == []
