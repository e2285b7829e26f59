"""The torch estimators' shared training loop: standardise, fixed seeds, CPU, fixed epochs.

A sequence estimator receives the scikit-learn 2-D ``X`` of shape ``(n, window * k)`` — the
window's ``k`` features per step, oldest step first — and reshapes it to ``(n, window, k)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cryptolake.ml.estimators._base import DirectionClassifier


def torch_module() -> Any:
    import torch

    from cryptolake.ml.estimators._base import THREADS

    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    return torch


class Adam:
    """Adam with decoupled weight decay, in a few tensor operations.

    ``torch.optim`` imports torch's compiler stack (about 900 modules, 15-30 s on a busy 2-core
    machine) the first time an optimiser is built; this is the same update without that cost.
    """

    def __init__(self, params: Any, lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        torch = torch_module()
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def clip(self, max_norm: float) -> None:
        torch = torch_module()
        grads = [p.grad for p in self.params if p.grad is not None]
        if not grads:
            return
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        if norm > max_norm:
            for g in grads:
                g.mul_(max_norm / (norm + 1e-6))

    def step(self) -> None:
        torch = torch_module()
        self.t += 1
        b1, b2 = self.betas
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v, strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                mhat = m / (1 - b1**self.t)
                vhat = v / (1 - b2**self.t)
                if self.weight_decay:
                    p.mul_(1 - self.lr * self.weight_decay)
                p.addcdiv_(mhat, vhat.sqrt().add_(self.eps), value=-self.lr)


class TorchSequenceClassifier(DirectionClassifier):
    """Subclasses define ``_build(n_steps, n_inputs, n_classes)`` and may use ``y_return``."""

    #: Quantiles of the return predicted when the network has a quantile head.
    quantiles: tuple[float, ...] = ()

    def _steps(self, n_columns: int) -> int:
        window = int(getattr(self, "window", 1))
        if window < 1 or n_columns % window:
            raise ValueError(f"{n_columns} columns do not split into window={window} steps")
        return window

    def _prepare(self, X: np.ndarray) -> Any:
        torch = torch_module()
        n, cols = X.shape
        steps = self.n_steps_
        Z = (X.reshape(n, steps, cols // steps) - self.mean_) / self.scale_
        return torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))

    def _fit(self, X: np.ndarray, y: np.ndarray, *, y_return: Any = None, **_: Any) -> None:
        torch = torch_module()
        steps = self._steps(X.shape[1])
        if self.max_samples and len(X) > self.max_samples:  # the most recent rows
            X, y = X[-self.max_samples :], y[-self.max_samples :]
            if y_return is not None:
                y_return = np.asarray(y_return)[-self.max_samples :]
        self.n_steps_ = steps
        k = X.shape[1] // steps
        flat = X.reshape(-1, k)
        self.mean_ = flat.mean(axis=0).astype(np.float32)
        scale = flat.std(axis=0).astype(np.float32)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0).astype(np.float32)
        rng = np.random.default_rng(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            net = self._build(steps, k, len(self.classes_))
            opt = Adam(net.parameters(), lr=self.learning_rate, weight_decay=1e-5)
            Xt = self._prepare(X)
            yt = torch.from_numpy(y)
            rt = None
            if y_return is not None and self.quantiles:
                r = np.asarray(y_return, dtype=np.float32)
                self.return_scale_ = float(np.std(r)) or 1.0
                rt = torch.from_numpy(r / self.return_scale_)
            ce = torch.nn.CrossEntropyLoss()
            n = len(y)
            net.train()
            for _epoch in range(self.max_epochs):
                order = rng.permutation(n)
                for start in range(0, n, self.batch_size):
                    idx = torch.from_numpy(order[start : start + self.batch_size])
                    out = net(Xt[idx])
                    logits = out[0] if isinstance(out, tuple) else out
                    loss = ce(logits, yt[idx])
                    if rt is not None and isinstance(out, tuple):
                        q = out[1]
                        target = rt[idx].unsqueeze(1)
                        taus = torch.tensor(self.quantiles).unsqueeze(0)
                        diff = target - q
                        loss = loss + torch.maximum(taus * diff, (taus - 1) * diff).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.clip(1.0)
                    opt.step()
            net.eval()
        self.net_ = net

    def _forward(self, X: np.ndarray) -> Any:
        torch = torch_module()
        with torch.no_grad():
            outs = [self.net_(chunk) for chunk in torch.split(self._prepare(X), 4096)]
        return outs

    def _proba(self, X: np.ndarray) -> np.ndarray:
        torch = torch_module()
        outs = self._forward(X)
        logits = torch.cat([o[0] if isinstance(o, tuple) else o for o in outs])
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """Quantiles of the log return (columns in :attr:`quantiles` order); needs ``y_return``."""
        from sklearn.utils.validation import check_is_fitted, validate_data

        torch = torch_module()
        check_is_fitted(self, "return_scale_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        q = torch.cat([o[1] for o in self._forward(X)]).double().numpy()
        return np.asarray(q * self.return_scale_)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "net_" in state:  # a state dict pickles without torch's module pickling quirks
            state["net_"] = {k: v.clone() for k, v in state["net_"].state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("net_", None)
        self.__dict__.update(state)
        if weights is not None:
            net = self._build(self.n_steps_, len(self.mean_), len(self.classes_))
            net.load_state_dict(weights)
            net.eval()
            self.net_ = net

    def _build(self, n_steps: int, n_inputs: int, n_classes: int) -> Any:
        raise NotImplementedError


class LSTMModel(TorchSequenceClassifier):
    """A one-layer LSTM over the window; the last hidden state feeds a linear head."""

    def __init__(
        self,
        window: int = 1,
        hidden_size: int = 32,
        max_epochs: int = 8,
        batch_size: int = 256,
        learning_rate: float = 2e-3,
        max_samples: int | None = 40_000,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.hidden_size = hidden_size
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_samples = max_samples
        self.random_state = random_state

    def _build(self, n_steps: int, n_inputs: int, n_classes: int) -> Any:
        torch = torch_module()
        hidden = self.hidden_size

        class Net(torch.nn.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.lstm = torch.nn.LSTM(n_inputs, hidden, batch_first=True)
                self.head = torch.nn.Linear(hidden, n_classes)

            def forward(self, x: Any) -> Any:
                out, _ = self.lstm(x)
                return self.head(out[:, -1])

        return Net()
