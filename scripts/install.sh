#!/usr/bin/env bash
# Installs tomecast into ./.venv (created if missing), with the system tools it needs.
# Usage: scripts/install.sh [EXTRAS]     e.g. scripts/install.sh dev
# torch is installed first and pinned, so that pip never swaps it for another build: on this
# workplace's CPU machines `torch==2.13.0` is a local CPU wheel; elsewhere pip takes the usual build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v redis-server >/dev/null || need+=(redis-server)
command -v espeak-ng >/dev/null || need+=(espeak-ng)   # the draft engine (--engine espeak) and QA tests
ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2' || need+=(libcairo2)   # cairosvg: SVG covers
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "install.sh: please install ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  .venv/bin/python -m pip install -q "torch==${TOMECAST_TORCH_VERSION:-2.13.0}"
fi
torch_ver=$(.venv/bin/python -c 'import torch; print(torch.__version__.split("+")[0])')
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q -e "$spec" "torch==$torch_ver"
echo "installed: $(.venv/bin/tomecast --help >/dev/null && echo tomecast) (torch $torch_ver) in .venv" >&2
# Perth's own check: what is missing for the watermark, said plainly (the extra or not).
if ! why=$(.venv/bin/python -c 'from model.watermark import Watermarker as W; w = W.available(); print(w or "")'); then
  echo "install.sh: could not check the watermark" >&2
elif [ -n "$why" ]; then
  echo "install.sh: NOTE: audio will NOT be watermarked: $why" >&2
else
  ta=$(.venv/bin/python -c 'from model.watermark import _torchaudio_loads as t; print("torchaudio" if t() else "tomecast'"'"'s torch.stft stand-in for torchaudio")' 2>/dev/null)
  echo "install.sh: Perth watermark available (with $ta)" >&2
fi
