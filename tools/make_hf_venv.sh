#!/usr/bin/env bash
# Makes the current-HuggingFace venv (transformers, torch CPU, datasets, evaluate, scikit-learn)
# that tools/ scripts use as the oracle, outside the repository, from tools/requirements-hf.txt.
# Usage: tools/make_hf_venv.sh [VENV_DIR]   (default $FT_HF_VENV or ~/.venvs/ft-hf)
# Needs a CPython 3.11 (`$PYTHON`, default python3) and PyPI. Prints the venv's python.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${FT_HF_VENV:-$HOME/.venvs/ft-hf}}"
python="${PYTHON:-python3}"

case "$(cd "$(dirname "$venv")" 2>/dev/null && pwd)/" in
"$(cd "$here/.." && pwd)/"*) echo "make_hf_venv: $venv is inside the repository; pick a folder outside it" >&2; exit 1 ;;
esac
"$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' ||
  { echo "make_hf_venv: the pins are for CPython 3.11; $python is $("$python" --version 2>&1)" >&2; exit 1; }

"$python" -m venv "$venv"
# --no-deps: the file pins the whole resolved set, so pip resolves nothing here.
"$venv/bin/python" -m pip install --no-deps --no-input -r "$here/requirements-hf.txt" >&2
"$venv/bin/python" - <<'PY' >&2
import torch, transformers, datasets, evaluate, sklearn
x = torch.randn(4, 4)
assert torch.allclose(x @ torch.eye(4), x)
print("cuda available:", torch.cuda.is_available())
print("torch", torch.__version__, "transformers", transformers.__version__,
      "datasets", datasets.__version__, "evaluate", evaluate.__version__, "sklearn", sklearn.__version__)
PY
echo "$venv/bin/python"
