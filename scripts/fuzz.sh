#!/usr/bin/env bash
# Fuzz one harness of fuzz/ with atheris (coverage-guided) for SECONDS:
#   scripts/fuzz.sh twiml_policing 1200
# Targets: twiml_policing, dial_strings, policy_loader, form_body. Needs the fuzz extra
# (pip install -e '.[fuzz]'). New inputs go to .fuzz/TARGET (not kept); a crash is written to
# fuzz/corpus/TARGET/crash-*, where tests/test_fuzz_corpus.py replays it once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET [SECONDS]" >&2
    exit 2
fi
target=$1
seconds=${2:-60}
python=${PYTHON:-.venv/bin/python}
if [ ! -f "fuzz/$target.py" ] || [ ! -d "fuzz/corpus/$target" ]; then
    echo "fuzz.sh: no harness $target (fuzz/*.py with a fuzz/corpus/ folder)" >&2
    exit 2
fi
if ! "$python" -c "import atheris" 2>/dev/null; then
    echo "fuzz.sh: atheris is missing: pip install -e '.[fuzz]'" >&2
    exit 2
fi
mkdir -p ".fuzz/$target"
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="fuzz/corpus/$target/")
if [ -f "fuzz/$target.dict" ]; then
    options+=(-dict="fuzz/$target.dict")  # the format's own words, spliced in by the mutator
fi
exec "$python" -m "fuzz.$target" "${options[@]}" ".fuzz/$target" "fuzz/corpus/$target"
