# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: inference-serving

# %% [markdown]
# # torch.compile on a GPT-2-small-sized decoder, on an NVIDIA GPU
#
# A decoder the size of GPT-2 small (12 layers, 12 heads, width 768, a vocabulary of 50,257 with
# the output layer tied to the embedding, about 124 million parameters), written here in plain
# PyTorch and built with random weights in bfloat16, runs its forward pass in inference mode in
# every mode of `torch.compile`: eager PyTorch; `default`, in which TorchInductor fuses the
# element-wise work into generated Triton kernels and leaves the matrix multiplies to cuBLAS;
# `reduce-overhead`, which also replays the compiled pass as CUDA graphs; and `max-autotune`,
# which also times Triton matrix-multiply templates against cuBLAS for each shape and keeps the
# fastest, and uses CUDA graphs. Two shapes: one sequence of 128 tokens, where launching kernels
# costs as much as computing, and 8 sequences of 1,024 tokens, which keeps the GPU busy.
#
# Latencies are medians of CUDA-event timings after warm-up, with the interquartile range. Compile
# time is the wall time of the first call: the recorder starts with empty Inductor and Triton
# caches and Inductor's graph cache is off, so every mode compiles its graph; Triton's kernel
# cache stays on, so a later mode can reuse a kernel an earlier one built, as it would on a
# developer's machine. Operations are counted by PyTorch's `FlopCounterMode` on the eager pass.

# %%
import statistics
import time

import torch
import torch._inductor.config
import torch.nn.functional as F
import triton
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

torch._inductor.config.fx_graph_cache = False  # every mode compiles its own graph
torch.manual_seed(0)
device = torch.cuda.get_device_name(0)
print(device, "| torch", torch.__version__, "| triton", triton.__version__)


class Block(nn.Module):
    """Pre-norm attention and MLP, as in GPT-2."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fc, self.out = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(attended)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Decoder(nn.Module):
    def __init__(self, vocab=50257, context=1024, width=768, layers=12, heads=12):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tokens.weight  # tied, as in GPT-2

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


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


model = Decoder().cuda().to(torch.bfloat16).eval()
parameters = sum(p.numel() for p in model.parameters())
print(f"{parameters / 1e6:.1f} million parameters")
assert 123e6 < parameters < 125e6  # GPT-2 small's 124 million

# %% [markdown]
# ## Measurements

# %%
SHAPES = [(8, 1024), (1, 128)]
MODES = ["eager", "default", "reduce-overhead", "max-autotune"]
rows = []
started = time.perf_counter()
with torch.inference_mode():
    for batch, tokens in SHAPES:
        ids = torch.randint(0, 50257, (batch, tokens), device="cuda")
        with FlopCounterMode(display=False) as counter:
            reference = model(ids).float()
        flops = counter.get_total_flops()
        for mode in MODES:
            torch._dynamo.reset()
            fn = model if mode == "eager" else torch.compile(model, mode=mode, dynamic=False)
            start = time.perf_counter()
            out = fn(ids)
            torch.cuda.synchronize()
            first = time.perf_counter() - start
            error = ((out.float() - reference).norm() / reference.norm()).item()
            assert error < 2e-2, (batch, tokens, mode, error)  # bfloat16 rounding, summed in another order
            t, q1, q3 = time_ms(lambda: fn(ids))
            rows.append({"shape": f"{batch} x {tokens}", "mode": mode, "median ms": t, "q1": q1, "q3": q3,
                         "first call s": first, "rel. error": error, "TFLOP/s": flops / t / 1e9})
            record(benchmark="GPT-2-small-sized decoder forward, bf16",
                   implementation="eager" if mode == "eager" else f"torch.compile {mode}",
                   size=f"batch {batch} x {tokens} tokens", time=t, time_q1=q1, time_q3=q3,
                   throughput=flops / t / 1e9, device=device)
            print(f"{batch} x {tokens:5} {mode:16} {t:8.3f} ms  first call {first:6.1f} s  "
                  f"({time.perf_counter() - started:.0f} s so far)", flush=True)

eager = {r["shape"]: r["median ms"] for r in rows if r["mode"] == "eager"}
print(f"\n{'shape':10} {'mode':16} {'median ms':>10} {'IQR ms':>17} {'first call s':>12} {'speed-up':>8} "
      f"{'TFLOP/s':>8} {'rel. error':>10}")
for r in rows:
    print(f"{r['shape']:10} {r['mode']:16} {r['median ms']:10.3f} {r['q1']:8.3f}-{r['q3']:<8.3f} "
          f"{r['first call s']:12.1f} {eager[r['shape']] / r['median ms']:8.2f} {r['TFLOP/s']:8.1f} "
          f"{r['rel. error']:10.1e}")

# %% [markdown]
# Speed-up is eager's median over the mode's. The relative error compares each mode's logits with
# eager's, in float32: fused kernels and other matrix-multiply kernels sum bfloat16 values in
# another order. The toy models of the [torch.compile GPU notebook](../torch-compile-gpu/) were
# recorded the same way.
