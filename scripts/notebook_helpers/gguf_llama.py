"""Write a Transformers Llama to a float32 GGUF file that llama.cpp runs.

``write_llama_gguf`` writes the architecture's metadata and tensors and lets the caller add the
vocabulary: the llama.cpp notebook (notebooks/llama-cpp.ipynb) adds a SentencePiece-style one it
builds itself; ``write_gguf`` converts a saved checkpoint whose tokenizer.json is byte-level BPE,
with the same vocabulary, merges and pre-tokenisation, so that llama.cpp and Transformers see the
same token ids for the same text (the serving benchmark, scripts/bench/serving.py, serves one
model with every engine that way). Runs in the llamacpp environment (requirements/llamacpp.in).

Tensor names follow llama.cpp's LLM_ARCH_LLAMA (src/llama-arch.cpp). The query and key projections
are permuted: Transformers' rotary embedding rotates the two halves of each head, llama.cpp's rotates
adjacent pairs, so each head's rows are interleaved (the same permutation llama.cpp's own converter,
convert_hf_to_gguf.py, applies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


def permute_rope(w, heads: int):
    """Each head's rows (first half a, second half b) become interleaved a0, b0, a1, b1, ..."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama_tensors(state: dict, config, permute: bool = True) -> dict:
    """GGUF tensor name -> float32 array, from a LlamaForCausalLM state dict of NumPy arrays.
    ``permute=False`` leaves out the rotary permutation (to show what it is for)."""
    def rope(w, heads):
        return permute_rope(w, heads) if permute else w
    out = {"token_embd.weight": state["model.embed_tokens.weight"]}
    for i in range(config.num_hidden_layers):
        p = f"model.layers.{i}."
        out |= {
            f"blk.{i}.attn_norm.weight": state[p + "input_layernorm.weight"],
            f"blk.{i}.attn_q.weight": rope(state[p + "self_attn.q_proj.weight"], config.num_attention_heads),
            f"blk.{i}.attn_k.weight": rope(state[p + "self_attn.k_proj.weight"], config.num_key_value_heads),
            f"blk.{i}.attn_v.weight": state[p + "self_attn.v_proj.weight"],
            f"blk.{i}.attn_output.weight": state[p + "self_attn.o_proj.weight"],
            f"blk.{i}.ffn_norm.weight": state[p + "post_attention_layernorm.weight"],
            f"blk.{i}.ffn_gate.weight": state[p + "mlp.gate_proj.weight"],
            f"blk.{i}.ffn_up.weight": state[p + "mlp.up_proj.weight"],
            f"blk.{i}.ffn_down.weight": state[p + "mlp.down_proj.weight"],
        }
    out |= {"output_norm.weight": state["model.norm.weight"], "output.weight": state["lm_head.weight"]}
    return out


def write_llama_gguf(path: Path, config, tensors: dict, add_vocabulary: Callable) -> None:
    """A float32 GGUF file of a Llama: the hyperparameters from ``config``, the tokenizer from
    ``add_vocabulary(writer)``, then the tensors."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_rope_dimension_count(config.head_dim)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    add_vocabulary(writer)
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_gguf(model_dir: Path, path: Path) -> None:
    """The checkpoint saved in ``model_dir`` (byte-level BPE tokenizer) as a float32 GGUF file."""
    import gguf
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig.from_pretrained(model_dir)
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    tokenizer = json.loads((Path(model_dir) / "tokenizer.json").read_text())
    if tokenizer["model"]["type"] != "BPE" or tokenizer["pre_tokenizer"]["type"] != "ByteLevel":
        raise SystemExit(f"{model_dir}/tokenizer.json: only byte-level BPE tokenizers are written, "
                         f"not {tokenizer['model']['type']} with {tokenizer['pre_tokenizer']['type']}")
    vocab = tokenizer["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(config.vocab_size)):
        raise SystemExit(f"{model_dir}/tokenizer.json: token ids are not 0..{config.vocab_size - 1}")
    special = {t["content"] for t in tokenizer["added_tokens"] if t["special"]}
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]

    def add_vocabulary(writer):
        # "gpt2" with pre-tokeniser "gpt-2": byte-level BPE split by GPT-2's regular expression,
        # which is what the ByteLevel pre-tokenizer of tokenizers does by default.
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_token_list(tokens)
        writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL
                                for t in tokens])
        writer.add_token_merges(merges)
        writer.add_bos_token_id(config.bos_token_id)
        writer.add_eos_token_id(config.eos_token_id)
        writer.add_add_bos_token(False)  # Transformers' tokenizer here adds no BOS either
    write_llama_gguf(path, config, llama_tensors(state, config), add_vocabulary)
