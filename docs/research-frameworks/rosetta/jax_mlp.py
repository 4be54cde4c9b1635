"""Digits MLP (64-128-10) in JAX with a Flax NNX model and an Optax optimiser."""
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.hidden = nnx.Linear(64, 128, rngs=rngs)
        self.out = nnx.Linear(128, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x)))


@nnx.jit
def train_step(model, optimizer, x, y):
    def loss_fn(model):
        return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def classify(model, x):
    return jnp.argmax(model(x), axis=1)


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    key = jax.random.key(seed)
    key, init_key = jax.random.split(key)
    model = MLP(nnx.Rngs(init_key))
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    X, y = jnp.asarray(X_train), jnp.asarray(y_train, dtype=jnp.int32)

    epoch_seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        key, shuffle_key = jax.random.split(key)
        order = jax.random.permutation(shuffle_key, len(X))
        for i in range(0, len(X), 64):
            batch = order[i:i + 64]
            loss = train_step(model, optimizer, X[batch], y[batch])
        loss.block_until_ready()  # JAX dispatches asynchronously: wait before reading the clock
        epoch_seconds.append(time.perf_counter() - start)

    def predict(x):
        return np.asarray(classify(model, x))

    accuracy = float(np.mean(predict(X_test) == y_test))
    return {"accuracy": accuracy, "epoch_seconds": epoch_seconds, "predict": predict}


if __name__ == "__main__":
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    result = train(X_train, y_train, X_test, y_test, epochs=20, seed=0)
    print(f"test accuracy {result['accuracy']:.3f}")
