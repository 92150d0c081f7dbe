"The docs: the fallback site builds with its pages and links, and README.md is what nbs/index.ipynb gives."

import re, sys
from pathlib import Path
import pytest
from docs import build

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "A small site: the landing page, one pipeline notebook, two API pages (the whole site is `make docs`)."
    out = tmp_path_factory.mktemp("docs")
    build.build_fallback(out, notebooks=["index", "00_config"], modules=["config", "index"], log=lambda *a: None)
    return out


def links(page: Path) -> set[str]:
    return set(re.findall(r'href="([^"#:]+\.html)"', page.read_text()))


def test_pages(site):
    for f in ["index.html", "00_config.html", "api_config.html", "api_index.html", "figures.html", "scaling.html"]:
        assert (site / f).stat().st_size > 1000, f
    index = (site / "index.html").read_text()
    assert "make all" in index and "Leaderboard" in index and "Past one machine" in index
    assert (
        'src="figures/demo.png"' in index and (site / "figures" / "demo.png").exists()
    )  # the README's picture, where the site has it
    assert (
        build.site_paths("![a](reports/real-sample/figures/x.png) ![b](reports/figures/y.png) ![c](other/z.png)")
        == "![a](figures/real-sample/x.png) ![b](figures/y.png) ![c](other/z.png)"
    )
    api = (site / "api_config.html").read_text()
    assert "load_config" in api and "atomic_path" in api and 'class="hm-side"' in api


def test_links_resolve(site):
    for page in site.glob("*.html"):
        for href in links(page):
            assert (site / href).exists(), f"{page.name} links to missing {href}"
    assert {"00_config.html", "api_config.html", "api_index.html", "scaling.html"} <= links(site / "index.html")


def test_narrative_processed(site):
    "nbdev's processors ran: exported code replaced by its documentation, directives gone."
    page = (site / "00_config.html").read_text()
    assert "project_root" in page and "#| export" not in page and "default_exp config" not in page


def test_figures_copied(site):
    for png in (p for p in (ROOT / "reports").glob("**/figures/*.png") if p.name != "docs.png"):
        rel = png.relative_to(ROOT / "reports").as_posix().replace("/figures/", "/").replace("figures/", "")
        assert (site / "figures" / rel).exists(), rel


def test_readme_matches_index_notebook():
    assert (ROOT / "README.md").read_text() == build.readme_text(), (
        "README.md differs from nbs/index.ipynb: run `python docs/build.py readme` (or `make readme`)."
    )


def test_site_screenshot(site, tmp_path):
    "`make screenshot`'s picture of the site: its landing page in headless Chromium; a missing site, a clear error."
    from docs import screenshot

    if not screenshot.CHROMIUM:
        pytest.skip("Chromium is absent: `apt-get install -y chromium` (Debian) to take the screenshot")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    out = screenshot.site(site / "index.html", tmp_path / "docs.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    with pytest.raises(FileNotFoundError, match="make docs"):
        screenshot.site(tmp_path / "none" / "index.html", tmp_path / "x.png")


def test_imports_in_their_own_cells():
    """The docs run a notebook's exported, import and `show_doc` cells (nbdev's `exec_show_docs`, with Quarto or not):
    a cell with an import anywhere in it runs whole, so it holds imports only, or the demo beside them would run too."""
    import ast, json

    bad = []
    for path in sorted((ROOT / "nbs").glob("*.ipynb")):
        for c in json.loads(path.read_text())["cells"]:
            src = "".join(c["source"]) if c["cell_type"] == "code" else ""
            d = build.cell_directives({"source": src})
            if not src.strip() or d.keys() & {"export", "exports", "exporti"} or d.get("eval") == "false":
                continue
            body = ast.parse(build.strip_directives(src)).body
            imports = lambda n: isinstance(n, (ast.Import, ast.ImportFrom))
            if any(imports(n) for t in body for n in ast.walk(t)) and not all(imports(t) for t in body):
                bad.append(f"{path.name} cell {c.get('id')}")
    assert not bad, f"cells mixing imports with other code (move the imports to a cell of their own): {bad}"


def test_quarto_source(tmp_path):
    "What nbdev-docs gets with Quarto, which runs no notebook: the executed notebooks, the landing page run, figures and nbdev's YAML."
    import json

    out = build.quarto_source(tmp_path / "src", notebooks=["index", "00_config"])
    assert {"index.ipynb", "00_config.ipynb", "nbdev.yml", "_quarto.yml", "styles.css", "figures.md", "scaling.md"} <= {
        p.name for p in out.iterdir()
    }
    index = json.loads((out / "index.ipynb").read_text())
    shown = "".join(
        "".join(o.get("data", {}).get("text/markdown", "")) for c in index["cells"] for o in c.get("outputs", [])
    )
    assert "| recommender | MAP@12 |" in shown  # the leaderboard, run here: nbs/index.ipynb holds no outputs
    assert (
        "](figures/demo.png)" in "".join("".join(c["source"]) for c in index["cells"])
        and (out / "figures" / "demo.png").exists()
    )
    if (ROOT / "reports" / "00_config.ipynb").exists():  # make all's executed copy, outputs and all
        assert any(c.get("outputs") for c in json.loads((out / "00_config.ipynb").read_text())["cells"])
    assert "output-dir: _docs" in (out / "nbdev.yml").read_text()


# ---------------------------------------------------------------- what no page may show
SECRET = "/home/someone/private/params/default.yaml"  # the absolute path papermill injects, as make all would
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{8,}")  # a repr with a memory address


@pytest.fixture
def executed_root(tmp_path):
    "A tiny project: nbs/demo.ipynb, and reports/demo.ipynb as papermill writes it (with the injected-parameters cell)."
    import nbformat

    cells = [
        nbformat.v4.new_markdown_cell("# Demo\n\n> A page."),
        nbformat.v4.new_code_cell('params = "own-default"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('print("shown")', outputs=[nbformat.v4.new_output("stream", text="shown\n")]),
    ]
    root = tmp_path / "project"
    for d in ("nbs", "reports"):
        (root / d).mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), root / "nbs" / "demo.ipynb")
    injected = nbformat.v4.new_code_cell(
        f'# Parameters\nparams = "{SECRET}"\n', metadata={"tags": ["injected-parameters"]}
    )
    nbformat.write(nbformat.v4.new_notebook(cells=cells[:2] + [injected] + cells[2:]), root / "reports" / "demo.ipynb")
    return root


