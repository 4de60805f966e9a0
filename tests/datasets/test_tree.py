"""shenjing.data.Tree, parse_tree and Vocabulary."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shenjing.data import Tree, TreeSyntaxError, Vocabulary, parse_tree

TEXT = "(3 (2 It) (4 (2 's) (3 (3 very) (4 good))))"


def test_parse_fields():
    t = parse_tree(TEXT)
    assert t.label == 3 and not t.is_leaf and t.word is None
    left, right = t.children
    assert left.is_leaf and left.label == 2 and left.word == "It" and left.children == []
    assert right.label == 4 and len(right.children) == 2


def test_leaves_words_sentence():
    t = parse_tree(TEXT)
    assert [leaf.word for leaf in t.leaves()] == ["It", "'s", "very", "good"]
    assert t.words() == ["It", "'s", "very", "good"]
    assert t.sentence == "It 's very good"


def test_iteration_is_post_order():
    t = parse_tree("(0 (1 a) (2 (3 b) (4 c)))")
    order = [(n.label, n.word) for n in t]
    assert order == [(1, "a"), (3, "b"), (4, "c"), (2, None), (0, None)]
    seen = set()
    for node in t:  # every child comes before its parent
        assert all(id(c) in seen for c in node.children)
        seen.add(id(node))


def test_to_ptb_and_repr_round_trip():
    t = parse_tree("  " + TEXT + "\n")
    assert t.to_ptb() == TEXT and str(t) == TEXT
    assert repr(t) == f"Tree.from_ptb({TEXT!r})"
    again = eval(repr(t), {"Tree": Tree})
    assert again.to_ptb() == TEXT


def test_non_ascii_whitespace_stays_inside_a_word():
    t = parse_tree("(2 (2 8\xa01\\/2) (2 stars))")  # SST has such a word
    assert t.words() == ["8\xa01\\/2", "stars"]
    assert parse_tree(t.to_ptb()).words() == t.words()
    vocab = Vocabulary(t.words())
    assert vocab.encode(t.sentence) == [2, 3]


def test_deep_tree_needs_no_recursion():
    depth = 3 * sys.getrecursionlimit()
    text = "(1 " * depth + "(2 x)" + ")" * depth
    t = parse_tree(text)
    assert t.to_ptb() == text
    assert sum(1 for _ in t) == depth + 1
    assert t.words() == ["x"] and t.leaves()[0].label == 2


def test_build_by_hand():
    t = Tree(1, [Tree(0, word="no"), Tree(2, word="way")])
    assert t.to_ptb() == "(1 (0 no) (2 way))"
    with pytest.raises(ValueError, match="either a word"):
        Tree(1)
    with pytest.raises(ValueError, match="either a word"):
        Tree(1, [Tree(0, word="a")], word="b")
    with pytest.raises(ValueError, match="cannot be written in PTB form"):
        Tree(1, word="two words").to_ptb()


@pytest.mark.parametrize(
    "text, column, message",
    [
        (")(2 a)", 1, r"unbalanced '\)'"),
        ("(2 (2 a) (2 b)))", 16, r"unexpected '\)' after the end of the tree"),
        ("(2 (2 a) (2 b)", 1, r"missing '\)'"),
        ("(2 (2 a) (x b))", 11, r"label 'x' is not a non-negative integer"),
        ("(2 (-1 a) (2 b))", 5, r"label '-1' is not"),
        ("(2 ((2 a) (2 b)))", 5, r"expected a label after '\(', found '\('"),
        ("(2 (2 a) ()", 11, r"expected a label after '\(', found '\)'"),
        ("(2 (2 a b))", 9, r"second word 'b'"),
        ("(2 word (2 a))", 9, r"a node with a word cannot also have children"),
        ("(2 (2 a) word)", 10, r"unexpected word 'word': the node already has children"),
        ("(2)", 3, r"empty node"),
        ("(2 (2 a)) (2 b)", 11, r"after the end of the tree"),
        ("word", 1, r"outside brackets"),
        ("   ", 1, r"no tree found"),
    ],
)
def test_malformed_text_says_where(text, column, message):
    with pytest.raises(TreeSyntaxError, match=message) as info:
        parse_tree(text, source="trees.txt", line=7)
    assert info.value.column == column and info.value.line == 7
    assert str(info.value).startswith(f"trees.txt, line 7, column {column}: ")
    assert isinstance(info.value, ValueError)


def test_num_classes_bounds_labels():
    assert parse_tree("(4 (0 a) (4 b))", num_classes=5).label == 4
    with pytest.raises(TreeSyntaxError, match=r"column 11: label 5 is outside the class range"):
        parse_tree("(4 (0 a) (5 b))", num_classes=5)


def test_labels_and_num_classes_are_checked_where_given():
    """A float label was truncated to a class (and to_ptb wrote text parse_tree refuses);
    num_classes=0 blamed the text ('outside the class range 0..-1')."""
    for label in (2.7, True, None, -1):
        with pytest.raises(ValueError, match="a Tree's label is a class id"):
            Tree(label, word="a")
    assert Tree(np.int64(3), word="a").to_ptb() == "(3 a)"
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="num_classes must be a positive integer"):
            parse_tree("(2 a)", num_classes=bad)


def test_read_trees_skips_every_blank_line_and_a_byte_order_mark(tmp_path):
    from shenjing.datasets.sst import read_trees

    path = tmp_path / "trees.txt"
    path.write_bytes("\ufeff(3 (2 a) (4 b))\n\f\n\v \n(1 c)\n".encode())
    assert [t.to_ptb() for t in read_trees(path)] == ["(3 (2 a) (4 b))", "(1 c)"]


# random trees round-trip through their PTB text
words = st.text(alphabet=st.characters(blacklist_characters="() \t\n\r\f\v",
                                       blacklist_categories=("Cs",)), min_size=1, max_size=5)
trees = st.recursive(
    st.builds(lambda label, word: Tree(label, word=word), st.integers(0, 9), words),
    lambda kids: st.builds(Tree, st.integers(0, 9), st.lists(kids, min_size=1, max_size=3)),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(trees)
def test_random_trees_round_trip(tree):
    again = parse_tree(tree.to_ptb())
    assert again.to_ptb() == tree.to_ptb()
    assert [(n.label, n.word) for n in again] == [(n.label, n.word) for n in tree]
    assert again.words() == tree.words()


# -- Vocabulary ------------------------------------------------------------------------------------
def test_vocabulary_reserves_pad_and_unk():
    vocab = Vocabulary("b a b c b a".split())
    assert vocab.words == ["<pad>", "<unk>", "b", "a", "c"]
    assert vocab.pad_index == 0 and vocab.unk_index == 1 and len(vocab) == 5
    assert vocab.index("a") == 3 and vocab.index("zzz") == 1
    assert "a" in vocab and "zzz" not in vocab


def test_vocabulary_min_count_and_max_size():
    tokens = "a a a b b c d d d d".split()
    assert Vocabulary(tokens, min_count=2).words[2:] == ["d", "a", "b"]
    assert Vocabulary(tokens, max_size=4).words == ["<pad>", "<unk>", "d", "a"]
    custom = Vocabulary(["x", "<unk>"], pad_token="PAD", unk_token="<unk>")
    assert custom.words == ["PAD", "<unk>", "x"]


def test_vocabulary_encode_decode():
    vocab = Vocabulary("the cat saw the dog".split())
    assert vocab.encode("the dog barked") == [2, 5, 1]
    assert vocab.encode(["the", "cat"]) == [2, 3]
    assert vocab.decode([2, 5, 1, 0, 0]) == ["the", "dog", "<unk>"]
    assert vocab.decode(np.array([[2, 0]]), skip_padding=False) == ["the", "<pad>"]
    with pytest.raises(ValueError, match="index 9 is outside the vocabulary 0..5"):
        vocab.decode([9])


def test_vocabulary_encode_batch_pads_with_zero():
    vocab = Vocabulary("a b c".split())
    batch = vocab.encode_batch(["a b c", "b", "c a b a"], maxlen=3)
    assert batch.dtype == np.int32
    np.testing.assert_array_equal(batch, [[2, 3, 4], [0, 0, 3], [2, 3, 2]])
    post = vocab.encode_batch(["a b c", "b", "c a b a"], 3, padding="post", truncating="post")
    np.testing.assert_array_equal(post, [[2, 3, 4], [3, 0, 0], [4, 2, 3]])
    assert vocab.encode_batch(["a", "a b"]).shape == (2, 2)
    with pytest.raises(ValueError, match="padding"):
        vocab.encode_batch(["a"], padding="middle")


def test_vocabulary_from_trees_and_bad_arguments():
    vocab = Vocabulary.from_trees([parse_tree(TEXT), parse_tree("(1 (1 not) (2 good))")])
    assert vocab.words[2] == "good" and "It" in vocab
    with pytest.raises(TypeError, match="not one string"):
        Vocabulary("a b c")
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary([], min_count=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary([], max_size=1)
