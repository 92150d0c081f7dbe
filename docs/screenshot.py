"""Screenshots in headless Chromium: the demo as `make serve` shows it (the registry of a params file, its first example
customer), and the docs site's landing page. The helpers also drive the browser test (tests/test_serving.py).

    .venv/bin/python docs/screenshot.py demo default reports/figures/demo.png    # make screenshot (after make all): and
                                                        # demo-error.png (a malformed id), demo-phone.png (390 px wide)
    .venv/bin/python docs/screenshot.py site _docs/index.html reports/figures/docs.png   # and after make docs

Needs Chromium (`apt-get install -y chromium` on Debian; Playwright's own browser download is not used)."""

import argparse, shutil, sys, threading, time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-14's CSS pixels


@contextmanager
def served(app):
    "Serve the ASGI `app` with uvicorn on 127.0.0.1 in a thread; yield its URL."
    import uvicorn
    from hm_recsys.api import free_port

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(400):
        if srv.started:
            break
        time.sleep(0.05)
    if not srv.started:
        raise RuntimeError("The server did not start within 20 s.")
    try:
        yield f"http://127.0.0.1:{srv.config.port}"
    finally:
        srv.should_exit = True
        t.join(10)


def show_example(page, timeout: int = 30_000):
    "Wait for the app's first view: its first example customer (one with purchases), profile, purchases and cards."
    page.wait_for_selector(".hm-badge.hm-warm", timeout=timeout)
    page.wait_for_function(
        "document.querySelectorAll('#hm-history .hm-card').length > 0 && "
        "document.querySelectorAll('#hm-recs-box .hm-card').length > 0",
        timeout=timeout,
    )
    page.wait_for_timeout(300)  # the last layout pass


def show_error(page, timeout: int = 30_000):
    "The first view, then a malformed customer id: its message under the field, the stale results cleared."
    show_example(page, timeout)
    page.locator("#hm-customer textarea, #hm-customer input").first.fill("hello")
    page.locator("#hm-go").click()
    page.wait_for_selector("#hm-customer-message .hm-error", timeout=timeout)
    page.wait_for_timeout(300)


def shoot(url: str, out: Path, show=None, viewport: dict = VIEWPORT, full_page: bool = True) -> Path:
    "Open `url` in the system's headless Chromium, run `show(page)`, and write the page as a PNG at `out`, atomically."
    from playwright.sync_api import sync_playwright
    from hm_recsys.config import atomic_path

    if not CHROMIUM:
        raise FileNotFoundError("No Chromium on PATH: `apt-get install -y chromium` (Debian), then retry.")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = b.new_page(viewport=viewport)
            page.goto(url, wait_until="load")  # the app's event stream stays open: no network idle
            if show:
                show(page)
            with atomic_path(out) as tmp:
                page.screenshot(path=str(tmp), type="png", full_page=full_page)
        finally:
            b.close()
    print(f"wrote {out}")
    return Path(out)


def demo(params: str, out: Path, registry: Path | None = None) -> Path:
    """The app on the registry of `params` (or the folder `registry`) with its first example customer, as a PNG at `out`;
    beside it, `-error` after a malformed id and `-phone` on a 390 px wide screen."""
    from hm_recsys.config import load_config
    from hm_recsys.registry import registry_dir
    from hm_recsys.api import create_app
    from hm_recsys.serving import HMRecommender

    reg = Path(registry or registry_dir(load_config(params)))
    out = Path(out)
    with served(create_app(HMRecommender.load(reg), token="")) as url:
        shoot(url + "/", out.with_stem(f"{out.stem}-error"), show_error)
        shoot(url + "/", out.with_stem(f"{out.stem}-phone"), show_example, viewport=PHONE, full_page=False)
        return shoot(url + "/", out, show_example)


def site(index: Path, out: Path) -> Path:
    "The first screen of the docs site's landing page `index` (`make docs` builds it), sidebar included, as a PNG at `out`."
    index = Path(index).resolve()
    if not index.exists():
        raise FileNotFoundError(f"No {index}: run `make docs` first.")
    return shoot(index.as_uri(), out, viewport={"width": 1280, "height": 1000}, full_page=False)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    d = sub.add_parser("demo", help="the app on a registry")
    d.add_argument("params", help="a params file name or path: its registry is served")
    d.add_argument("out", type=Path)
    d.add_argument("--registry", type=Path, help="a registry folder instead of the params' one")
    s = sub.add_parser("site", help="the docs site")
    s.add_argument("index", type=Path, help="the site's index.html")
    s.add_argument("out", type=Path)
    a = ap.parse_args()
    demo(a.params, a.out, a.registry) if a.what == "demo" else site(a.index, a.out)
