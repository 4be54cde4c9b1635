# Recipe for scripts/gpu/record.py; the notebook belongs to this part of the guide:
# part: compilers

# %% [markdown]
# # XLA on an NVIDIA GPU: JAX jit versus op-by-op execution
#
# The same function run by JAX eagerly, one operation (and at least one kernel) at a time, and
# compiled whole with `jax.jit`, which lets XLA fuse the element-wise work and the reduction into
# few kernels. The optimised HLO shows the fusions. Times are medians of wall-clock timings around
# `block_until_ready()` after warm-up, with the interquartile range.

# %%
import re
import statistics
import time

import jax
import jax.numpy as jnp

print(jax.devices()[0].device_kind, "| jax", jax.__version__)


def f(x):
    y = jnp.tanh(x) * jnp.exp(-x * x) + 0.5 * x
    return jnp.sum(y * y, axis=-1) / x.shape[-1]


def time_ms(fn, repeat=50, warmup=5):
    for _ in range(warmup):
        fn().block_until_ready()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn().block_until_ready()
        samples.append((time.perf_counter() - start) * 1e3)
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return statistics.median(samples), q1, q3

# %% [markdown]
# ## The optimised HLO

# %%
x = jax.random.normal(jax.random.key(0), (8192, 8192), dtype=jnp.float32)
jitted = jax.jit(f)
compiled = jitted.lower(x).compile()
hlo = compiled.as_text()
fusions = re.findall(r"^\s*(?:ROOT )?\S+ = \S+ fusion\(", hlo, flags=re.MULTILINE)
print(f"{len(fusions)} fusion instruction(s) in the optimised module; its entry computation:")
entry = hlo[hlo.index("ENTRY"):]
print(entry[:1500])

# %% [markdown]
# ## Timing

# %%
with jax.disable_jit():
    eager_out = f(x)
jit_out = jitted(x)
print("largest difference, jit against op-by-op:", float(jnp.max(jnp.abs(jit_out - eager_out))))
device = jax.devices()[0].device_kind
print(f"{'execution':14} {'median ms':>10} {'IQR ms':>15}")
results = {}
for name, fn in (("op-by-op", lambda: f(x)), ("jax.jit", lambda: jitted(x))):
    if name == "op-by-op":
        with jax.disable_jit():
            t, q1, q3 = time_ms(fn, repeat=20)
    else:
        t, q1, q3 = time_ms(fn)
    results[name] = t
    record(benchmark="element-wise chain + reduction, 8192x8192 fp32", implementation=name, size="8192x8192",
           time=t, time_q1=q1, time_q3=q3, device=device)
    print(f"{name:14} {t:10.3f} {q1:7.3f}-{q3:<7.3f}")
print(f"speed-up of jit: {results['op-by-op'] / results['jax.jit']:.1f}x")