def test_fallback_hides_injected_parameters(executed_root, tmp_path):
    "The fallback's page of an executed notebook: its outputs, its own parameters cell, never papermill's injected one."
    out = tmp_path / "site"
    build.build_fallback(out, root=executed_root, notebooks=["demo"], modules=[], run=(), log=lambda *a: None)
    page = (out / "demo.html").read_text()
    assert "shown" in page and '"own-default"' in page  # the executed copy, the notebook's parameters cell kept
    assert SECRET not in page and "someone" not in page and "injected-parameters" not in page


def test_quarto_source_hides_injected_parameters(executed_root, tmp_path, monkeypatch):
    "What Quarto renders: the executed notebook without the injected cell (nbdev's YAML stubbed: no project config here)."
    import nbdev.quarto

    def refresh():
        for f in ("nbdev.yml", "_quarto.yml"):
            (executed_root / "nbs" / f).write_text("")

    monkeypatch.setattr(nbdev.quarto, "refresh_quarto_yml", refresh)
    out = build.quarto_source(tmp_path / "src", root=executed_root, notebooks=["demo"], run=())
    text = (out / "demo.ipynb").read_text()
    assert "shown" in text and "own-default" in text
    assert SECRET not in text and "injected-parameters" not in text


MODULE = '''"A module of constants for the docs' tests."
__all__ = ['N', 'NAME', 'PAIR', 'CSS', 'CHECKS', 'check_id']
N = 3
NAME = 'short'
PAIR = (1, 'a')
CSS = """
.x {color: red}
""" + 'LONGVALUE-' * 40
def check_id(x):
    "Check an id."
    return x
CHECKS = {'id': check_id, 'k': lambda k: k}
'''


def test_api_constants(tmp_path, monkeypatch):
    "Constants: name and value when short and simple, else name and type: no long strings, no function reprs with addresses."
    import importlib.util

    (tmp_path / "docs_fake.py").write_text(MODULE)
    spec = importlib.util.spec_from_file_location("hm_recsys.docs_fake", tmp_path / "docs_fake.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setitem(sys.modules, "hm_recsys.docs_fake", mod)
    md = build.api_markdown("docs_fake", "fake", link=False)
    assert "`N = 3`" in md and "`NAME = 'short'`" in md and "`PAIR = (1, 'a')`" in md
    assert "`CSS`: `str`" in md and "`CHECKS`: `dict` (2 items)" in md and "Check an id." in md
    assert "LONGVALUE" not in md and "color: red" not in md and "<function" not in md and not ADDRESS.search(md)
    page = build.notebook_html(build.markdown_nb(md), "hm_recsys.docs_fake")
    assert "CHECKS" in page and "LONGVALUE" not in page and not ADDRESS.search(page)


def test_api_no_addresses():
    "The reference of every module of hm_recsys: no memory address, no value longer than a line."
    for m, nb in build.module_notebooks().items():
        md = build.api_markdown(m, nb)
        assert not ADDRESS.search(md), f"hm_recsys.{m}: {ADDRESS.search(md).group()}"
        long = [l for l in md.splitlines() if l.startswith("`") and " = " in l and len(l) > build.SHORT + 2]
        assert not long, f"hm_recsys.{m}: {long}"


def test_site_no_addresses(site):
    for page in site.glob("*.html"):
        assert not ADDRESS.search(page.read_text()), page.name
