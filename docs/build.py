"""Build the docs site from the notebooks into `_docs/`, and README.md from `nbs/index.ipynb`.

    python docs/build.py                 # nbdev-docs on _quarto/ when Quarto is on PATH, else the fallback site
    python docs/build.py --fallback      # the fallback site even where Quarto is installed
    python docs/build.py readme          # write README.md from nbs/index.ipynb (run it; no Quarto needed)
    python docs/build.py readme --check  # exit 1 when README.md differs from what nbs/index.ipynb gives

The fallback needs no Quarto: each notebook goes through nbdev's processors (directives handled, exported code
replaced by its `show_doc`, hidden cells dropped), preferring the executed copy in `reports/` so pages show outputs
and figures (less papermill's injected-parameters cell, on both sites), then nbconvert's HTML exporter; one API page
per module from the exported docstrings (`show_doc`; a constant by its name and type, its value only when short);
the figures in `reports/` copied into a gallery; `nbs/*.md` (scaling.md, which nbdev-docs renders too) and
`reports/BENCHMARKS.md` as pages; one sidebar linking everything on every page.

With Quarto, nbdev-docs renders `_quarto/` (`quarto_source`): the same executed notebooks, pages and figures, since
Quarto shows the outputs a notebook holds and the notebooks of nbs/ hold none."""

from __future__ import annotations
import argparse, html, importlib, inspect, os, re, shutil, subprocess, sys
from contextlib import contextmanager
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
GENERATED = (
    "<!-- Generated from nbs/index.ipynb by `python docs/build.py readme`: edit the notebook, not this file. -->"
)


@contextmanager
def working_dir(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# ---------------------------------------------------------------- notebooks and cells
def notebook_names(root: Path = ROOT) -> list[str]:
    "The notebooks of `nbs/`, index first, then in file order."
    names = sorted(p.stem for p in (root / "nbs").glob("*.ipynb") if not p.name.startswith(("_", ".")))
    return sorted(names, key=lambda n: n != "index")


def executed_path(name: str, root: Path = ROOT) -> Path:
    "The executed notebook `reports/<name>.ipynb` written by `make all` when present, else the source notebook."
    run = root / "reports" / f"{name}.ipynb"
    return run if run.exists() else root / "nbs" / f"{name}.ipynb"


_re_dir = re.compile(r"^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")


def cell_directives(cell) -> dict[str, str]:
    "nbdev/Quarto directives of a cell (`#| echo: false` -> {'echo': 'false'}), parsed or still in the source."
    d = {
        k: " ".join(v) if isinstance(v, list) else str(v) for k, v in (getattr(cell, "directives_", None) or {}).items()
    }
    for line in cell.get("source", "").splitlines():
        m = _re_dir.match(line)
        if not m:
            break
        d[m.group(1)] = m.group(2)
    return d


def strip_directives(src: str) -> str:
    lines = src.splitlines()
    while lines and _re_dir.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)


INJECTED = (
    "injected-parameters"  # papermill's tag on the cell it adds: the run's parameters, an absolute path among them
)


def injected(cell) -> bool:
    "Whether `cell` is papermill's injected-parameters cell, which no page shows (it holds the running machine's paths)."
    return INJECTED in ((cell.get("metadata") or {}).get("tags") or [])


def drop_injected(nb):
    "`nb` without papermill's injected-parameters cell (in place), for both sites: the fallback's pages and Quarto's notebooks."
    nb["cells"] = [c for c in nb["cells"] if not injected(c)]
    return nb


def run_notebook(path: Path):
    "The notebook at `path` executed in-process (execnb, cwd nbs/), for pages with no executed copy in reports/."
    from fastcore.nbio import read_nb
    from execnb.shell import CaptureShell

    nb = read_nb(path)
    with working_dir(path.parent):
        CaptureShell().run_all(nb, exc_stop=True)
    return nb


