# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: gpu-programming

# %% [markdown]
# # CUDA C on an NVIDIA GPU: vector add and a tiled matrix multiply
#
# The kernels below are CUDA C, compiled with `nvcc` for the GPU they run on, launched from Python
# through `ctypes` on memory that PyTorch allocated, checked against PyTorch (whose matrix product
# calls cuBLAS), and timed with CUDA events. Each timing is the median of repeated launches after
# warm-up, with the interquartile range. The achieved bandwidth and arithmetic rate are compared
# with two ceilings measured on the same GPU in the same run: a large device-to-device copy and a
# large cuBLAS matrix product.

# %%
import ctypes
import statistics
import subprocess

import torch

props = torch.cuda.get_device_properties(0)
print(f"{props.name}: compute capability {props.major}.{props.minor}, {props.multi_processor_count} multiprocessors, "
      f"{props.total_memory / 2**30:.0f} GiB")
print(subprocess.run(["nvcc", "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1])


def time_ms(fn, repeat=30, warmup=5):
    """Median and interquartile range of a GPU operation, timed with CUDA events."""
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
# ## The kernels
#
# `vector_add` gives each thread one element. `matmul_naive` gives each thread one output element
# and reads its row of A and column of B straight from global memory. `matmul_tiled` has each block
# of 32×32 threads stage 32×32 tiles of A and B in shared memory, so that every value loaded from
# global memory is used 32 times; `__syncthreads()` keeps a tile from being overwritten while other
# threads still read it. Host-side launchers return the launch's error code.

# %%
SOURCE = r"""
#include <cuda_runtime.h>
#define TILE 32

extern "C" __global__ void vector_add(const float* a, const float* b, float* c, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" __global__ void matmul_naive(const float* A, const float* B, float* C, int n) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row < n && col < n) {
        float acc = 0.0f;
        for (int k = 0; k < n; ++k) acc += A[row * n + k] * B[k * n + col];
        C[row * n + col] = acc;
    }
}

extern "C" __global__ void matmul_tiled(const float* A, const float* B, float* C, int n) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y;
    int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < n; t += TILE) {
        As[threadIdx.y][threadIdx.x] = (row < n && t + threadIdx.x < n) ? A[row * n + t + threadIdx.x] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = (col < n && t + threadIdx.y < n) ? B[(t + threadIdx.y) * n + col] : 0.0f;
        __syncthreads();
        #pragma unroll
        for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();
    }
    if (row < n && col < n) C[row * n + col] = acc;
}

extern "C" int launch_vector_add(const float* a, const float* b, float* c, long n) {
    int threads = 256;
    long blocks = (n + threads - 1) / threads;
    vector_add<<<(unsigned)blocks, threads>>>(a, b, c, n);
    return (int)cudaGetLastError();
}

extern "C" int launch_matmul(int tiled, const float* A, const float* B, float* C, int n) {
    dim3 threads(TILE, TILE);
    dim3 blocks((n + TILE - 1) / TILE, (n + TILE - 1) / TILE);
    if (tiled) matmul_tiled<<<blocks, threads>>>(A, B, C, n);
    else matmul_naive<<<blocks, threads>>>(A, B, C, n);
    return (int)cudaGetLastError();
}
"""
open("kernels.cu", "w").write(SOURCE)
arch = f"sm_{props.major}{props.minor}"
build = subprocess.run(["nvcc", "-O3", f"-arch={arch}", "-Xptxas", "-v", "-shared", "-Xcompiler", "-fPIC",
                        "-o", "kernels.so", "kernels.cu"], capture_output=True, text=True)
assert build.returncode == 0, build.stderr
print(f"nvcc -O3 -arch={arch}: resource usage reported by ptxas")
for line in build.stderr.splitlines():
    if "Used" in line or "Compiling entry" in line:
        print(" ", line.split("ptxas info    : ")[-1])
lib = ctypes.CDLL("./kernels.so")
lib.launch_vector_add.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_long]
lib.launch_matmul.argtypes = [ctypes.c_int] + [ctypes.c_void_p] * 3 + [ctypes.c_int]

# %% [markdown]
# The inner loop of `matmul_tiled` in the machine code (SASS) that `cuobjdump` disassembles:
# shared-memory loads (`LDS`) feeding fused multiply-adds (`FFMA`), and the barriers (`BAR`).

# %%
sass = subprocess.run(["cuobjdump", "--dump-sass", "--function", "matmul_tiled", "kernels.so"],
                      capture_output=True, text=True).stdout
lines = [l.strip() for l in sass.splitlines() if any(op in l for op in (" LDS", " FFMA", " BAR", " LDG", " STS"))]
print(f"{sum(' FFMA' in l for l in lines)} FFMA, {sum(' LDS' in l for l in lines)} LDS, "
      f"{sum(' LDG' in l for l in lines)} LDG, {sum(' BAR' in l for l in lines)} BAR instructions; the first 16:")
print("\n".join(lines[:16]))

# %% [markdown]
# ## Ceilings measured on this GPU
#
# A device-to-device copy of 1 GiB (bytes read plus bytes written), and a float32 matrix product of
# 8192×8192 matrices through cuBLAS with TF32 switched off, so that it does the same arithmetic as
# the CUDA C kernels.

# %%
torch.backends.cuda.matmul.allow_tf32 = False
src = torch.randn(2**28, device="cuda")
dst = torch.empty_like(src)
copy_ms, q1, q3 = time_ms(lambda: dst.copy_(src))
peak_bw = 2 * src.numel() * 4 / copy_ms / 1e6
record(benchmark="peak: device-to-device copy", implementation="torch copy_", size="1 GiB",
       time=copy_ms, time_q1=q1, time_q3=q3, bandwidth=peak_bw, device=props.name)
A = torch.randn(8192, 8192, device="cuda")
B = torch.randn(8192, 8192, device="cuda")
mm_ms, q1, q3 = time_ms(lambda: torch.matmul(A, B), repeat=10)
peak_flops = 2 * 8192**3 / mm_ms / 1e9
record(benchmark="peak: cuBLAS fp32 matmul", implementation="cuBLAS (torch.matmul)", size="8192",
       time=mm_ms, time_q1=q1, time_q3=q3, throughput=peak_flops, device=props.name)
print(f"copy: {peak_bw:,.0f} GB/s   cuBLAS fp32 (no TF32): {peak_flops:,.1f} TFLOP/s")
del src, dst, A, B

# %% [markdown]
# ## Vector add
#
# 2²⁸ float32 elements: 3 GiB moved per launch (two arrays read, one written). It does one
# addition per 12 bytes, so memory bandwidth bounds it.

# %%
n = 2**28
a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
c = torch.full_like(a, float("nan"))  # poisoned: every element must be written
assert lib.launch_vector_add(a.data_ptr(), b.data_ptr(), c.data_ptr(), n) == 0
torch.cuda.synchronize()
assert torch.equal(c, a + b), "vector_add differs from torch"
t, q1, q3 = time_ms(lambda: lib.launch_vector_add(a.data_ptr(), b.data_ptr(), c.data_ptr(), n))
bw = 3 * n * 4 / t / 1e6
record(benchmark="vector add", implementation="CUDA C vector_add", size="2^28", time=t, time_q1=q1, time_q3=q3,
       bandwidth=bw, device=props.name)
print(f"vector_add: {t:.3f} ms (IQR {q1:.3f}-{q3:.3f}), {bw:,.0f} GB/s = {bw / peak_bw:.0%} of the measured copy rate")
del a, b, c

# %% [markdown]
# ## Matrix multiply
#
# 4096×4096 float32 matrices: 2·4096³ ≈ 137 GFLOP per product. Results are checked against cuBLAS by
# the relative error ‖C − C_ref‖ / ‖C_ref‖.

# %%
n = 4096
A, B = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
ref = torch.matmul(A, B)
results = []
for tiled, name in ((0, "CUDA C naive"), (1, "CUDA C tiled (shared memory)")):
    C = torch.full_like(ref, float("nan"))
    assert lib.launch_matmul(tiled, A.data_ptr(), B.data_ptr(), C.data_ptr(), n) == 0
    torch.cuda.synchronize()
    error = ((C - ref).norm() / ref.norm()).item()
    assert error < 1e-5, f"{name}: relative error {error}"
    t, q1, q3 = time_ms(lambda: lib.launch_matmul(tiled, A.data_ptr(), B.data_ptr(), C.data_ptr(), n), repeat=15)
    results.append((name, t, q1, q3, error))
t, q1, q3 = time_ms(lambda: torch.matmul(A, B), repeat=15)
results.append(("cuBLAS (torch.matmul)", t, q1, q3, 0.0))
print(f"{'kernel':32} {'median ms':>10} {'IQR ms':>15} {'TFLOP/s':>8} {'of cuBLAS peak':>15} {'rel. error':>11}")
for name, t, q1, q3, error in results:
    tflops = 2 * n**3 / t / 1e9
    record(benchmark="fp32 matmul", implementation=name, size=str(n), time=t, time_q1=q1, time_q3=q3,
           throughput=tflops, device=props.name)
    print(f"{name:32} {t:10.2f} {q1:7.2f}-{q3:<7.2f} {tflops:8.1f} {tflops / peak_flops:15.0%} {error:11.1e}")

# %% [markdown]
# Both CUDA C kernels give each thread one output element and add the products in order of k with
# fused multiply-adds, and on this GPU cuBLAS's float32 kernel evidently does the same, so the results
# agree to the last bit (relative error 0). The tiled kernel reuses each loaded value 32 times, which
# is why it outruns the naive one; cuBLAS
# goes further with register tiling, wider loads and pipelined copies, the techniques the
# [NVCC page](../../compilers/nvcc/) and the [CUDA page](../../gpu-programming/cuda/) describe.
