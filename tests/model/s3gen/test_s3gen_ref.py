"""S3GenRef: the official ref_dict layout in and out, device moves, never mutated by synthesis."""

import torch

from model.s3gen import S3Gen, S3GenRef
from model.testing.s3gen_checkpoint import s3gen_state_dict


def _official_dict():
    g = torch.Generator().manual_seed(0)
    return {"prompt_token": torch.randint(0, 6561, (1, 8), generator=g), "prompt_token_len": torch.tensor([8]),
            "prompt_feat": torch.randn(1, 16, 80, generator=g), "prompt_feat_len": None,
            "embedding": torch.randn(1, 192, generator=g)}


def test_from_and_to_official_dict():
    d = _official_dict()
    ref = S3GenRef.from_dict(d)
    assert ref.n_prompt_tokens == 8 and ref.n_prompt_frames == 16
    back = ref.to_dict()
    assert set(back) == set(d) and back["prompt_feat_len"] is None
    assert all(torch.equal(back[k], d[k]) for k in d if d[k] is not None)
    flat = S3GenRef.from_dict({**d, "prompt_token": d["prompt_token"][0], "prompt_token_len": None,
                               "prompt_feat": d["prompt_feat"][0], "embedding": d["embedding"][0]})
    assert flat.prompt_token.shape == (1, 8) and flat.prompt_feat.shape == (1, 16, 80)
    assert flat.embedding.shape == (1, 192) and int(flat.prompt_token_len) == 8
    assert ref.to("cpu").prompt_feat.device.type == "cpu"


def test_synthesis_with_whole_file_state_dict_leaves_the_ref_untouched():
    model = S3Gen.from_state_dict(s3gen_state_dict("tiny", seed=5))     # includes tokenizer.* / speaker_encoder.*
    d = _official_dict()
    ref = S3GenRef.from_dict(d)
    before = {k: v.clone() for k, v in ref.to_dict().items() if v is not None}
    model.synthesize([torch.arange(4)], ref, generators=[torch.Generator().manual_seed(0)])
    after = ref.to_dict()
    assert all(torch.equal(before[k], after[k]) and before[k].dtype == after[k].dtype for k in before)
