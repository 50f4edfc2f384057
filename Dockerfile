# tomecast worker image: Python 3.11, ffmpeg, torch (CUDA build by default), tomecast with Flower and watermark.
#   docker build -t tomecast .                                   # CUDA 12.4 torch wheels
#   docker build -t tomecast --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cpu .   # CPU only
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cu124
ARG TORCH_VERSION=2.6.0

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg tini espeak-ng libcairo2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# torchaudio of the same release: Perth (the watermark) uses its STFT modules (model/watermark.py)
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX" "torch==$TORCH_VERSION" "torchaudio==$TORCH_VERSION"
COPY pyproject.toml README.md ./
COPY text_prep text_prep
COPY model model
COPY pipeline pipeline
COPY worker worker
COPY qa qa
COPY engines engines
RUN pip install --no-cache-dir ".[flower,watermark,asr]" "torch==$TORCH_VERSION"

RUN useradd --create-home --uid 1000 tomecast && mkdir -p /data /models && chown tomecast /data /models
USER tomecast
ENV TOMECAST_DATA=/data HF_HOME=/models/huggingface PYTHONUNBUFFERED=1
VOLUME ["/data", "/models"]
ENTRYPOINT ["tini", "--"]
CMD ["tomecast", "worker", "--queues", "gpu", "--device", "cuda:0"]
