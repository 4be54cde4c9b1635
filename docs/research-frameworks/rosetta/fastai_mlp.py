"""Digits MLP (64-128-10) with fastai: a Learner over DataLoaders of tensors (fastai.data and
fastai.learner only, so torchvision is not needed)."""
import time
from functools import partial

import numpy as np
import torch
from fastai.callback.core import Callback
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.metrics import accuracy
from fastai.optimizer import Adam
from fastai.torch_core import set_seed
from torch import nn
from torch.utils.data import TensorDataset


class EpochTimer(Callback):
    def __init__(self):
        self.seconds = []

    def before_train(self):
        self.start = time.perf_counter()

    def after_train(self):  # the training half of the epoch; validation follows it
        self.seconds.append(time.perf_counter() - self.start)


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    set_seed(seed, reproducible=True)
    train_data = TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train).long())
    test_data = TensorDataset(torch.from_numpy(X_test), torch.from_numpy(y_test).long())
    # from_dsets would drop the last, incomplete training batch, and would load batches in one
    # worker process per CPU; keep every batch and load in this process, like the others.
    dls = DataLoaders.from_dsets(train_data, test_data, bs=64, drop_last=False, num_workers=0, device="cpu")
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    # fastai's Adam defaults differ (sqr_mom=0.99, eps=1e-5, wd=0.01): match torch.optim.Adam's.
    adam = partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.0)
    timer = EpochTimer()
    learn = Learner(dls, model, loss_func=nn.CrossEntropyLoss(), opt_func=adam, metrics=accuracy, cbs=timer)
    with learn.no_logging():
        learn.fit(epochs, lr=1e-3)  # constant rate; fastai's usual fit_one_cycle would change the schedule
        _, test_accuracy = learn.validate()

    model.eval()

    def predict(x):  # learn.model is the torch.nn.Module it trained
        with torch.inference_mode():
            return learn.model(torch.from_numpy(x)).argmax(dim=1).numpy()

    return {"accuracy": float(test_accuracy), "epoch_seconds": timer.seconds, "predict": predict}


if __name__ == "__main__":
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    result = train(X_train, y_train, X_test, y_test, epochs=20, seed=0)
    print(f"test accuracy {result['accuracy']:.3f}")
