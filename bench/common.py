"Shared by the benchmark scripts: the project root on sys.path, the machine's description."
import importlib, os, platform, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))

def machine() -> dict:
    "CPU model, cores, RAM, OS and library versions of this machine."
    import psutil, torch
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    return dict(cpu=cpu, cores=os.cpu_count(), ram_gb=round(psutil.virtual_memory().total / 2**30, 1),
                gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                os=platform.platform(), python=platform.python_version(),
                versions={m: version(m) for m in ('numpy', 'pandas', 'torch', 'faiss')})

def version(module: str) -> str | None:
    "The module's __version__, None where it is not installed (faiss on a GPU machine that only trains)."
    try: return importlib.import_module(module).__version__
    except ImportError: return None
