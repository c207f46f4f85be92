from knowledge.text import SparseEncoder, analyze, fold, normalize_query, term_id


def test_fold_strips_accents_and_case() -> None:
    assert fold("Élève À Côté") == "eleve a cote"


def test_elisions_and_stop_words_are_removed() -> None:
    assert analyze("l'arbre d'un élève qu'on aime") == analyze("arbre élève aime")


def test_accented_and_plain_spellings_meet() -> None:
    # students often type without accents: both must give the same terms
    assert analyze("les entiers relatifs en complément à deux") == analyze("les entiers relatifs en complement a deux")


def test_stemming_groups_inflections() -> None:
    assert analyze("piles")[0] == analyze("pile")[0]
    assert analyze("dépiler")[0] == analyze("dépilé")[0]


def test_chat_filler_carries_no_terms() -> None:
    assert analyze("c'est quoi svp ?") == []


def test_document_weights_saturate_with_term_frequency() -> None:
    enc = SparseEncoder()
    once = enc.encode_document("pile")
    many = enc.encode_document("pile pile pile pile pile")
    assert once.indices == many.indices == [term_id(analyze("pile")[0])]
    assert once.values[0] < many.values[0] < 1.2 + 1  # BM25 tf part is bounded by k1 + 1


def test_query_terms_weigh_one_and_are_sorted() -> None:
    sparse = SparseEncoder().encode_query("arbre binaire de recherche")
    assert sparse.indices == sorted(sparse.indices)
    assert sparse.values == [1.0] * len(sparse.indices)


def test_stemming_is_safe_from_many_threads() -> None:
    """Request threads analyse text at the same time (API under load): every thread gets the stems alone gets."""
    import itertools
    from concurrent.futures import ThreadPoolExecutor

    from knowledge.text import _stem

    letters = "abcdefghij"
    words = [f"{''.join(w)}ationnellement" for w in itertools.product(letters, repeat=4)][:6000]
    expected = [str(__import__("snowballstemmer").stemmer("french").stemWord(w)) for w in words]
    _stem.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(_stem, words, chunksize=16))
    assert got == expected


def test_queries_get_standard_spellings_and_the_programmes_french_terms() -> None:
    assert normalize_query("c koi un BFS ?") == "c'est quoi un BFS (parcours en largeur) ?"
    assert normalize_query("pk mon Deadlock") == "pourquoi mon Deadlock (interblocage)"
    assert normalize_query("trier avec un merge sort") == "trier avec un merge sort (tri fusion)"
    # French words are left alone, and so are English words inside other words
    assert normalize_query("la queue de la file") == "la queue de la file"
    assert normalize_query("stacks et dictionnaire") == "stacks et dictionnaire"