def nbdev_process(path: Path, exec_docs: bool = True, nb=None):
    "Run nbdev's documentation processors on the notebook at `path` (or its already-read `nb`), cwd nbs/ as nbdev does."
    from nbdev import processors as P
    from nbdev.process import NBProcessor

    procs = [
        P.populate_language,
        P.add_show_docs,
        P.strip_ansi,
        P.hide_line,
        P.filter_stream_,
        P.rm_header_dash,
        P.clean_show_doc,
        *([P.exec_show_docs] if exec_docs else []),
        P.rm_export,
        P.clean_magics,
        P.hide_,
        P.mv_exports,
        P.strip_hidden_metadata,
    ]
    os.environ["IN_TEST"] = "1"
    try:
        with working_dir(path.parent if path.parent.name == "nbs" else ROOT / "nbs"):
            proc = NBProcessor(path, procs, nb=nb, rm_directives=True)
            proc.process()
    finally:
        os.environ.pop("IN_TEST", None)
    return proc.nb


def _output(o) -> nbformat.NotebookNode:
    "An output with its multi-line strings joined, as nbformat wants them."
    j = lambda v: "".join(v) if isinstance(v, list) else v
    o = nbformat.from_dict(dict(o))
    if "data" in o:
        o["data"] = {k: j(v) for k, v in o["data"].items()}
    if "text" in o:
        o["text"] = j(o["text"])
    return o


def to_nbformat(nb) -> nbformat.NotebookNode:
    "A processed nbdev notebook as an nbformat notebook for nbconvert: directives applied (echo, output, include)."
    cells = []
    for c in nb.cells:
        if "source" not in c or injected(c):
            continue
        d, src = cell_directives(c), strip_directives(c.source)
        if d.get("include") == "false" or (c.cell_type == "code" and not src.strip() and not c.get("outputs")):
            continue
        if c.cell_type == "markdown":
            cells.append(
                nbformat.v4.new_markdown_cell(src, **({"attachments": c.attachments} if c.get("attachments") else {}))
            )
            continue
        if c.cell_type != "code":
            continue
        outs = [] if d.get("output") == "false" else [_output(o) for o in c.get("outputs", [])]
        tags = ["hide-input"] if d.get("echo") == "false" or not src.strip() else []
        cells.append(nbformat.v4.new_code_cell(src, outputs=outs, metadata={"tags": tags}))
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata["language_info"] = {"name": "python"}
    return out


def title_of(nb) -> str:
    "The notebook's `# Title` (the first level-1 heading)."
    for c in nb.cells:
        if c.cell_type == "markdown" and (m := re.search(r"^#\s+(.+)$", c.source, re.M)):
            return m.group(1).strip()
    return ""


# ---------------------------------------------------------------- API reference
def module_notebooks(root: Path = ROOT) -> dict[str, str]:
    "Exported module -> the notebook it comes from (read from the generated files' headers)."
    out = {}
    for py in sorted((root / "hm_recsys").glob("*.py")):
        m = re.search(r"File to edit: \.\./nbs/(\S+)\.ipynb", py.read_text())
        if m:
            out[py.stem] = m.group(1)
    return out


def _doc_md(obj, name: str) -> str:
    from nbdev.showdoc import show_doc

    md = show_doc(obj, name=name)._repr_markdown_()
    return re.sub(r"\[source\]\([^)]*\)\{[^}]*\}\s*", "", md).replace("\n---\n", "\n", 1).strip()


def api_markdown(module: str, notebook: str, link: bool = True) -> str:
    "Markdown reference of `hm_recsys.<module>`: its docstring, then `show_doc` of each name in `__all__` and their methods."
    mod = importlib.import_module(f"hm_recsys.{module}")
    parts = [
        f"# hm_recsys.{module}",
        f"> {(mod.__doc__ or '').split('Docs:')[0].strip()}",
        f"Source notebook: {f'[{notebook}]({notebook}.html)' if link else f'`nbs/{notebook}.ipynb`'}. Every name below is exported from it.",
    ]
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name, None)
        if not documented(obj):
            parts.append(constant_markdown(name, obj))
            continue
        parts.append(_doc_md(obj, name))
        if inspect.isclass(obj):
            for m, f in vars(obj).items():
                f = getattr(f, "__func__", f)
                if not m.startswith("_") and inspect.isfunction(f) and f.__doc__:
                    parts.append(_doc_md(f, f"{name}.{m}"))
    return "\n\n".join(parts)


