"""Social networks: builders that return a symmetric CSR adjacency for the hot path.

The hot path (word of mouth, imitation, referrals) only needs, for each customer, the
list of neighbours: ``indices[indptr[i]:indptr[i + 1]]``. Builders here produce that
directly with numpy (a small-world graph of 1M nodes takes about a second), and
:meth:`Network.to_networkx` gives a networkx graph for analysis and drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["Network", "build_network", "from_edges", "NETWORK_KINDS"]

NETWORK_KINDS = ("small_world", "scale_free", "random", "complete", "edgelist")


@dataclass
class Network:
    """An undirected simple graph on nodes 0..n-1 in CSR form."""

    n: int
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def n_edges(self) -> int:
        return int(self.indices.size // 2)

    def neighbors(self, i: int) -> np.ndarray:
        """Neighbours of node ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def adjacency(self) -> sp.csr_array:
        """The adjacency matrix as a scipy CSR array of ones (float64)."""
        data = np.ones(self.indices.size, dtype=np.float64)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def to_networkx(self):
        """A networkx Graph of the same edges (for analysis and drawing; slow at 1M)."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        src = np.repeat(np.arange(self.n), self.degree)
        mask = src < self.indices
        g.add_edges_from(zip(src[mask].tolist(), self.indices[mask].tolist(), strict=True))
        return g


def from_edges(n: int, u: np.ndarray, v: np.ndarray) -> Network:
    """Build a simple undirected CSR graph from edge endpoint arrays.

    Self-loops are dropped and duplicate edges merged.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    u, v = u[keep], v[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = np.sort(lo * n + hi, kind="stable")  # radix sort for integers: fast
    if key.size:
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    lo, hi = key // n, key % n
    both = np.concatenate([key, hi * n + lo])
    both.sort(kind="stable")
    src = both // n
    dst = both - src * n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if n < 2**31 else np.int64
    return Network(n=n, indptr=indptr, indices=dst.astype(idx_dtype))


def small_world(n: int, k: int, p: float, rng: np.random.Generator) -> Network:
    """Watts–Strogatz graph: a ring where each node links to its k nearest neighbours
    (k//2 on each side), each link's far end rewired to a random node with probability p."""
    half = max(k // 2, 0)
    if n < 2 or half == 0:
        return from_edges(n, np.empty(0, np.int64), np.empty(0, np.int64))
    half = min(half, (n - 1) // 2) or 1
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(u.size) < p
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return from_edges(n, u, v)


def random_graph(n: int, degree: float, rng: np.random.Generator) -> Network:
    """Erdős–Rényi-like graph with n·degree/2 edges drawn uniformly (duplicates merged)."""
    m = int(round(n * degree / 2))
    u = rng.integers(0, n, size=m)
    v = rng.integers(0, n, size=m)
    return from_edges(n, u, v)


def scale_free(n: int, degree: int, rng: np.random.Generator) -> Network:
    """Barabási–Albert preferential attachment with m = degree // 2 links per new node.

    Vectorised in blocks: nodes arriving in the same block attach to targets drawn
    from the degree-weighted list as it stood at the start of the block (blocks are
    small relative to the graph, so the degree distribution keeps its power-law tail).
    """
    m = max(1, degree // 2)
    if n <= m + 1:
        return complete(n)
    # seed: a star of m+1 nodes
    us = [np.zeros(m, np.int64)]
    vs = [np.arange(1, m + 1, dtype=np.int64)]
    targets = np.concatenate([us[0], vs[0]])  # degree-weighted list
    start = m + 1
    while start < n:
        block = min(n - start, max(1, targets.size // (4 * m)))
        new = np.repeat(np.arange(start, start + block, dtype=np.int64), m)
        picks = targets[rng.integers(0, targets.size, size=new.size)]
        us.append(new)
        vs.append(picks)
        targets = np.concatenate([targets, new, picks])
        start += block
    return from_edges(n, np.concatenate(us), np.concatenate(vs))


def complete(n: int) -> Network:
    """Complete graph (every pair linked). Memory grows as n²: meant for n up to ~10k."""
    if n > 20_000:
        raise ValueError(
            f"network.kind = 'complete' with {n} customers would hold {n * (n - 1)} links; allowed: at most 20000 customers"
        )
    iu, ju = np.triu_indices(n, k=1)
    return from_edges(n, iu, ju)


def read_edgelist(path: str | Path, n: int) -> Network:
    """Read a two-column integer edge list (whitespace or comma separated, '#' comments)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: network edge-list file not found")
    text = path.read_text().replace(",", " ")
    rows = [
        ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    try:
        arr = np.array([[int(a), int(b)] for a, b, *_ in rows], dtype=np.int64).reshape(-1, 2)
    except ValueError as exc:
        raise ValueError(f"{path}: each line must hold two integer node ids ({exc})") from None
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(
            f"{path}: node ids must lie in 0..{n - 1} (market.n_customers = {n}); found {arr.min()}..{arr.max()}"
        )
    return from_edges(n, arr[:, 0], arr[:, 1])


def build_network(
    kind: str, n: int, degree: int, rewire: float, rng: np.random.Generator, path: str | Path = ""
) -> Network:
    """Build a network by name. See :data:`NETWORK_KINDS`."""
    if kind == "small_world":
        return small_world(n, degree, rewire, rng)
    if kind == "random":
        return random_graph(n, degree, rng)
    if kind == "scale_free":
        return scale_free(n, degree, rng)
    if kind == "complete":
        return complete(n)
    if kind == "edgelist":
        return read_edgelist(path, n)
    raise ValueError(f"network.kind = {kind!r}; allowed: {', '.join(NETWORK_KINDS)}")
