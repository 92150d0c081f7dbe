"""Two-tower training on whatever device torch finds: the check for machines with a GPU, and its CPU baseline.

Fits `model.fit_two_tower` at the test cutoff of a params file's processed tables (run the ETL first: `make all` or
`make real-sample`): epoch tuning on the validation window, then the refit on every row before the cutoff. Writes the
device, the fit time, the tuned epochs, the validation curve and the refit model's test Recall@100 as JSON, in
reports/device/, where `python -m bench.run --only device` reads every run.
    .venv/bin/python -m bench.device params/default.yaml --out reports/device/cpu2.json
    CUDA_VISIBLE_DEVICES= .venv/bin/python -m bench.device ...    # the same run on the CPU of a GPU machine
The model code picks the device itself (`model.get_device`); nothing in the project needs a GPU."""

import argparse, json
from pathlib import Path
from .common import ROOT, machine

RUNS_DIR = ROOT / "reports" / "device"  # one JSON per run
CODE = (
    "model"  # the module whose code (with what it imports) a run depends on: bench/run.py flags runs made on other code
)


def main(params: str, out: Path):
    import torch
    from hm_recsys.config import code_digest, load_config, write_json
    from hm_recsys.etl import load_processed
    from hm_recsys.model import fit_two_tower, get_device, model_params, recall_at_k

    cfg = load_config(params)
    tables = load_processed(cfg)
    s = tables.split
    model, info = fit_two_tower(tables, s.test_start, model_params(cfg) | {"progress": False}, cfg.seed)
    result = dict(
        params=cfg.dataset,
        device=str(get_device()),
        cpu_threads=torch.get_num_threads(),
        fit_seconds=round(info["fit_seconds"], 1),
        best_epoch=info.get("best_epoch"),
        val_recall100=[round(r, 5) for r in info.get("val_recall100", [])],
        test_recall100=round(recall_at_k(model, tables, s.test_start, s.test_end), 5),
        code=code_digest(CODE),
        machine=machine(),
    )
    write_json(result, out)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.device", description=__doc__.splitlines()[0])
    ap.add_argument("params")
    ap.add_argument("--out", type=Path, default=RUNS_DIR / "run.json")
    a = ap.parse_args()
    main(a.params, a.out)
