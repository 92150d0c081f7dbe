"""`make space`: the folder written from a tiny registry starts as a Hugging Face Space starts it (`python app.py`, its own
copy of the package) and answers gradio_client; on a public address without HM_API_TOKEN it refuses to start."""

from pathlib import Path
import pytest
from hm_recsys.serving import HMRecommender
from hm_recsys.space import TORCH_CPU, start_space, write_space


@pytest.fixture
def cfg(tiny_cfg):
    return tiny_cfg


def test_space_starts_and_answers(cfg, tmp_path):
    from gradio_client import Client

    folder = write_space(cfg, tmp_path / "space")
    assert {"app.py", "requirements.txt", "README.md", "hm_recsys", "registry"} <= {p.name for p in folder.iterdir()}
    reqs = (folder / "requirements.txt").read_text().splitlines()
    assert reqs[0] == TORCH_CPU and "torch==2.13.0" in reqs and any(r.startswith("uvicorn[standard]==") for r in reqs)
    assert "sdk: gradio" in (folder / "README.md").read_text() and not list(folder.rglob("__pycache__"))
    c = HMRecommender.load(folder / "registry").data.customers
    warm = c.customer_id[c.purchases > 0].iloc[0]
    with start_space(folder) as space:
        msg, profile, history, cards, raw = Client(space.url, verbose=False).predict(warm, 12, api_name="/recommend")
        assert cards.count('class="hm-card"') == 12 and len(raw["articles"]) == 12 and history.count("hm-card") > 0
        imported = Path(space.output().split("hm_recsys: ", 1)[1].splitlines()[0])
    assert imported.is_relative_to(folder), imported  # the folder's copy, not the installed package
    assert space.proc.returncode is not None  # stopped on the way out


def test_space_refuses_public_address_without_token(cfg, tmp_path):
    folder = write_space(cfg, tmp_path / "space")
    with pytest.raises(RuntimeError, match="exited with status 1") as e:
        with start_space(folder, {"GRADIO_SERVER_NAME": "0.0.0.0"}):
            pass
    assert "HM_API_TOKEN" in str(e.value)
    with pytest.raises(FileNotFoundError, match="run `make all PARAMS="):
        write_space(cfg, tmp_path / "none", tmp_path / "no-registry")
