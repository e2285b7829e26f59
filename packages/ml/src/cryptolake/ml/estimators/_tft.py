"""A compact Temporal Fusion Transformer (Lim et al., 2021) in torch, as a scikit-learn estimator.

The parts of the paper, for a past-only window of observed inputs (no static covariates and no
known-future inputs in our data, so the static encoders and the decoder's future inputs are
omitted):

- **gated residual networks** (GRN: dense → ELU → dense → dropout → GLU gate, residual, layer norm)
  everywhere a block transforms its input;
- a **variable selection network** per time step: each of the ``k`` inputs is embedded to
  ``d_model`` and transformed by its own GRN; a GRN over the flattened embeddings gives softmax
  weights over the variables, and the step's representation is the weighted sum (the weights are
  the model's variable importances, :attr:`TemporalFusionTransformer.variable_importances_`);
- an **LSTM encoder** over the window, joined to its input by a gated skip connection (GLU, add,
  norm);
- a GRN enrichment layer, then **interpretable multi-head attention** — per-head queries and keys,
  one value projection shared by every head, head outputs averaged — with a causal mask, a gated
  skip connection, a position-wise GRN and a final gated skip to the LSTM output;
- **quantile outputs**: the last step feeds a head predicting the 10 %, 50 % and 90 % quantiles of
  the log return at the horizon (pinball loss), and a direction head (cross-entropy) giving
  ``predict_proba``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cryptolake.ml.estimators._torch import TorchSequenceClassifier, torch_module


def _modules(d: int, k: int, n_steps: int, heads: int, n_classes: int, n_q: int, dropout: float) -> Any:
    torch = torch_module()
    nn = torch.nn

    class GLU(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, d_in: int, d_out: int) -> None:
            super().__init__()
            self.lin = nn.Linear(d_in, 2 * d_out)

        def forward(self, x: Any) -> Any:
            return torch.nn.functional.glu(self.lin(x), dim=-1)

    class GRN(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, d_in: int, d_hidden: int, d_out: int) -> None:
            super().__init__()
            self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
            self.fc1 = nn.Linear(d_in, d_hidden)
            self.fc2 = nn.Linear(d_hidden, d_hidden)
            self.drop = nn.Dropout(dropout)
            self.gate = GLU(d_hidden, d_out)
            self.norm = nn.LayerNorm(d_out)

        def forward(self, x: Any) -> Any:
            h = self.fc2(torch.nn.functional.elu(self.fc1(x)))
            return self.norm(self.skip(x) + self.gate(self.drop(h)))

    class GateAddNorm(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, d_model: int) -> None:
            super().__init__()
            self.gate = GLU(d_model, d_model)
            self.drop = nn.Dropout(dropout)
            self.norm = nn.LayerNorm(d_model)

        def forward(self, x: Any, skip: Any) -> Any:
            return self.norm(skip + self.gate(self.drop(x)))

    class VariableSelection(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Parameter(torch.randn(k, d) * 0.1)
            self.bias = nn.Parameter(torch.zeros(k, d))
            self.var_grns = nn.ModuleList([GRN(d, d, d) for _ in range(k)])
            self.weight_grn = GRN(k * d, d, k)

        def forward(self, x: Any) -> tuple[Any, Any]:  # x: (n, T, k)
            emb = x.unsqueeze(-1) * self.embed + self.bias  # (n, T, k, d)
            weights = torch.softmax(self.weight_grn(emb.flatten(-2)), dim=-1)  # (n, T, k)
            transformed = torch.stack([g(emb[..., i, :]) for i, g in enumerate(self.var_grns)], dim=-2)
            return (weights.unsqueeze(-1) * transformed).sum(dim=-2), weights

    class InterpretableAttention(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.d_head = max(1, d // heads)
            self.q = nn.ModuleList([nn.Linear(d, self.d_head) for _ in range(heads)])
            self.k = nn.ModuleList([nn.Linear(d, self.d_head) for _ in range(heads)])
            self.v = nn.Linear(d, self.d_head)  # one value projection shared by every head
            self.out = nn.Linear(self.d_head, d)
            self.drop = nn.Dropout(dropout)
            mask = torch.triu(torch.ones(n_steps, n_steps, dtype=torch.bool), diagonal=1)
            self.register_buffer("mask", mask)

        def forward(self, x: Any) -> tuple[Any, Any]:
            v = self.v(x)
            outs, attn = [], []
            for q_lin, k_lin in zip(self.q, self.k, strict=True):
                scores = q_lin(x) @ k_lin(x).transpose(1, 2) / self.d_head**0.5
                a = torch.softmax(scores.masked_fill(self.mask, float("-inf")), dim=-1)
                attn.append(a)
                outs.append(self.drop(a) @ v)
            return self.out(torch.stack(outs).mean(0)), torch.stack(attn).mean(0)

    class TFT(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.vsn = VariableSelection()
            self.lstm = nn.LSTM(d, d, batch_first=True)
            self.post_lstm = GateAddNorm(d)
            self.enrich = GRN(d, d, d)
            self.attention = InterpretableAttention()
            self.post_attn = GateAddNorm(d)
            self.positionwise = GRN(d, d, d)
            self.post_tft = GateAddNorm(d)
            self.direction = nn.Linear(d, n_classes)
            self.quantile = nn.Linear(d, n_q) if n_q else None
            self.last_weights: Any = None
            self.last_attention: Any = None

        def forward(self, x: Any) -> Any:
            selected, weights = self.vsn(x)
            encoded, _ = self.lstm(selected)
            temporal = self.post_lstm(encoded, selected)
            enriched = self.enrich(temporal)
            attended, attn = self.attention(enriched)
            h = self.post_attn(attended, enriched)
            h = self.post_tft(self.positionwise(h), temporal)
            last = h[:, -1]
            self.last_weights, self.last_attention = weights.detach(), attn.detach()
            if self.quantile is None:
                return self.direction(last)
            return self.direction(last), self.quantile(last)

    return TFT()


class TemporalFusionTransformer(TorchSequenceClassifier):
    """Direction probabilities and return quantiles from a window of features (see module doc).

    ``fit(X, y, y_return=r)`` also trains the quantile head on the log returns ``r``; without
    them only the direction head learns and :meth:`predict_quantiles` is unavailable.
    """

    quantiles = (0.1, 0.5, 0.9)

    def __init__(
        self,
        window: int = 1,
        d_model: int = 16,
        n_heads: int = 2,
        dropout: float = 0.1,
        max_epochs: int = 6,
        batch_size: int = 256,
        learning_rate: float = 2e-3,
        max_samples: int | None = 30_000,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.d_model = d_model
        self.n_heads = n_heads
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_samples = max_samples
        self.random_state = random_state

    def _build(self, n_steps: int, n_inputs: int, n_classes: int) -> Any:
        return _modules(self.d_model, n_inputs, n_steps, self.n_heads, n_classes,
                        len(self.quantiles), self.dropout)

    def _fit(self, X: np.ndarray, y: np.ndarray, *, y_return: Any = None, **kw: Any) -> None:
        super()._fit(X, y, y_return=y_return, **kw)
        torch = torch_module()
        with torch.no_grad():
            sample = self._prepare(X[-2048:])
            self.net_(sample)
            self.variable_importances_ = self.net_.last_weights.mean(dim=(0, 1)).double().numpy()
            self.attention_by_lag_ = self.net_.last_attention[:, -1].mean(dim=0).double().numpy()
