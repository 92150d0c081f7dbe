"Shared by the benchmark scripts: the project root, the machine's description."

import importlib, os, platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    "The CPU's model name, with its family and model numbers (a name such as 'AMD EPYC' covers several generations)."
    info = Path("/proc/cpuinfo")
    if not info.exists():
        return platform.processor()
    f = {
        k.strip(): v.strip()
        for k, v in (l.split(":", 1) for l in info.read_text().split("\n\n")[0].splitlines() if ":" in l)
    }
    return (
        f"{f.get('model name', platform.processor())} (family {f.get('cpu family', '?')}, model {f.get('model', '?')})"
    )


def machine() -> dict:
    "CPU model, cores, RAM, OS, library versions, and the vector instructions torch's kernels use (they set the order of float sums)."
    import psutil, torch

    return dict(
        cpu=cpu_name(),
        cores=os.cpu_count(),
        ram_gb=round(psutil.virtual_memory().total / 2**30, 1),
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        os=platform.platform(),
        python=platform.python_version(),
        torch_cpu=torch.backends.cpu.get_cpu_capability(),
        versions={m: version(m) for m in ("numpy", "pandas", "scipy", "torch", "faiss", "lightgbm", "implicit")},
    )


def version(module: str) -> str | None:
    "The module's __version__, None where it is not installed (faiss on a GPU machine that only trains)."
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None
