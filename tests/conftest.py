"Fixtures shared by the serving tests."

from dataclasses import replace
from pathlib import Path
import pytest
from hm_recsys.config import Config, load_config
from hm_recsys.registry import ensure_registry


@pytest.fixture(scope="session")
def tiny_cfg(tmp_path_factory) -> Config:
    "The tiny run in a temporary project root, with a registry built from scratch by the pipeline's own functions (2 epochs, no tuning)."
    cfg = replace(load_config("tiny"), root=tmp_path_factory.mktemp("tiny"))
    ensure_registry(cfg, epochs=2)
    return cfg


@pytest.fixture(scope="session")
def registry(tiny_cfg) -> Path:
    "The tiny run's registry folder (tests read it; none writes beside it)."
    from hm_recsys.registry import registry_dir

    return registry_dir(tiny_cfg)
