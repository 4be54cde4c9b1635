"""Digits MLP (64-128-10) in TensorFlow: tf.Variables, tf.data, GradientTape inside a tf.function."""
import time

import numpy as np
import tensorflow as tf


class MLP(tf.Module):
    def __init__(self, seed):
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        self.w1 = tf.Variable(init((64, 128)))
        self.b1 = tf.Variable(tf.zeros(128))
        self.w2 = tf.Variable(init((128, 10)))
        self.b2 = tf.Variable(tf.zeros(10))

    def __call__(self, x):
        return tf.nn.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    tf.random.set_seed(seed)
    model = MLP(seed)
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8)  # TF 2's optimizers are Keras's
    data = (tf.data.Dataset.from_tensor_slices((X_train, y_train.astype("int64")))
            .shuffle(len(X_train), seed=seed).batch(64))

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    epoch_seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for xb, yb in data:
            train_step(xb, yb)
        epoch_seconds.append(time.perf_counter() - start)

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32)])
    def classify(x):
        return tf.argmax(model(x), axis=1)

    def predict(x):
        return classify(x).numpy()

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
