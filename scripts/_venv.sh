# Sourced by scripts/start and scripts/test: a .venv on Python 3.11 with a requirements file installed.

ensure_venv() {
  local requirements="$1" python
  if [[ ! -x .venv/bin/python ]]; then
    python="$(command -v python3.11 || command -v python3 || true)"
    if [[ -z "$python" ]] || ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "[dbr] DBR needs Python 3.11 (python3.11 or python3 on PATH)" >&2
      return 1
    fi
    echo "[dbr] creating .venv with $python" >&2
    "$python" -m venv .venv
  fi
  echo "[dbr] installing $requirements into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
}
