"""Digits MLP (64-128-10) in Keras 3. The backend (tensorflow, jax or torch) is chosen by the
KERAS_BACKEND environment variable before keras is first imported; this code does not change."""
import time

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8),  # Keras's default: 1e-7
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    timer = EpochTimer()
    model.fit(X_train, y_train, batch_size=64, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])

    def predict(x):
        # For a batch that fits in memory, calling the model is faster than model.predict().
        logits = model(x, training=False)
        return np.argmax(keras.ops.convert_to_numpy(logits), axis=1)

    accuracy = float(np.mean(predict(X_test) == y_test))
    return {"accuracy": accuracy, "epoch_seconds": timer.seconds, "predict": predict}


if __name__ == "__main__":
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    result = train(X_train, y_train, X_test, y_test, epochs=20, seed=0)
    print(f"backend {keras.backend.backend()}: test accuracy {result['accuracy']:.3f}")
