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

from . import accel
from .population import id_dtype

__all__ = ["Network", "CompleteNetwork", "build_network", "from_edges", "NETWORK_KINDS"]

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

    # ---------------------------------------------------------------- the hot path
    #: whether the ties are implicit (the complete graph) rather than stored
    implicit = False

    def sample_neighbors(self, talkers: np.ndarray, reach: np.ndarray, rng: np.random.Generator):
        """(sender, recipient): each talker tells ``reach`` neighbours drawn at random with
        replacement (:func:`sim.wom.sample_messages`)."""
        from .wom import sample_messages

        return sample_messages(talkers, reach, self.indptr, self.indices, rng)

    def adopter_counts(self, firm: np.ndarray, n_firms: int, rows: np.ndarray | None = None):
        """n_ij: neighbours of each customer (or of ``rows``) who are customers of firm j."""
        from .acquisition import adopter_counts

        adj = self.__dict__.get("_adj")
        if adj is None:
            adj = self.__dict__["_adj"] = self.adjacency()
        return adopter_counts(adj, firm, n_firms, rows)

    def adopter_sources(self, rows, cols, firm, rng: np.random.Generator) -> np.ndarray:
        """A neighbour of ``rows[m]`` who is a customer of ``cols[m]``, drawn uniformly
        (-1 if none): who caused an imitation (:func:`sim.acquisition.imitation_sources`)."""
        from .acquisition import imitation_sources

        return imitation_sources(rows, cols, firm, self.indptr, self.indices, rng)


class CompleteNetwork(Network):
    """The complete graph on n nodes with implicit ties: memory linear in n.

    Every customer is every other's neighbour, so the hot path needs no tie list:
    a random neighbour is a uniform draw among the n − 1 others, the adopters of j
    among i's neighbours are all of j's customers but i, and the degree is n − 1.
    ``indptr``/``indices`` (and :meth:`adjacency`, :meth:`to_networkx`) materialise the
    n(n − 1) ties on first use, for small n only (analysis and drawing).

    Examples:
        >>> g = CompleteNetwork(1_000_000)
        >>> int(g.degree[0]), g.n_edges
        (999999, 499999500000)
    """

    implicit = True

    def __init__(self, n: int) -> None:  # no stored ties
        self.n = int(n)

    def __repr__(self) -> str:
        return f"CompleteNetwork(n={self.n})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompleteNetwork) and other.n == self.n

    __hash__ = None

    def __getattr__(self, name: str):
        if name in ("indptr", "indices"):
            if self.n > 20_000:
                raise ValueError(
                    f"network.kind = 'complete' with {self.n} customers: its {self.n * (self.n - 1)}"
                    " links are implicit; the tie list exists for at most 20000 customers"
                )
            iu, ju = np.triu_indices(self.n, k=1)
            g = from_edges(self.n, iu, ju)
            self.__dict__["indptr"], self.__dict__["indices"] = g.indptr, g.indices
            return self.__dict__[name]
        raise AttributeError(name)

    @property
    def degree(self) -> np.ndarray:
        return np.full(self.n, max(self.n - 1, 0), np.int64)

    @property
    def n_edges(self) -> int:
        return self.n * (self.n - 1) // 2

    def neighbors(self, i: int) -> np.ndarray:
        """Every node but ``i``."""
        return np.delete(np.arange(self.n), i)

    def sample_neighbors(self, talkers, reach, rng):
        """Each talker tells ``reach`` others drawn uniformly with replacement (one draw
        per message, as on a stored graph)."""
        ok = reach > 0 if self.n > 1 else np.zeros(talkers.size, bool)
        talkers, reach = talkers[ok], reach[ok]
        sender = np.repeat(talkers, reach)
        pick = (rng.random(sender.size) * (self.n - 1)).astype(np.int64)
        pick += pick >= sender  # skip the talker itself
        return sender, pick

    def adopter_counts(self, firm, n_firms, rows=None):
        """n_ij = customers of j other than i (no N × N matrix)."""
        has = firm >= 0
        total = np.bincount(firm[has].astype(np.int64), minlength=n_firms).astype(float)
        r = np.arange(firm.size) if rows is None else rows
        counts = np.broadcast_to(total, (r.size, n_firms)).copy()
        own = firm[r].astype(np.int64)
        mine = own >= 0
        counts[np.nonzero(mine)[0], own[mine]] -= 1.0
        return counts

    def adopter_sources(self, rows, cols, firm, rng):
        """A customer of ``cols[m]`` other than ``rows[m]``, drawn uniformly (-1 if none)."""
        out = np.full(rows.size, -1, np.int64)
        if rows.size == 0:
            return out
        f = firm.astype(np.int64)
        order = np.argsort(f, kind="stable")
        fs = f[order]
        k = int(max(cols.max(), fs.max(initial=-1))) + 1
        start = np.searchsorted(fs, np.arange(k), side="left")
        stop = np.searchsorted(fs, np.arange(k), side="right")
        cnt = (stop - start)[cols]
        own = f[rows] == cols  # never itself (it is not aware of its own firm anyway)
        avail = cnt - own
        u = rng.random(rows.size)
        pick = (u * np.maximum(avail, 1)).astype(np.int64)
        idx = start[cols] + pick
        cand = order[np.minimum(idx, f.size - 1)]
        # if the pick is the customer itself, take the next one of the firm
        self_hit = own & (cand == rows)
        cand[self_hit] = order[np.minimum(idx[self_hit] + 1, f.size - 1)]
        ok = avail > 0
        out[ok] = cand[ok]
        return out


