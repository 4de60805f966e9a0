# Sourced by the quick-start scripts: make (once) and enter the project's virtual environment.
# Re-installs when pyproject.toml changes. PYTHON picks the interpreter (default: python3.11,
# else python3; 3.10 or newer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/python ]; then
  py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  "$py" -c 'import sys; assert sys.version_info >= (3, 10), "shenjing needs Python >= 3.10"'
  "$py" -m venv .venv
fi
stamp=.venv/.shenjing-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,onednn]"
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
