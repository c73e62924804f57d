"""A small ML notebook: logistic regression from scratch in numpy, with curves, a plot and a sweep.

Covers: ``%matplotlib inline``, seeded data generation, a class/function definition cell, a ``%%time``
training loop printing progress and logging curves through ``nbtrack.log`` (only when tracked), a float
as last expression, a DataFrame (HTML repr), an inline PNG figure from a cell ending with ``;``, stderr
plus a numpy RuntimeWarning, a quiet ``%%capture`` sweep whose captured outputs are used later, an
exception raised inside a method defined in an earlier cell, unicode, ``_``, and the namespace digest.
"""

from tests.e2e.notebooks import code, markdown, namespace_digest

CELLS = [
    markdown(
        "title",
        """
        # Logistic regression from scratch
        Synthetic data, mini-batch gradient descent, learning curves and a small learning-rate sweep.
        """,
    ),
    code(
        "setup",
        """
        %matplotlib inline
        import sys

        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd

        import nbtrack

        rng = np.random.default_rng(7)
        np.set_printoptions(precision=4, suppress=True)
        print("ready")
        """,
    ),
    code(
        "data",
        """
        n_samples = 600
        n_features = 5
        noise = 0.3

        true_w = np.array([1.5, -2.0, 0.0, 0.7, 0.25])
        X = rng.normal(size=(n_samples, n_features))
        logits = X @ true_w + noise * rng.normal(size=n_samples)
        y = (logits > 0).astype(float)
        print(f"{n_samples} samples, {n_features} features, positive rate {y.mean():.3f}")
        X.shape
        """,
    ),
    code(
        "split",
        """
        split = int(0.8 * n_samples)
        X_train, X_val = X[:split], X[split:]
        y_train, y_val = y[:split], y[split:]
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        X_train = (X_train - mean) / std
        X_val = (X_val - mean) / std
        print(X_train.shape, X_val.shape)
        std.round(3)
        """,
    ),
    code(
        "model",
        '''
        def sigmoid(z):
            return 1.0 / (1.0 + np.exp(-z))


        def log_loss(p, y, eps=1e-12):
            p = np.clip(p, eps, 1 - eps)
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


        def log_metrics(**values):
            """Log to nbtrack when this cell runs tracked; do nothing otherwise."""
            if nbtrack.active_run() is not None:
                nbtrack.log(**values)


        class LogisticRegression:
            """Binary logistic regression trained with mini-batch gradient descent."""

            def __init__(self, n_features, lr=0.1, seed=0):
                self.w = np.zeros(n_features)
                self.b = 0.0
                self.lr = lr
                self.rng = np.random.default_rng(seed)

            def predict_proba(self, X):
                if X.shape[1] != self.w.shape[0]:
                    raise ValueError(f"expected {self.w.shape[0]} features, got {X.shape[1]}")
                return sigmoid(X @ self.w + self.b)

            def fit_epoch(self, X, y, batch_size):
                order = self.rng.permutation(len(X))
                for start in range(0, len(X), batch_size):
                    idx = order[start : start + batch_size]
                    grad = self.predict_proba(X[idx]) - y[idx]
                    self.w -= self.lr * X[idx].T @ grad / len(idx)
                    self.b -= self.lr * grad.mean()
                return log_loss(self.predict_proba(X), y)

            def __repr__(self):
                return f"LogisticRegression(lr={self.lr}, |w|={np.linalg.norm(self.w):.3f})"
        ''',
    ),
    code(
        "train",
        """
        %%time
        lr = 0.5
        epochs = 40
        batch_size = 64

        model = LogisticRegression(n_features, lr=lr, seed=0)
        history = []
        for epoch in range(epochs):
            loss = model.fit_epoch(X_train, y_train, batch_size)
            val_loss = log_loss(model.predict_proba(X_val), y_val)
            history.append((epoch, loss, val_loss))
            log_metrics(loss=loss, val_loss=val_loss)
            if epoch % 10 == 0 or epoch == epochs - 1:
                print(f"epoch {epoch:3d}  loss {loss:.4f}  val_loss {val_loss:.4f}")
        model
        """,
    ),
    code(
        "evaluate",
        """
        probs = model.predict_proba(X_val)
        val_acc = float(((probs > 0.5) == y_val).mean())
        print(f"validation accuracy: {val_acc:.3f}")
        val_acc
        """,
    ),
    code(
        "curves",
        """
        curves = pd.DataFrame(history, columns=["epoch", "loss", "val_loss"]).set_index("epoch")
        curves.iloc[::10].round(4)
        """,
    ),
    code(
        "plot",
        """
        fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
        curves.plot(ax=ax)
        ax.set_title("learning curves")
        ax.set_ylabel("log loss");
        """,
    ),
    code(
        "calibration",
        """
        print("calibration by probability bin:", file=sys.stderr)
        bins = np.linspace(0, 1, 21)
        counts = np.histogram(probs, bins)[0]
        positives = np.histogram(probs, bins, weights=y_val)[0]
        rates = positives / counts
        rates.round(2)
        """,
    ),
    code(
        "sweep",
        """
        %%capture sweep_log
        sweep = {}
        for trial_lr in [0.05, 0.5, 2.0]:
            trial = LogisticRegression(n_features, lr=trial_lr, seed=1)
            for _ in range(15):
                trial.fit_epoch(X_train, y_train, batch_size)
            sweep[trial_lr] = log_loss(trial.predict_proba(X_val), y_val)
            print(f"lr={trial_lr}: val_loss {sweep[trial_lr]:.4f}")
        display(pd.Series(sweep, name="val_loss").rename_axis("lr").to_frame())
        """,
    ),
    code(
        "sweep_results",
        """
        print(sweep_log.stdout.strip().splitlines()[-1])
        sweep_log.outputs[-1]
        """,
    ),
    code(
        "wrong_features",
        """
        subset = X_val[:, :3]
        model.predict_proba(subset)
        """,
    ),
    code(
        "report",
        """
        best_lr = min(sweep, key=sweep.get)
        print(f"meilleur taux d'apprentissage → {best_lr}  (最良) ✓")
        print(f"Δ val_loss vs lr={lr}: {sweep[best_lr] - val_loss:+.4f}")
        """,
    ),
    code(
        "previous_result",
        """
        previous = _
        type(previous).__name__
        """,
    ),
    namespace_digest(),
]
