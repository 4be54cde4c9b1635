"""Digits MLP (64-128-10) in MLX: lazy arrays, a compiled training step, explicit mx.eval."""
import time
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
import numpy as np


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 128)
        self.out = nn.Linear(128, 10)

    def __call__(self, x):
        return self.out(nn.relu(self.hidden(x)))


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    mx.random.seed(seed)
    model = MLP()
    optimizer = optim.Adam(learning_rate=1e-3, bias_correction=True)  # MLX's default is False
    X, y = mx.array(X_train), mx.array(y_train.astype("int32"))

    def loss_fn(model, x, y):
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    loss_and_grad = nn.value_and_grad(model, loss_fn)
    state = [model.state, optimizer.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def train_step(x, y):
        loss, grads = loss_and_grad(model, x, y)
        optimizer.update(model, grads)
        return loss

    epoch_seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = mx.random.permutation(len(X_train))
        for i in range(0, len(X_train), 64):
            batch = order[i:i + 64]
            train_step(X[batch], y[batch])
            mx.eval(state)  # nothing has been computed until here: MLX is lazy
        epoch_seconds.append(time.perf_counter() - start)

    def predict(x):
        return np.array(mx.argmax(model(mx.array(x)), axis=1))

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
