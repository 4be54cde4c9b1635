# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: quantisation-finetuning

# %% [markdown]
# # One matrix multiply in five number formats, on an NVIDIA GPU
#
# The [torch.amp notebook](../torch-amp/) computes each number format's range and rounding on a
# CPU, which has no fast units for most of them. This recording multiplies the same two
# 8192 × 8192 matrices on a GPU in float32, in float32 with TF32 matrix units, in float16, in
# bfloat16, and in FP8 E4M3 through `torch._scaled_mm` with one scale per row of the first
# matrix and per column of the second. Each result is compared with the float64 product of the
# same inputs, and each rate with the others measured in the same run. Times are medians of
# CUDA-event timings after warm-up, with the interquartile range; 2 × 8192³ operations per
# multiply.

# %%
import statistics

import torch

torch.manual_seed(0)
device = torch.cuda.get_device_name(0)
print(device, "| torch", torch.__version__, "| compute capability", torch.cuda.get_device_capability(0))

N = 8192
a = torch.randn(N, N, device="cuda")
b = torch.randn(N, N, device="cuda")
exact = (a.double() @ b.double())


def time_ms(fn, repeat=30, warmup=5):
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


def fp8_rowwise(x, transpose=False):
    """E4M3 values and the float32 scales that map each row (or column) onto E4M3's range."""
    amax = x.abs().amax(dim=0 if transpose else 1, keepdim=True).clamp(min=1e-12)
    scale = amax / torch.finfo(torch.float8_e4m3fn).max
    return (x / scale).to(torch.float8_e4m3fn), scale.float()


qa, sa = fp8_rowwise(a)
qb, sb = fp8_rowwise(b, transpose=True)
qb = qb.t().contiguous().t()  # _scaled_mm wants its second operand column-major

# %% [markdown]
# ## Measurements

# %%
a16, b16 = a.half(), b.half()
abf, bbf = a.bfloat16(), b.bfloat16()


def tf32():
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        return a @ b
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False


torch.backends.cuda.matmul.allow_tf32 = False
VARIANTS = {
    "float32": lambda: a @ b,
    "TF32 (float32 in, float32 out)": tf32,
    "float16": lambda: a16 @ b16,
    "bfloat16": lambda: abf @ bbf,
    "FP8 E4M3, row and column scales": lambda: torch._scaled_mm(qa, qb, scale_a=sa, scale_b=sb,
                                                               out_dtype=torch.bfloat16),
}
rows = []
for name, fn in VARIANTS.items():
    out = fn().double()
    error = ((out - exact).norm() / exact.norm()).item()
    t, q1, q3 = time_ms(fn)
    rate = 2 * N ** 3 / t / 1e9
    rows.append((name, t, q1, q3, rate, error))
    record(benchmark="matrix multiply 8192, number formats", implementation=name, size="8192", time=t,
           time_q1=q1, time_q3=q3, throughput=rate, device=device)

errors = {name: error for name, *_, error in rows}
assert errors["float32"] < 1e-5 < errors["TF32 (float32 in, float32 out)"] < 1e-2
assert errors["float16"] < errors["bfloat16"] < errors["FP8 E4M3, row and column scales"] < 1e-1
float32 = rows[0][1]
print(f"{'format':34} {'median ms':>10} {'IQR ms':>15} {'TFLOP/s':>8} {'vs float32':>10} {'rel. error':>10}")
for name, t, q1, q3, rate, error in rows:
    print(f"{name:34} {t:10.3f} {q1:7.3f}-{q3:<7.3f} {rate:8.1f} {float32 / t:9.1f}x {error:10.1e}")

# %% [markdown]
# The relative error is ‖result − exact‖ / ‖exact‖ against the float64 product of the float32
# inputs, so it includes rounding the inputs to the format as well as the multiply's own
# rounding. The matrix units run the 16-bit and 8-bit formats, and TF32, at rates plain float32
# arithmetic cannot reach; the [roofline chapter](../../kernels-profiling/roofline/) explains why
# such rates matter only to kernels with enough operations per byte.