def documented(obj) -> bool:
    "Whether `show_doc` documents `obj`: a class, or a function, wrapped ones too (`functools.lru_cache`)."
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return True
    try:
        return callable(obj) and inspect.isfunction(inspect.unwrap(obj))
    except ValueError:
        return False  # a cycle of __wrapped__


SHORT = 80  # the longest `NAME = value` the reference shows
_SCALARS = (bool, int, float, str, type(None))


def _literal(v, nested: bool = False) -> bool:
    "A number, a one-line string, None, or (not nested) a tuple or list of those."
    if type(v) in _SCALARS:
        return not (type(v) is str and "\n" in v)
    return not nested and type(v) in (tuple, list) and all(_literal(x, True) for x in v)


def type_name(v) -> str:
    "The name of `v`'s type: `dict`, `pandas.Timestamp` (its package's name for it when it has one), else module.qualname."
    t = type(v)
    mod, qual = t.__module__, t.__qualname__
    if mod == "builtins":
        return qual
    top = mod.split(".")[0]
    return f"{top}.{qual}" if getattr(sys.modules.get(top), qual, None) is t else f"{mod}.{qual}"


def constant_markdown(name: str, value) -> str:
    """A module constant in the reference: `NAME = value` for a short simple literal (number, one-line string, short
    tuple or list of those), else only its name and type (and size): no long values, no reprs with memory addresses."""
    if _literal(value) and len(shown := f"{name} = {value!r}") <= SHORT and "`" not in shown:
        return f"### {name}\n\n`{shown}`"
    sized = isinstance(value, (str, tuple, list, dict, set, frozenset))
    size = f" ({len(value):,} {'characters' if isinstance(value, str) else 'items'})" if sized else ""
    return f"### {name}\n\n`{name}`: `{type_name(value)}`{size}"


# ---------------------------------------------------------------- HTML
GALLERY_CSS = ".hm-gallery img{max-width:100%;border:1px solid #ddd}\n"  # the figures page, on both sites
CSS = (
    """
body{margin:0} .hm-side{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;padding:16px 14px;
 background:#f6f6f8;border-right:1px solid #ddd;font:14px/1.45 system-ui,sans-serif;box-sizing:border-box}
.hm-side h2{font-size:17px;margin:0 0 10px} .hm-side h3{font-size:12px;text-transform:uppercase;color:#666;margin:16px 0 4px}
.hm-side a{display:block;color:#1a4f8b;text-decoration:none;padding:2px 4px;border-radius:3px}
.hm-side a:hover{background:#e4e9f2} .hm-side a.hm-here{background:#dbe4f3;font-weight:600}
.hm-main{margin-left:250px;padding:8px 24px 40px;max-width:1100px}
.hm-main table{border-collapse:collapse} .hm-main td,.hm-main th{border:1px solid #ccc;padding:3px 8px}
.hm-main pre{background:#f4f4f4;padding:8px;overflow-x:auto} """
    + GALLERY_CSS
)


def page_file(kind: str, name: str) -> str:
    return "index.html" if (kind, name) == ("nb", "index") else f"{'api_' if kind == 'api' else ''}{name}.html"


def sidebar(site: dict, here: str) -> str:
    "The navigation of every page: guide, notebooks, API reference, pages; `here` is the current file."
    a = lambda f, t: f'<a href="{f}"{" class=hm-here" if f == here else ""}>{html.escape(t)}</a>'
    out = ['<nav class="hm-side"><h2><a href="index.html">hm-recsys</a></h2>']
    for section, items in site.items():
        out += [f"<h3>{section}</h3>", *(a(f, t) for f, t in items)]
    return "\n".join(out + ["</nav>"])


def notebook_html(nb: nbformat.NotebookNode, title: str) -> str:
    "A full HTML page of `nb` (nbconvert lab template, images inline, hidden inputs removed)."
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    ex = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    ex.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"hide-input"}, enabled=True), enabled=True)
    body, _ = ex.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def with_sidebar(page: str, nav: str, title: str) -> str:
    page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)} - hm-recsys</title>", page, count=1, flags=re.S)
    page = page.replace("</head>", f"<style>{CSS}</style>\n</head>", 1)
    page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav + '<div class="hm-main">', page, count=1)
    return page.replace("</body>", "</div></body>", 1)


