"""Loading s3gen checkpoints: config from shapes, strict keys and shapes, both weight-norm spellings, voice split."""

from pathlib import Path

import pytest
import torch

from model.errors import CheckpointError, KeyMismatchError, ModelError
from model.s3gen import S3Gen, S3GenConfig, S3GenRef, S3GenRuntime, load_s3gen, split_s3gen_state_dict
from model.s3gen.load import canonical_weight_norm_key
from model.testing.s3gen_checkpoint import s3gen_config, s3gen_shapes, s3gen_state_dict, write_s3gen_file


@pytest.mark.parametrize("preset", ["tiny", "full"])
def test_config_is_read_back_from_the_shapes(preset):
    for meanflow in (False, True):
        cfg = s3gen_config(preset, meanflow)
        with torch.device("meta"):
            sd = S3Gen(cfg).state_dict()
        assert S3GenConfig.from_state_dict(sd) == cfg


KEYS_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "chatterbox-state-dict-keys.txt"


@pytest.mark.parametrize(("section", "meanflow"), [("S3Gen (s3gen", False), ("S3Gen meanflow", True)])
def test_full_key_set_matches_the_official_listing(section, meanflow):
    if not KEYS_FILE.is_file():
        pytest.skip(f"official key listing not found at {KEYS_FILE}")
    text = KEYS_FILE.read_text().split("##### " + section)[1].split("#####")[0]
    official = {}
    for line in text.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].startswith(("flow.", "mel2wav.")):
            official[parts[0]] = tuple(int(x) for x in parts[1].strip("()").split(",") if x.strip())
    ours = s3gen_shapes(s3gen_config("full", meanflow))
    assert ours == official
    n = sum(torch.Size(s).numel() for s in ours.values())
    assert abs(n - (112.5e6 + 20.8e6 + (2.1e6 if meanflow else 0))) < 0.2e6   # flow + mel2wav (spec §3.2)


def _ref():
    g = torch.Generator().manual_seed(0)
    return S3GenRef(torch.randint(0, 6561, (1, 6), generator=g), torch.tensor([6]), torch.randn(1, 12, 80, generator=g),
                    None, torch.randn(1, 192, generator=g))


def test_written_file_loads_and_every_key_has_one_owner(tmp_path):
    path = write_s3gen_file(tmp_path, "tiny", seed=1)
    from safetensors.torch import load_file
    raw = load_file(str(path))
    parts = split_s3gen_state_dict(raw)
    assert sum(len(p) for p in parts.values()) == len(raw)
    assert parts["tokenizer"] and parts["speaker_encoder"]
    assert not any(k.startswith(("tokenizer.", "speaker_encoder.")) for k in parts["s3gen"])
    model, voice = load_s3gen(path)
    assert model.cfg == S3GenConfig.from_name("tiny")
    assert set(voice) == {"tokenizer", "speaker_encoder"}
    wav = model.synthesize([torch.arange(5)], _ref(), generators=[torch.Generator().manual_seed(0)])[0]
    assert wav.shape == (4800,)


def test_legacy_weight_norm_and_pt_files_load_the_same_weights(tmp_path):
    paths = [write_s3gen_file(tmp_path / "a", "tiny", seed=2),
             write_s3gen_file(tmp_path / "b", "tiny", seed=2, legacy_weight_norm=True),
             write_s3gen_file(tmp_path / "c", "tiny", seed=2, name="s3gen.pt")]
    sds = [load_s3gen(p)[0].state_dict() for p in paths]
    assert "mel2wav.conv_pre.weight" in sds[0]           # weight norm folded into plain weights
    for other in sds[1:]:
        assert sds[0].keys() == other.keys()
        assert all(torch.equal(sds[0][k], other[k]) for k in sds[0])
    assert canonical_weight_norm_key("mel2wav.ups.0.weight_g") == "mel2wav.ups.0.parametrizations.weight.original0"


def test_strictness_names_the_offending_key():
    sd = s3gen_state_dict("tiny", voice=False)
    missing = dict(sd)
    del missing["flow.encoder.after_norm.bias"]
    with pytest.raises(KeyMismatchError, match="after_norm.bias"):
        S3Gen.from_state_dict(missing)
    extra = dict(sd, **{"flow.something_else.weight": torch.zeros(3)})
    with pytest.raises(KeyMismatchError, match="something_else"):
        S3Gen.from_state_dict(extra)
    bad = dict(sd)
    bad["flow.encoder_proj.bias"] = torch.zeros(81)
    with pytest.raises(KeyMismatchError, match="encoder_proj.bias"):
        S3Gen.from_state_dict(bad)
    with pytest.raises(CheckpointError, match="input_embedding"):
        S3Gen.from_state_dict({k: v for k, v in sd.items() if "input_embedding" not in k})


def test_unreadable_file_is_a_checkpoint_error(tmp_path):
    p = tmp_path / "s3gen.safetensors"
    p.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(CheckpointError):
        load_s3gen(p)


def test_bfloat16_flow_runs_and_stays_close():
    sd = s3gen_state_dict("tiny", seed=4, voice=False)
    ref = _ref()
    m32 = S3Gen.from_state_dict(sd)
    m16 = S3Gen.from_state_dict(sd, runtime=S3GenRuntime(compute_dtype=torch.bfloat16))
    assert m32.runtime == S3GenRuntime() and m16.runtime.compute_dtype == torch.bfloat16
    assert m16.flow.input_embedding.weight.dtype == torch.float32     # weights stay fp32: autocast computes
    assert m16.mel2wav.conv_pre.weight.dtype == torch.float32
    a = m32.tokens_to_mels([torch.arange(9)], ref, generators=[torch.Generator().manual_seed(0)])[0]
    b = m16.tokens_to_mels([torch.arange(9)], ref, generators=[torch.Generator().manual_seed(0)])[0]
    assert b.dtype == torch.float32 and torch.isfinite(b).all()
    assert (a - b).abs().mean() < 0.1 * a.abs().mean()


def test_a_bare_dtype_and_none_choose_the_runtime():
    sd = s3gen_state_dict("tiny", seed=4, voice=False)
    assert S3Gen.from_state_dict(sd, "cpu", torch.bfloat16).runtime == S3GenRuntime(compute_dtype=torch.bfloat16)
    assert S3Gen.from_state_dict(sd, "cpu", None).runtime == S3GenRuntime.for_device("cpu") == S3GenRuntime()
    cuda_rt = S3GenRuntime.for_device("cuda")
    assert cuda_rt.compute_dtype == torch.bfloat16 and cuda_rt.vocoder_dtype == torch.float32 and cuda_rt.cuda_graphs
    assert cuda_rt.fused_vocoder and not S3GenRuntime.for_device("cpu").fused_vocoder


def test_cuda_only_settings_on_cpu_are_model_errors():
    m = S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=4, voice=False))
    with pytest.raises(ModelError, match="CUDA"):
        m.use(S3GenRuntime(cuda_graphs=True))
    with pytest.raises(ModelError, match="CUDA"):
        m.use(S3GenRuntime(compile=True))
    with pytest.raises(ModelError, match="CUDA"):
        m.use(S3GenRuntime(fused_vocoder=True))
    with pytest.raises(ModelError, match="float32, bfloat16 or float16"):
        m.use(S3GenRuntime(compute_dtype=torch.float64))
    assert m.runtime == S3GenRuntime()
