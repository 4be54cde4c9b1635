# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: inference-serving

# %% [markdown]
# # torch.compile on an NVIDIA GPU: eager, compiled, and CUDA graphs
#
# Two small models with random weights, a convolutional network on 3×32×32 images and a
# four-layer transformer encoder on sequences of 128 tokens of width 256, run in inference mode at
# batch 1 and batch 32 in three ways: eager PyTorch; `torch.compile` with its default mode, in
# which TorchInductor generates Triton kernels; and `mode="reduce-overhead"`, which also captures
# the compiled code into CUDA graphs so that a whole forward pass is replayed with one launch.
# Latencies are medians of CUDA-event timings after warm-up, with the interquartile range;
# compile time is the wall time of the first call, which the recorder starts with empty Inductor
# and Triton caches.

# %%
import statistics
import time
import warnings

import torch
from torch import nn

# Plain float32 throughout, so that every mode does the same arithmetic: Inductor's hint to
# enable TF32 tensor cores is noted here once rather than printed for every compilation.
warnings.filterwarnings("ignore", message="TensorFloat32 tensor cores")
torch.manual_seed(0)
device = torch.cuda.get_device_name(0)
print(device, "| torch", torch.__version__)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def encoder():
    layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False)


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
models = {"small CNN": (SmallCNN, lambda b: torch.randn(b, 3, 32, 32, device="cuda")),
          "transformer encoder": (encoder, lambda b: torch.randn(b, 128, 256, device="cuda"))}
rows = []
with torch.inference_mode():
    for model_name, (build, make_input) in models.items():
        model = build().cuda().eval()
        for batch in (1, 32):
            x = make_input(batch)
            reference = model(x)
            for mode in ("eager", "default", "reduce-overhead"):
                torch._dynamo.reset()
                fn = model if mode == "eager" else torch.compile(model, mode=mode, dynamic=False)
                start = time.perf_counter()
                out = fn(x)
                torch.cuda.synchronize()
                first = time.perf_counter() - start
                diff = (out - reference).abs().max().item()
                t, q1, q3 = time_ms(lambda: fn(x))
                rows.append((model_name, batch, mode, t, q1, q3, first, diff))
                record(benchmark=f"{model_name} inference", implementation=f"torch.compile {mode}" if mode != "eager"
                       else "eager", size=f"batch {batch}", time=t, time_q1=q1, time_q3=q3, device=device)

print(f"{'model':20} {'batch':>5} {'mode':16} {'median ms':>10} {'IQR ms':>15} {'first call s':>12} "
      f"{'speed-up':>8} {'max |diff|':>10}")
eager = {(m, b): t for m, b, mode, t, *_ in rows if mode == "eager"}
for m, b, mode, t, q1, q3, first, diff in rows:
    print(f"{m:20} {b:5} {mode:16} {t:10.3f} {q1:7.3f}-{q3:<7.3f} {first:12.1f} {eager[(m, b)] / t:8.2f} {diff:10.1e}")

# %% [markdown]
# At batch 1 these models are small enough that launching kernels, not computing, dominates; that is
# where capturing CUDA graphs pays. The differences from eager come from fused kernels summing in
# another order (and, in the encoder, from a different attention kernel), and stay at float32
# rounding level. The CPU measurements of the same idea are on the
# [torch.compile page](../../inference-serving/torch-compile/).