def markdown_nb(md: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(md)])
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def site_figures(run: str) -> str:
    "Where the site keeps the figures of `reports/<run>/figures` (`run` '.': reports/figures itself)."
    return "figures" if run == "." else f"figures/{run}"


def figures_markdown(out: Path, root: Path = ROOT) -> str:
    "Copy the PNG figures of `reports/` (and its runs' subfolders) into `out/figures/`; a gallery page of them."
    parts = ["# Figures", "> Every figure the last `make all` runs wrote, by run."]
    for fig_dir in sorted((root / "reports").glob("**/figures")):
        run = fig_dir.parent.relative_to(root / "reports").as_posix()
        pngs = sorted(p for p in fig_dir.glob("*.png") if p.name != "docs.png")  # not the site's own screenshot
        if not pngs:
            continue
        rel = site_figures(run)
        (out / rel).mkdir(parents=True, exist_ok=True)
        parts.append(f"## {'synthetic default (reports/)' if run == '.' else f'reports/{run}'}")
        for p in pngs:
            shutil.copy2(p, out / rel / p.name)
            parts.append(
                f'### {p.stem}\n\n<div class="hm-gallery"><img src="{rel}/{p.name}" alt="{p.stem}" loading="lazy"></div>'
            )
    return "\n\n".join(parts)


def site_paths(md: str) -> str:
    "Markdown image paths into `reports/` as the site holds them (`site_figures`): reports/[RUN/]figures/x -> figures/[RUN/]x."
    return re.sub(r"\]\(reports/(?:([^)/]+)/)?figures/", lambda m: f"]({site_figures(m.group(1) or '.')}/", md)


def site_notebook(name: str, root: Path = ROOT, run: tuple = ("index",)):
    """The notebook `name` as the site shows it, and its path: the executed copy (`executed_path`; one in `run` with none
    executed here) without papermill's injected-parameters cell (`drop_injected`), its Markdown image paths into
    reports/ as the site holds them (`site_paths`)."""
    from fastcore.nbio import read_nb

    path = executed_path(name, root)
    nb = drop_injected(run_notebook(path) if name in run and path.parent.name == "nbs" else read_nb(path))
    for c in nb.cells:
        if c.cell_type == "markdown":
            c.source = site_paths(c.source)
    return path, nb


def extra_pages(root: Path = ROOT) -> list[Path]:
    "The Markdown pages beside the notebooks: `nbs/*.md` and, once `make bench` wrote it, reports/BENCHMARKS.md."
    return sorted((root / "nbs").glob("*.md")) + [p for p in [root / "reports" / "BENCHMARKS.md"] if p.exists()]


