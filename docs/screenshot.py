"""A screenshot of the demo as `make serve` shows it: the registry of a params file, its first example customer, in
headless Chromium. Its helpers also drive the browser test (tests/test_serving.py).

    .venv/bin/python docs/screenshot.py default reports/figures/demo.png    # make screenshot (after make all)

Needs Chromium (`apt-get install -y chromium` on Debian; Playwright's own browser download is not used)."""
import argparse, shutil, socket, sys, threading, time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
VIEWPORT = {'width': 1280, 'height': 900}

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextmanager
def served(app):
    "Serve the ASGI `app` with uvicorn on 127.0.0.1 in a thread; yield its URL."
    import uvicorn
    srv = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=free_port(), log_level='warning'))
    t = threading.Thread(target=srv.run, daemon=True); t.start()
    for _ in range(400):
        if srv.started: break
        time.sleep(.05)
    if not srv.started: raise RuntimeError('The server did not start within 20 s.')
    try: yield f'http://127.0.0.1:{srv.config.port}'
    finally: srv.should_exit = True; t.join(10)

def browser(playwright):
    "Headless Chromium from the system (see CHROMIUM)."
    if not CHROMIUM: raise FileNotFoundError('No Chromium on PATH: `apt-get install -y chromium` (Debian), then retry.')
    return playwright.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                                                      '--disable-component-update', '--disable-sync', '--no-first-run'])

def show_example(page, timeout: int = 20_000):
    "Pick the app's first example customer (one with purchases) and wait for their profile, purchases and cards."
    page.locator('#hm-pick input').click(); page.get_by_role('option').first.click()
    page.wait_for_selector('.hm-badge.hm-warm', timeout=timeout)
    page.wait_for_function("document.querySelectorAll('#hm-history img').length > 0", timeout=timeout)
    page.wait_for_timeout(300)   # the gallery's last layout pass

def main(params: str, out: Path, registry: Path | None = None) -> Path:
    "Serve the registry of `params` (or the folder `registry`), show its first example customer, write the page as a PNG at `out`."
    from playwright.sync_api import sync_playwright
    from hm_recsys.config import atomic_path, load_config
    from hm_recsys.index import registry_dir
    from hm_recsys.serving import HMRecommender, create_app
    reg = Path(registry or registry_dir(load_config(params)))
    if not (reg/'metadata.json').exists(): raise FileNotFoundError(f'No registry in {reg}: run `make all PARAMS={params}` first.')
    with served(create_app(HMRecommender.load(reg))) as url, sync_playwright() as p:
        b = browser(p)
        try:
            page = b.new_page(viewport=VIEWPORT); page.goto(url + '/', wait_until='networkidle'); show_example(page)
            with atomic_path(out) as tmp: page.screenshot(path=str(tmp), type='png', full_page=True)
        finally: b.close()
    print(f'wrote {out}'); return Path(out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('params', help='a params file name or path: its registry is served'); ap.add_argument('out', type=Path)
    ap.add_argument('--registry', type=Path, help="a registry folder instead of the params' one")
    a = ap.parse_args(); main(a.params, a.out, a.registry)
