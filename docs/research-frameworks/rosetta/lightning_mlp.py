"""Digits MLP (64-128-10) in PyTorch Lightning: the loop moves into a Trainer."""
import time

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class DigitsMLP(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_accuracy", (self(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


class EpochTimer(L.Callback):
    def __init__(self):
        self.seconds = []

    def on_train_epoch_start(self, trainer, module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.seconds.append(time.perf_counter() - self.start)


def train(X_train, y_train, X_test, y_test, epochs=20, seed=0):
    L.seed_everything(seed, verbose=False)
    train_data = TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train).long())
    test_data = TensorDataset(torch.from_numpy(X_test), torch.from_numpy(y_test).long())
    model, timer = DigitsMLP(), EpochTimer()
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, callbacks=[timer], logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, DataLoader(train_data, batch_size=64, shuffle=True))
    [scores] = trainer.test(model, DataLoader(test_data, batch_size=len(test_data)), verbose=False)

    model.eval()

    def predict(x):  # the trained LightningModule is a torch.nn.Module
        with torch.inference_mode():
            return model(torch.from_numpy(x)).argmax(dim=1).numpy()

    return {"accuracy": scores["test_accuracy"], "epoch_seconds": timer.seconds, "predict": predict}


if __name__ == "__main__":
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y)
    result = train(X_train, y_train, X_test, y_test, epochs=20, seed=0)
    print(f"test accuracy {result['accuracy']:.3f}")
