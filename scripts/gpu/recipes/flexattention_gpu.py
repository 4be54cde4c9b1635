# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: kernels-profiling

# %% [markdown]
# # FlexAttention against PyTorch's fused attention, on an NVIDIA GPU
#
# The [FlexAttention notebook](../flexattention/) runs FlexAttention on a CPU, where it checks the
# arithmetic but cannot say anything about speed. This recording times it where it is meant to
# run: attention over 4 sequences of 4,096 tokens, 16 heads of width 64, in bfloat16, with two
# masks. For a **causal** mask it is compared with `scaled_dot_product_attention` restricted to its
# FlashAttention backend, the hand-written kernel PyTorch ships. For a **sliding window** (each
# token sees itself and the 511 tokens before it), a mask FlashAttention's `is_causal` cannot
# express, it is compared with `scaled_dot_product_attention` given the mask as a dense boolean
# tensor, which is how such a mask reaches PyTorch's fused kernels without FlexAttention.
#
# Every result is checked against attention computed in float32 from the same inputs. Times are
# medians of CUDA-event timings after warm-up, with the interquartile range; the arithmetic rate
# counts the two matrix products over the query–key pairs the mask keeps (4 × width operations
# per pair), so a kernel that skips masked blocks is not credited with work it did not do.

# %%
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

torch.manual_seed(0)
device = torch.cuda.get_device_name(0)
print(device, "| torch", torch.__version__)

BATCH, HEADS, TOKENS, WIDTH, WINDOW = 4, 16, 4096, 64, 512
q, k, v = (torch.randn(BATCH, HEADS, TOKENS, WIDTH, device="cuda", dtype=torch.bfloat16) for _ in range(3))


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def window_of(size):
    # A closure, not a global: compiled code guards on the globals it reads, and this recipe's
    # globals are not a module's.
    def sliding_window(b, h, q_idx, kv_idx):
        return (q_idx >= kv_idx) & (q_idx - kv_idx < size)
    return sliding_window


sliding_window = window_of(WINDOW)


positions = torch.arange(TOKENS, device="cuda")
dense = {name: fn(0, 0, positions[:, None], positions[None, :]) for name, fn in
         (("causal", causal), ("sliding window", sliding_window))}
blocks = {name: create_block_mask(fn, None, None, TOKENS, TOKENS) for name, fn in
          (("causal", causal), ("sliding window", sliding_window))}
for name, block_mask in blocks.items():
    print(f"{name:15} pairs kept {dense[name].float().mean().item():6.1%}   {block_mask}".splitlines()[0])


def reference(mask):
    scores = (q.float() @ k.float().transpose(-1, -2)) / WIDTH ** 0.5
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v.float()


def time_ms(fn, repeat=50, warmup=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return statistics.median(samples), q1, q3

# %% [markdown]
# ## Measurements

# %%
flex = torch.compile(flex_attention, dynamic=False)


def flash_causal():
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


VARIANTS = {
    "causal": {"SDPA, FlashAttention backend": flash_causal,
               "FlexAttention": lambda: flex(q, k, v, block_mask=blocks["causal"])},
    "sliding window": {"SDPA with a dense boolean mask":
                       lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=dense["sliding window"]),
                       "FlexAttention": lambda: flex(q, k, v, block_mask=blocks["sliding window"])},
}
rows = []
for mask_name, variants in VARIANTS.items():
    expected = reference(dense[mask_name])
    pairs = dense[mask_name].sum().item() * BATCH * HEADS
    for name, fn in variants.items():
        start = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        first = time.perf_counter() - start
        error = ((out.float() - expected).norm() / expected.norm()).item()
        assert error < 1e-2, (mask_name, name, error)  # bfloat16 inputs and outputs
        t, q1, q3 = time_ms(fn)
        rate = 4 * WIDTH * pairs / t / 1e9
        rows.append((mask_name, name, t, q1, q3, first, rate, error))
        record(benchmark=f"attention, bf16, {BATCH} x {HEADS} heads x {TOKENS} tokens x {WIDTH}",
               implementation=name, size=mask_name, time=t, time_q1=q1, time_q3=q3, throughput=rate, device=device)

print(f"{'mask':15} {'implementation':32} {'median ms':>10} {'IQR ms':>15} {'first call s':>12} "
      f"{'TFLOP/s':>8} {'rel. error':>10}")
for mask_name, name, t, q1, q3, first, rate, error in rows:
    print(f"{mask_name:15} {name:32} {t:10.3f} {q1:7.3f}-{q3:<7.3f} {first:12.1f} {rate:8.1f} {error:10.1e}")

# %% [markdown]
# The first call of each FlexAttention variant includes compiling its kernel with
# `torch.compile`; the block masks are built once, before timing, as PyTorch's authors advise.
# The CPU notebook explains the block mask itself: the sliding window's mask lets the kernel
# skip every tile of scores that lies entirely outside the window.
