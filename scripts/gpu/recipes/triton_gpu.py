# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: inference-serving

# %% [markdown]
# # Triton on an NVIDIA GPU: fused softmax and matrix multiply
#
# The same Triton language as in the [interpreter notebook](../triton/), compiled for a real GPU.
# A row-wise softmax fused into one kernel is compared with PyTorch's softmax and with the same
# computation as separate PyTorch operations; a blocked matrix multiply using `tl.dot` is compared
# with cuBLAS. Times are medians from `triton.testing.do_bench` (CUDA events), with the
# interquartile range.

# %%
import torch
import triton
import triton.language as tl
from triton.testing import do_bench

print(torch.cuda.get_device_name(0), "| triton", triton.__version__, "| torch", torch.__version__)


def bench(fn):
    median, q1, q3 = do_bench(fn, warmup=50, rep=300, quantiles=[0.5, 0.25, 0.75])
    return median, q1, q3

# %% [markdown]
# ## Fused softmax
#
# One program per row: the row is loaded once, its maximum subtracted, exponentiated, normalised and
# stored, all in registers. The unfused version makes five passes over memory.

# %%
@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_stride, out_stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    num = tl.exp(x)
    tl.store(out_ptr + row * out_stride + cols, num / tl.sum(num, axis=0), mask=mask)


def softmax(x):
    rows, cols = x.shape
    out = torch.empty_like(x)
    block = triton.next_power_of_2(cols)
    softmax_kernel[(rows,)](out, x, x.stride(0), out.stride(0), cols, BLOCK=block,
                            num_warps=8 if block >= 2048 else 4)
    return out


def unfused(x):
    m = x.max(dim=1, keepdim=True).values
    e = torch.exp(x - m)
    return e / e.sum(dim=1, keepdim=True)


torch.manual_seed(0)
x = torch.randn(16384, 4096, device="cuda")
assert torch.allclose(softmax(x), torch.softmax(x, dim=1), atol=1e-6, rtol=1e-5)
moved = 2 * x.numel() * 4  # read once, write once
print(f"{'implementation':28} {'median ms':>10} {'IQR ms':>15} {'GB/s':>8}")
for name, fn in (("Triton fused kernel", lambda: softmax(x)), ("torch.softmax", lambda: torch.softmax(x, dim=1)),
                 ("separate torch operations", lambda: unfused(x))):
    t, q1, q3 = bench(fn)
    record(benchmark="softmax 16384x4096 fp32", implementation=name, size="16384x4096", time=t, time_q1=q1,
           time_q3=q3, bandwidth=moved / t / 1e6, device=torch.cuda.get_device_name(0))
    print(f"{name:28} {t:10.3f} {q1:7.3f}-{q3:<7.3f} {moved / t / 1e6:8.0f}")

# %% [markdown]
# GB/s counts the bytes a single pass must move (read the input once, write the output once), so
# the separate operations, which move more, show a lower effective rate.
#
# ## Matrix multiply with `tl.dot`
#
# Each program computes one 128×128 block of C, walking along K in steps of 64; `tl.dot` maps onto
# the GPU's tensor cores. Inputs are float16 with float32 accumulation.

# %%
@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
                  BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, GROUP: tl.constexpr):
    pid = tl.program_id(0)
    num_m, num_n = tl.cdiv(M, BM), tl.cdiv(N, BN)
    group = pid // (GROUP * num_n)  # neighbouring programs share rows of A: better L2 reuse
    first_m = group * GROUP
    size_m = min(num_m - first_m, GROUP)
    pid_m = first_m + (pid % (GROUP * num_n)) % size_m
    pid_n = (pid % (GROUP * num_n)) // size_m
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a = a_ptr + rm[:, None] * sam + rk[None, :] * sak
    b = b_ptr + rk[:, None] * sbk + rn[None, :] * sbn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        a_tile = tl.load(a, mask=(rm[:, None] < M) & (rk[None, :] < K - k * BK), other=0.0)
        b_tile = tl.load(b, mask=(rk[:, None] < K - k * BK) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a_tile, b_tile, acc)
        a += BK * sak
        b += BK * sbk
    c = c_ptr + rm[:, None] * scm + rn[None, :] * scn
    tl.store(c, acc.to(tl.float16), mask=(rm[:, None] < M) & (rn[None, :] < N))


def matmul(a, b):
    M, K = a.shape
    _, N = b.shape
    c = torch.empty((M, N), device=a.device, dtype=torch.float16)
    grid = (triton.cdiv(M, 128) * triton.cdiv(N, 128),)
    matmul_kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                        c.stride(0), c.stride(1), BM=128, BN=128, BK=64, GROUP=8, num_warps=8, num_stages=3)
    return c


n = 8192
a = torch.randn(n, n, device="cuda", dtype=torch.float16)
b = torch.randn(n, n, device="cuda", dtype=torch.float16)
ref = a.float() @ b.float()
error = ((matmul(a, b).float() - ref).norm() / ref.norm()).item()
assert error < 1e-2, error
print(f"relative error against a float32 product: Triton {error:.1e}, "
      f"cuBLAS {((a @ b).float() - ref).norm().item() / ref.norm().item():.1e}")
print(f"{'implementation':28} {'median ms':>10} {'IQR ms':>15} {'TFLOP/s':>8}")
for name, fn in (("Triton tl.dot kernel", lambda: matmul(a, b)), ("cuBLAS (torch.matmul)", lambda: a @ b)):
    t, q1, q3 = bench(fn)
    record(benchmark="fp16 matmul 8192", implementation=name, size="8192", time=t, time_q1=q1, time_q3=q3,
           throughput=2 * n**3 / t / 1e9, device=torch.cuda.get_device_name(0))
    print(f"{name:28} {t:10.3f} {q1:7.3f}-{q3:<7.3f} {2 * n**3 / t / 1e9:8.0f}")
