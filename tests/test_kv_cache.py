"""The KV-cache calculator: hand-worked formulas, figures published by others, and the data file of
model configurations it is applied to."""

from __future__ import annotations

import pytest

from scripts.notebook_helpers import kv_cache
from scripts.site.datafiles import load_yaml
from scripts.site.datasets import load_schema
from tests.conftest import ROOT

KIB = 1024


def test_bytes_per_token_by_hand():
    # 2 (K and V) x 32 layers x 8 KV heads x 128 dimensions x 2 bytes (bfloat16)
    assert kv_cache.bytes_per_token(32, 8, 128, 2) == 2 * 32 * 8 * 128 * 2 == 128 * KIB


def test_grouped_and_multi_query_attention_divide_the_cache_by_the_group_size():
    mha = kv_cache.bytes_per_token(32, 32, 128, 2)
    assert kv_cache.bytes_per_token(32, 8, 128, 2) == mha / 4    # GQA, groups of 4 query heads
    assert kv_cache.bytes_per_token(32, 1, 128, 2) == mha / 32   # MQA, one key/value head


def test_cache_grows_linearly_with_context_and_batch():
    one = kv_cache.cache_bytes(28, 4, 128, 2, context=1)
    assert kv_cache.cache_bytes(28, 4, 128, 2, context=4096, batch=8) == 4096 * 8 * one


def test_the_vllm_papers_opt_13b_figures():
    # Kwon et al., "Efficient Memory Management for Large Language Model Serving with
    # PagedAttention" (SOSP 2023, arXiv:2309.06180), section 3: for OPT-13B one token's KV cache
    # is 2 x 5120 (hidden size) x 40 (layers) x 2 bytes (FP16) = 800 KB, and a request of 2048
    # tokens can need 1.6 GB. OPT-13B has 40 heads of 128 dimensions (40 x 128 = 5120).
    per_token = kv_cache.bytes_per_token(layers=40, kv_heads=40, head_dim=128, bytes_per_element=2)
    assert per_token == 800 * KIB
    assert kv_cache.cache_bytes(40, 40, 128, 2, context=2048) / 1e9 == pytest.approx(1.6, abs=0.1)


def test_mistral_7b_sliding_window_figures():
    # Mistral 7B's release post: with a window of 4096 the cache of an 8192-token sequence is half
    # the size (https://mistral.ai/news/announcing-mistral-7b); the paper (arXiv:2310.06825,
    # section 2, rolling buffer cache): 8 times smaller at 32k tokens.
    mistral = kv_cache.load_models()["Mistral 7B v0.1"]
    shape = (mistral["layers"], mistral["kv_heads"], mistral["head_dim"], 2)
    for context, factor in ((8192, 2), (32768, 8)):
        full = kv_cache.cache_bytes(*shape, context=context)
        assert full / kv_cache.cache_bytes(*shape, context=context, window=mistral["sliding_window"]) == factor


def test_only_the_windowed_layers_are_capped():
    full = kv_cache.cache_bytes(4, 2, 64, 2, context=1000)
    half = kv_cache.cache_bytes(4, 2, 64, 2, context=1000, window=100, window_layers=2)
    assert half == full / 2 + full / 2 * 100 / 1000
    assert kv_cache.cache_bytes(4, 2, 64, 2, context=50, window=100) == kv_cache.cache_bytes(4, 2, 64, 2, context=50)


def test_paged_blocks_are_whole_blocks():
    token = kv_cache.bytes_per_token(3, 2, 64, 4)  # 3072 bytes
    blocks = kv_cache.paged_blocks(2 ** 30, 128, int(token))
    assert blocks * 128 * token <= 2 ** 30 < (blocks + 1) * 128 * token


@pytest.mark.parametrize("kwargs", [dict(layers=0, kv_heads=8, head_dim=128, bytes_per_element=2),
                                    dict(layers=32, kv_heads=0, head_dim=128, bytes_per_element=2)])
def test_bad_shapes_are_refused(kwargs):
    with pytest.raises(ValueError):
        kv_cache.bytes_per_token(**kwargs)


def test_the_model_file_is_consistent():
    load_schema(ROOT / "docs" / "data" / "kv-cache-models.schema.yaml")
    rows = load_yaml(kv_cache.MODELS)["rows"]
    assert len(rows) >= 3
    for row in rows:
        # Each key/value head serves a whole group of query heads, and the heads tile the width.
        assert row["attention_heads"] % row["kv_heads"] == 0, row["model"]
        assert row["attention_heads"] * row["head_dim"] == row["hidden_size"], row["model"]
    llama = kv_cache.load_models()["Llama 3.1 8B"]
    assert kv_cache.model_cache_bytes(llama, "bfloat16", context=1) == 128 * KIB
    assert kv_cache.model_cache_bytes(llama, "fp8", context=1) == 64 * KIB


def test_the_chart_data_is_what_the_formula_gives():
    committed = load_yaml(kv_cache.OUT)["rows"]
    assert committed == kv_cache.rows(), "run python -m scripts.notebook_helpers.kv_cache"
