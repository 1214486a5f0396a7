import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.network import build_network, from_edges, read_edgelist


@pytest.mark.parametrize("kind", ["small_world", "random", "scale_free", "complete"])
def test_networks_are_simple_and_symmetric(kind):
    rng = np.random.default_rng(0)
    g = build_network(kind, 300, 10, 0.1, rng)
    src = np.repeat(np.arange(g.n), g.degree)
    assert not np.any(src == g.indices), "self-loops"
    pairs = set(zip(src.tolist(), g.indices.tolist(), strict=True))
    assert len(pairs) == g.indices.size, "duplicate ties"
    assert all((b, a) in pairs for a, b in pairs), "not symmetric"


def test_small_world_has_mean_degree_k_and_high_clustering():
    import networkx as nx

    g = build_network("small_world", 2000, 10, 0.1, np.random.default_rng(1))
    assert abs(g.degree.mean() - 10) < 0.1
    G = g.to_networkx()
    assert nx.average_clustering(G) > 0.3  # a ring lattice rewired a little keeps clustering
    assert G.number_of_edges() == g.n_edges


def test_scale_free_has_hubs():
    g = build_network("scale_free", 5000, 10, 0.0, np.random.default_rng(2))
    assert abs(g.degree.mean() - 10) < 0.5
    assert g.degree.max() > 10 * g.degree.mean() / 2


def test_from_edges_merges_duplicates_and_drops_loops():
    g = from_edges(4, np.array([0, 1, 0, 2, 3]), np.array([1, 0, 0, 3, 3]))
    assert g.n_edges == 2
    assert list(g.neighbors(0)) == [1]


def test_edgelist_file(tmp_path):
    p = tmp_path / "net.csv"
    p.write_text("# a comment\n0,1\n1 2\n2,3\n")
    g = read_edgelist(p, 4)
    assert g.n_edges == 3
    with pytest.raises(ValueError, match="node ids must lie in 0..2"):
        read_edgelist(p, 3)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_edgelist(tmp_path / "missing.csv", 4)


def test_unknown_kind_names_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: small_world"):
        build_network("lattice", 10, 2, 0.0, np.random.default_rng(0))


def _reference_small_world(n, k, p, rng):
    """The Watts–Strogatz builder written plainly: one draw of all rewiring uniforms and
    a set of sorted neighbour lists."""
    half = k // 2
    u = np.repeat(np.arange(n), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(u.size) < p
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    nbrs = [set() for _ in range(n)]
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        if a != b:
            nbrs[a].add(b)
            nbrs[b].add(a)
    indptr = np.concatenate(([0], np.cumsum([len(s) for s in nbrs])))
    return indptr, np.array([j for s in nbrs for j in sorted(s)], dtype=np.int64)


@pytest.mark.parametrize("n, k, p", [(2500, 10, 0.1), (1500, 6, 1.0), (7, 4, 0.5)])
def test_small_world_matches_a_plain_builder_with_kernels_on_and_off(monkeypatch, n, k, p):
    """Chunked rewiring draws and the one-pass CSR kernel give the plain builder's graph,
    tie for tie (the chunk is made small so that several chunks are drawn)."""
    from sim import accel, network

    monkeypatch.setattr(network, "_CHUNK", 1000)
    indptr, indices = _reference_small_world(n, k, p, np.random.default_rng(3))
    for on in (True, False):
        with accel.use(on):
            g = network.small_world(n, k, p, np.random.default_rng(3))
        assert g.indices.dtype == np.int32 and g.indptr.dtype == np.int64
        assert np.array_equal(g.indptr, indptr) and np.array_equal(g.indices, indices)


@given(
    n=st.integers(1, 40),
    edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=120),
)
@settings(max_examples=60, deadline=None)
def test_csr_kernel_equals_the_numpy_reference(n, edges):
    """Random edge lists (loops, duplicates, isolated nodes, none at all): the compiled
    CSR fill gives the numpy reference's arrays exactly."""
    from sim import accel

    e = np.array([(a % n, b % n) for a, b in edges], dtype=np.int64).reshape(-1, 2)
    with accel.use(False):
        ref = from_edges(n, e[:, 0], e[:, 1])
    with accel.use(True):
        got = from_edges(n, e[:, 0], e[:, 1])
    assert np.array_equal(ref.indptr, got.indptr) and np.array_equal(ref.indices, got.indices)
    assert ref.indices.dtype == got.indices.dtype
