import numpy as np
import pytest

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
