"The benchmark scripts, run from the repository root as `python -m bench.<script>` (e.g. `python -m bench.run`)."