def build_fallback(
    out: Path = ROOT / "_docs",
    root: Path = ROOT,
    notebooks: list[str] | None = None,
    modules: list[str] | None = None,
    exec_docs: bool = True,
    run: tuple = ("index",),
    log=print,
) -> Path:
    """Write the static site into `out`: notebook pages, API pages, figures, extra pages, one sidebar. -> index.html
    Notebooks in `run` without an executed copy in reports/ are executed first (the landing page's leaderboard)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = notebook_names(root) if notebooks is None else notebooks
    mods = module_notebooks(root)
    mods = {m: mods[m] for m in (mods if modules is None else modules)}
    pages = {}  # file -> (title, nbformat notebook)
    for name in names:
        src, nb = site_notebook(name, root, run)
        log(f"notebook {src.relative_to(root)}")
        nb = to_nbformat(nbdev_process(src, exec_docs, nb))
        pages[page_file("nb", name)] = (title_of(nb) or name, nb)
    for m, nb_name in mods.items():
        log(f"api {m}")
        pages[page_file("api", m)] = (f"hm_recsys.{m}", markdown_nb(api_markdown(m, nb_name, nb_name in names)))
    for md in extra_pages(root):
        text = md.read_text()
        t = re.search(r"^#\s+(.+)$", text, re.M)
        pages[f"{md.stem.lower()}.html"] = (t.group(1) if t else md.stem, markdown_nb(text))
    pages["figures.html"] = ("Figures", markdown_nb(figures_markdown(out, root)))
    nb_files = [page_file("nb", n) for n in names]
    site = {
        "Notebooks": [(f, pages[f][0] if f != "index.html" else "Home") for f in nb_files],
        "API reference": [(page_file("api", m), f"hm_recsys.{m}") for m in mods],
        "More": [(f, pages[f][0]) for f in pages if f not in nb_files and not f.startswith("api_")],
    }
    for f, (title, nb) in pages.items():
        (out / f).write_text(with_sidebar(notebook_html(nb, title), sidebar(site, f), title))
    if "index.html" not in pages:
        (out / "index.html").write_text(
            with_sidebar(
                notebook_html(markdown_nb("# hm-recsys"), "hm-recsys"), sidebar(site, "index.html"), "hm-recsys"
            )
        )
    (out / ".nojekyll").touch()
    return out / "index.html"


# ---------------------------------------------------------------- what nbdev-docs renders with Quarto
def quarto_source(
    out: Path = ROOT / "_quarto", root: Path = ROOT, notebooks: list[str] | None = None, run: tuple = ("index",)
) -> Path:
    """The folder `nbdev-docs --path` renders. Quarto shows the outputs a notebook holds and runs none, and the notebooks of
    nbs/ hold none: so the site's notebooks (`site_notebook`), the pages beside them, the figures with their gallery, and
    nbdev's nbdev.yml and _quarto.yml (written into nbs/ from pyproject.toml, as nbdev-docs does). -> out"""
    from fastcore.nbio import write_nb
    from nbdev.quarto import refresh_quarto_yml

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in notebook_names(root) if notebooks is None else notebooks:
        write_nb(site_notebook(name, root, run)[1], out / f"{name}.ipynb")
    for md in extra_pages(root):
        shutil.copy2(md, out / md.name.lower())
    (out / "figures.md").write_text(figures_markdown(out, root))
    (out / "styles.css").write_text(GALLERY_CSS)  # the stylesheet nbdev's _quarto.yml names
    with working_dir(root):
        refresh_quarto_yml()
    for f in ("nbdev.yml", "_quarto.yml"):
        shutil.copy2(root / "nbs" / f, out / f)
    return out


# ---------------------------------------------------------------- README from nbs/index.ipynb
def readme_text(root: Path = ROOT) -> str:
    "README.md from `nbs/index.ipynb`: markdown cells as they are, code cells run (execnb) and shown per their directives."
    nb, parts = run_notebook(root / "nbs" / "index.ipynb"), [GENERATED]
    for c in nb.cells:
        if c.cell_type == "markdown":
            parts.append(c.source.strip())
            continue
        d, src = cell_directives(c), strip_directives(c.source).strip()
        if c.cell_type != "code" or d.get("include") == "false" or d.get("hide") is not None:
            continue
        if src and d.get("echo") != "false":
            parts.append(f"```python\n{src}\n```")
        for o in [] if d.get("output") == "false" else c.get("outputs", []):
            data = o.get("data", {})
            if "text/markdown" in data:
                parts.append("".join(data["text/markdown"]).strip())
            elif o.get("output_type") == "stream" or "text/plain" in data:
                parts.append("```\n" + "".join(o.get("text", data.get("text/plain", ""))).rstrip() + "\n```")
    return "\n\n".join(p for p in parts if p) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="?", default="site", choices=["site", "readme"])
    ap.add_argument("--fallback", action="store_true", help="build the fallback site even where Quarto is installed")
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="site folder (fallback only)")
    ap.add_argument("--check", action="store_true", help="readme: fail when README.md is out of date")
    a = ap.parse_args(argv)
    if a.what == "readme":
        text, readme = readme_text(), ROOT / "README.md"
        if a.check:
            if readme.read_text() != text:
                sys.exit("README.md differs from nbs/index.ipynb: run `python docs/build.py readme`.")
            print("README.md matches nbs/index.ipynb")
            return
        readme.write_text(text)
        print(f"wrote {readme}")
        return
    if shutil.which("quarto") and not a.fallback:
        subprocess.run(
            [str(Path(sys.executable).parent / "nbdev-docs"), "--path", str(quarto_source())], cwd=ROOT, check=True
        )
        return
    print(f"site: {build_fallback(Path(a.out))}")


if __name__ == "__main__":
    main()