def _edge_keys(n: int, u: np.ndarray, v: np.ndarray, *, own: bool = False) -> np.ndarray:
    """The sorted unique keys ``lo · n + hi`` (lo < hi) of the undirected edges u–v.

    Self-loops are dropped and duplicate edges merged. ``own``: u and v (int64) may be
    overwritten, which saves a copy of each.
    """
    keep = u != v
    if not keep.all():
        u, v, own = u[keep], v[keep], True
    del keep
    key = np.minimum(u, v)
    hi = np.maximum(u, v, out=v if own else None)
    del u, v
    key *= n
    key += hi
    del hi
    key.sort()
    if key.size:
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return key


def _csr_numpy(n: int, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the symmetric graph of the edge keys: both directions sorted
    by (row, column). The reference for :func:`_csr_kernel`."""
    lo, hi = key // n, key % n
    both = np.concatenate([key, hi * n + lo])
    del lo, hi
    both.sort(kind="stable")
    src = both // n
    dst = both - src * n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst.astype(id_dtype(n))


@accel.jit
def _csr_kernel(n, key, indptr, indices):  # pragma: no cover - compiled
    """Compiled :func:`_csr_numpy` (the reference): one pass over the sorted keys fills
    each row's lower neighbours (keys (lo, i), met in increasing lo) and then its upper
    ones (keys (i, hi), met in increasing hi); no sort of the 2·E directed entries."""
    n_low = np.zeros(n, np.int64)
    for e in range(key.size):
        lo = key[e] // n
        hi = key[e] - lo * n
        indptr[lo + 1] += 1
        indptr[hi + 1] += 1
        n_low[hi] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    low = indptr[:-1].copy()
    for i in range(n):
        n_low[i] += indptr[i]  # now the cursor of the upper neighbours
    for e in range(key.size):
        lo = key[e] // n
        hi = key[e] - lo * n
        indices[n_low[lo]] = hi
        n_low[lo] += 1
        indices[low[hi]] = lo
        low[hi] += 1


def _from_keys(n: int, key: np.ndarray) -> Network:
    """The :class:`Network` of the sorted unique edge keys (compiled or numpy CSR fill)."""
    if accel.enabled():
        indptr = np.zeros(n + 1, dtype=np.int64)
        indices = np.empty(2 * key.size, dtype=id_dtype(n))
        _csr_kernel(n, key, indptr, indices)
    else:
        indptr, indices = _csr_numpy(n, key)
    return Network(n=n, indptr=indptr, indices=indices)


def from_edges(n: int, u: np.ndarray, v: np.ndarray) -> Network:
    """Build a simple undirected CSR graph from edge endpoint arrays.

    Self-loops are dropped and duplicate edges merged. Each row lists its neighbours in
    increasing order; ``indices`` are int32 below 2^31 nodes (:func:`sim.population.id_dtype`).

    Args:
        n: number of nodes.
        u: one end of each edge (node ids in 0..n-1).
        v: the other end.

    Returns:
        The :class:`Network`.

    Examples:
        >>> g = from_edges(4, [0, 1, 2, 1, 3], [1, 2, 0, 0, 3])
        >>> g.indptr.tolist(), g.indices.tolist()
        ([0, 2, 4, 6, 6], [1, 2, 0, 2, 0, 1])
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    return _from_keys(n, _edge_keys(n, u, v))


#: uniforms drawn at a time by :func:`small_world` (the same stream as one big draw)
_CHUNK = 1 << 20


def small_world(n: int, k: int, p: float, rng: np.random.Generator) -> Network:
    """Watts–Strogatz graph: a ring where each node links to its k nearest neighbours
    (k//2 on each side), each link's far end rewired to a random node with probability p.

    Memory: the ring's two endpoint arrays (16 bytes a link) and the sorted link keys; the
    rewiring uniforms are drawn in chunks (the same numbers as one draw of all of them).
    """
    half = max(k // 2, 0)
    if n < 2 or half == 0:
        return from_edges(n, np.empty(0, np.int64), np.empty(0, np.int64))
    half = min(half, (n - 1) // 2) or 1
    m = n * half
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (np.arange(n, dtype=np.int64)[:, None] + np.arange(1, half + 1)).ravel()
    np.remainder(v, n, out=v)
    rewire = np.empty(m, bool)
    for a in range(0, m, _CHUNK):
        rewire[a : a + _CHUNK] = rng.random(min(_CHUNK, m - a)) < p
    far = np.flatnonzero(rewire)
    del rewire
    v[far] = rng.integers(0, n, size=far.size)
    del far
    return _from_keys(n, _edge_keys(n, u, v, own=True))


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
    """Complete graph (every pair linked), with implicit ties: memory linear in n
    (:class:`CompleteNetwork`)."""
    return CompleteNetwork(n)


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
