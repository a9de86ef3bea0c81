"""Character features for the entity tagger, and the tagger itself: a linear-chain CRF over characters.

KLUE-NER marks entities on characters (BIO tags), so the tagger labels every character of a text with one of
`LABELS`. Its features (TEMPLATE_GROUPS) are built for a whole batch of texts at once as polars expressions: the
character, its neighbours and bigrams, the kinds of the characters around it; the whitespace word it is in (the
word, its stem without particles and their last letters, the words before and after it); MeCab's morpheme it is
in and the morphemes around it; and the word lists (lexicon) as features, not as rules: inside a known
organisation or place, a title in the next word. Training (python-crfsuite, training/entities.py) reads the same
frame as `name=value` strings.

Tagging does not go through python-crfsuite: `CrfWeights` holds the model's weights as arrays, `emissions` looks
every character's features up by their hashes, and `viterbi` decodes all lines of the batch at once, one numpy
step per character position. tests/test_ner.py checks it gives python-crfsuite's labels.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from newsflow.transforms.lexicon import SURNAMES, Lexicon
from newsflow.transforms.morphemes import morpheme_frame

ENTITY_TYPES = ("PS", "OG", "LC")
# particles and endings a word may end with; what is left is its stem (삼성전자는 -> 삼성전자)
PARTICLES = (
    "에서의",
    "으로는",
    "에게서",
    "이라는",
    "이라고",
    "까지",
    "부터",
    "에서",
    "에게",
    "께서",
    "으로",
    "와의",
    "과의",
    "에는",
    "로는",
    "에도",
    "이나",
    "이다",
    "였다",
    "라는",
    "라고",
    "처럼",
    "보다",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "와",
    "과",
    "로",
    "도",
    "만",
    "나",
    "랑",
)
LABELS = ("O", *(f"{prefix}-{kind}" for kind in ENTITY_TYPES for prefix in "BI"))
START, END = "^", "$"  # what stands for the characters before the start and after the end of a text
# the feature templates, by what they look at (`_features` defines each)
TEMPLATE_GROUPS = {
    "characters": ("c0", "p1", "n1", "p2", "n2", "p1c", "cn1", "k"),
    "words": ("cat", "at", "w", "we", "pw", "nw", "nwf", "st", "ss", "sb1", "sb2", "sbs", "sn"),
    "lexicon": ("so", "sl", "t", "nt", "go", "gl"),
    "morphemes": ("mp", "ms", "mw", "mpp", "mpn", "mwp", "mwn", "mtp", "mtn"),  # MeCab's
}
TEMPLATES = tuple(name for group in TEMPLATE_GROUPS.values() for name in group)
MORPHEME_TEMPLATES = frozenset(TEMPLATE_GROUPS["morphemes"])


def char_frame(texts: Sequence[str]) -> pl.DataFrame:
    """One row per character: doc (index into texts), i (its offset in the text), c (the character)."""
    return (
        pl.DataFrame({"c": list(texts)}, schema={"c": pl.String})
        .with_row_index("doc")
        .with_columns(pl.col("doc").cast(pl.Int32), pl.col("c").str.split(""))
        .explode("c")
        .filter(pl.col("c").is_not_null() & (pl.col("c") != ""))
        .with_columns(i=_offset_in_run("doc"))
    )


def _offset_in_run(key: str) -> pl.Expr:
    """0, 1, 2 ... along each run of equal `key` values (the frame is in key order): a row's place in its run."""
    row = pl.int_range(pl.len(), dtype=pl.Int32)
    first = pl.col(key).ne_missing(pl.col(key).shift(1))
    return row - pl.when(first).then(row).forward_fill()


def _kind_of_char(c: pl.Expr) -> pl.Expr:
    """H hangul, A latin, D digit, S whitespace, P anything else."""
    return (
        pl.when(c.str.contains(r"^[가-힣]$"))
        .then(pl.lit("H"))
        .when(c.str.contains(r"^[A-Za-z]$"))
        .then(pl.lit("A"))
        .when(c.str.contains(r"^[0-9]$"))
        .then(pl.lit("D"))
        .when(c.str.contains(r"^\s$"))
        .then(pl.lit("S"))
        .otherwise(pl.lit("P"))
    )


def _shifted(column: str, k: int, pad: str) -> pl.Expr:
    """The value k rows on (k < 0: back) within the same doc, `pad` past its start or end."""
    same_doc = pl.col("doc").shift(-k) == pl.col("doc")
    return pl.when(same_doc).then(pl.col(column).shift(-k)).otherwise(pl.lit(pad))


def _lexicon_hits(texts: Sequence[str], chars: pl.DataFrame, names: Sequence[str], label: str) -> pl.DataFrame:
    """doc, i and `label` ("B" where an entry of `names` starts, "I" inside one) for the characters in any
    occurrence of a name in a text."""
    schema = {"doc": pl.Int32, "i": pl.Int32, label: pl.String}
    if not names:
        return pl.DataFrame(schema=schema)
    patterns = sorted(set(names))
    found = (
        pl.DataFrame({"text": list(texts)}, schema={"text": pl.String})
        .with_row_index("doc")
        .select(
            pl.col("doc").cast(pl.Int32),
            at=pl.col("text").str.find_many(patterns, overlapping=True),
            name=pl.col("text").str.extract_many(patterns, overlapping=True),
        )
        .explode("at", "name")
        .drop_nulls("at")
    )
    # find_many gives byte offsets: the character at each byte offset comes from the character frame
    offsets = chars.select(
        "doc",
        "i",
        at=(pl.col("c").str.len_bytes().cum_sum() - pl.col("c").str.len_bytes()).over("doc").cast(pl.UInt32),
    )
    return (
        found.with_columns(pl.col("at").cast(pl.UInt32))
        .join(offsets, on=["doc", "at"])
        .select("doc", i=pl.int_ranges("i", pl.col("i") + pl.col("name").str.len_chars(), dtype=pl.Int32), first="i")
        .explode("i")
        .group_by("doc", "i")
        .agg((pl.col("i") == pl.col("first")).any().alias(label))
        .select("doc", "i", pl.when(label).then(pl.lit("B")).otherwise(pl.lit("I")).alias(label))
    )


def _morphemes(texts: Sequence[str]) -> pl.DataFrame:
    """doc, i and the MeCab morpheme each character is in: its part of speech with the character's place in it
    (mp: NNP-B), all the tags of a compound (mt: XSV+ETM), its semantic class (ms) and surface (mw), and the
    surface and part of speech of the morphemes before (mwp, mtp) and after it (mwn, mtn)."""
    same_before, same_after = pl.col("doc").shift(1) == pl.col("doc"), pl.col("doc").shift(-1) == pl.col("doc")
    return (
        morpheme_frame(texts)
        .select(
            "doc", "pos", "tags", "semantic", "surface",
            mwp=pl.when(same_before).then(pl.col("surface").shift(1)).otherwise(pl.lit(START)),
            mwn=pl.when(same_after).then(pl.col("surface").shift(-1)).otherwise(pl.lit(END)),
            mtp=pl.when(same_before).then(pl.col("pos").shift(1)).otherwise(pl.lit(START)),
            mtn=pl.when(same_after).then(pl.col("pos").shift(-1)).otherwise(pl.lit(END)),
            i=pl.int_ranges("start", "end", dtype=pl.Int32), start="start",
        )
        .explode("i")
        .select(
            "doc", "i",
            mp=pl.concat_str("pos", pl.when(pl.col("i") == pl.col("start")).then(pl.lit("-B")).otherwise(pl.lit("-I"))),
            mt="tags",
            ms=pl.when(pl.col("semantic").is_in(["인명", "지명"])).then("semantic"),
            mw="surface", mwp="mwp", mwn="mwn", mtp="mtp", mtn="mtn",
        )
    )  # fmt: skip


def _strip(word: pl.Expr) -> pl.Expr:
    """The word without the particle and punctuation it ends with (삼성전자는 -> 삼성전자, CEO)" -> CEO); a word
    that is all particle stays whole."""
    bare = word.str.replace(_PARTICLE_TAIL, "")
    return pl.when(bare == "").then(word).otherwise(bare)


_CLOSERS = "\"'”’)\\].,·:;!?"
_PARTICLE_TAIL = f"[{_CLOSERS}]*(?:" + "|".join(PARTICLES) + f"){{0,2}}[{_CLOSERS}]*$"  # 부사장에게서도: two


def analyse(
    texts: Sequence[str], lexicon: Lexicon, templates: Collection[str] = TEMPLATES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The feature frame of the texts (see `feature_frame`), with the given templates only, and their words.
    MeCab runs only when a template needs its morphemes (without it no word is proper, a person or verb-like).

    Words (what whitespace separates, in text order): doc, start and end (character offsets), w (the word), bare
    (without its closing particle or punctuation), proper (MeCab finds a proper noun or latin letters in it),
    person (a name, to MeCab), common (one common noun MeCab knows, particles aside: 부친은), verb_like (a
    predicate's ending in it: 방한한, 따르면), title (it is, or ends with, a title), titled (it starts with one:
    대통령직), so and sl (the word lists have it as an organisation, a place).
    Per-word values reach the characters by gathering on the word's number, not by joins."""
    c, kind, pos = pl.col("c"), pl.col("kind"), pl.col("mp")
    chars = char_frame(texts).with_columns(kind=_kind_of_char(c))
    if MORPHEME_TEMPLATES & set(templates):
        chars = chars.join(_morphemes(texts), on=["doc", "i"], how="left", maintain_order="left")
    else:
        chars = chars.with_columns(
            pl.lit(None, pl.String).alias(name) for name in ("mp", "mt", "ms", "mw", "mwp", "mwn", "mtp", "mtn")
        )
    chars = chars.with_columns(starts_word=kind.ne("S") & (pl.col("i").eq(0) | kind.shift(1).eq("S"))).with_columns(
        word=pl.when(kind.ne("S")).then(pl.col("starts_word").cum_sum().cast(pl.Int32) - 1)
    )
    # a word's flags: whether any of its characters has one, from running counts at its first and last character
    flags = chars.select(
        "starts_word",
        proper=(pos.str.starts_with("NNP") | pos.str.starts_with("SL")).fill_null(False),
        person=pl.col("ms").eq("인명").fill_null(False),
        ending=pl.col("mt").str.contains("(?:^|\\+)(?:ETM|EP|EF)").fill_null(False),
        connective=pos.str.starts_with("EC").fill_null(False),
        morpheme=(pos.str.ends_with("-B") & ~pos.str.starts_with("J")).fill_null(False),
        noun=pos.eq("NNG-B").fill_null(False),
    )
    first = np.flatnonzero(flags["starts_word"].to_numpy())
    ends = np.r_[first[1:], len(flags)][: len(first)]  # to the next word's first character (spaces count none)
    count = {
        name: np.diff(np.r_[0, flags[name].cast(pl.Int32).to_numpy().cumsum()][np.c_[first, ends]], axis=1)[:, 0]
        for name in ("proper", "person", "ending", "connective", "morpheme", "noun")
    }
    has = {name: number > 0 for name, number in count.items()}
    doc = pl.Series("doc", range(len(texts)), pl.Int32)
    words = (
        pl.DataFrame({"doc": doc, "w": list(texts)}, schema={"doc": pl.Int32, "w": pl.String})
        .with_columns(pl.col("w").str.extract_all(r"\S+"))
        .explode("w")
        .drop_nulls("w")
        .with_columns(
            start=chars["i"].gather(first),
            proper=pl.Series(has["proper"]),
            person=pl.Series(has["person"]),
            common=pl.Series((count["morpheme"] == 1) & (count["noun"] == 1)),
            verb_like=pl.Series(has["ending"] | has["connective"])
            & (pl.lit(pl.Series(has["ending"])) | pl.col("w").str.contains("[아어여고면며서게지도]$")),
        )
        .with_columns(
            end=pl.col("start") + pl.col("w").str.len_chars().cast(pl.Int32),
            pw=pl.when(pl.col("doc").shift(1) == pl.col("doc")).then(pl.col("w").shift(1)).otherwise(pl.lit(START)),
            nw=pl.when(pl.col("doc").shift(-1) == pl.col("doc")).then(pl.col("w").shift(-1)).otherwise(pl.lit(END)),
            bare=_strip(pl.col("w")),
        )
        .with_columns(
            title=pl.col("bare").is_in(lexicon.title_set) | pl.col("bare").str.contains(lexicon.title_suffix),
            titled=pl.col("bare").str.contains(lexicon.title_prefix),
            next_title=pl.col("nw").str.contains(lexicon.title_prefix),
            so=pl.col("bare").is_in(list(lexicon.organisations)),
            sl=pl.col("bare").is_in(list(lexicon.locations)),
            sz=pl.col("bare").str.len_chars().cast(pl.Int32),
            wl=pl.col("w").str.len_chars().cast(pl.Int32),
        )
    )
    word = chars["word"]
    per_word = ("w", "pw", "nw", "title", "next_title", "bare", "so", "sl", "sz", "wl")
    frame = chars.with_columns(
        *(words[name].gather(word) for name in per_word),
        p1=_shifted("c", -1, START), p2=_shifted("c", -2, START),
        n1=_shifted("c", 1, END), n2=_shifted("c", 2, END),
        kp=_shifted("kind", -1, START), kn=_shifted("kind", 1, END),
        mp1=_shifted("mp", -1, START), mn1=_shifted("mp", 1, END),
        wi=pl.col("i") - words["start"].gather(word),
    )  # fmt: skip
    for names, label in ((lexicon.organisations, "go"), (lexicon.locations, "gl")):
        if label in templates:
            frame = frame.join(
                _lexicon_hits(texts, chars, sorted(names), label), on=["doc", "i"], how="left", maintain_order="left"
            )
    return _features(frame, templates), words.select(
        "doc", "start", "end", "w", "bare", "proper", "person", "common", "verb_like", "title", "titled", "so", "sl"
    )


def feature_frame(texts: Sequence[str], lexicon: Lexicon, templates: Collection[str] = TEMPLATES) -> pl.DataFrame:
    """doc, i, c (the character), and one String column per feature template (its value, null where it does not
    apply), per character."""
    return analyse(texts, lexicon, templates)[0]


def _features(frame: pl.DataFrame, names: Collection[str]) -> pl.DataFrame:
    """The templates' values from the columns `analyse` prepared, in TEMPLATES order."""
    c = pl.col("c")
    in_word = pl.col("w").is_not_null()
    at = pl.when(pl.col("wl") == 1).then(pl.lit("S")).when(pl.col("wi") == 0).then(pl.lit("B"))
    at = at.when(pl.col("wi") == pl.col("wl") - 1).then(pl.lit("E")).otherwise(pl.lit("M"))
    word_end = pl.col("w").str.slice(-2)
    templates = {
        "c0": c,
        "p1": pl.col("p1"),
        "n1": pl.col("n1"),
        "p2": pl.col("p2"),
        "n2": pl.col("n2"),
        "p1c": pl.concat_str("p1", "c"),
        "cn1": pl.concat_str("c", "n1"),
        "k": pl.concat_str("kp", "kind", "kn"),
        "cat": pl.when(in_word).then(pl.concat_str("c", at)),
        "at": pl.when(in_word).then(pl.concat_str(at, pl.col("wl").clip(1, 5).cast(pl.String))),
        "w": pl.col("w"),
        "we": pl.when(in_word).then(word_end),
        "pw": pl.when(in_word).then(pl.col("pw").str.slice(-2)),
        "nw": pl.when(in_word).then(pl.col("nw").str.slice(0, 2)),
        "nwf": pl.when(in_word).then(pl.col("nw")),
        "st": pl.when(in_word).then(pl.col("bare")),
        "ss": pl.when(in_word).then(
            pl.when(pl.col("wi") < pl.col("sz")).then(pl.lit("in")).otherwise(pl.lit("out"))
            + pl.when(pl.col("wi") == pl.col("sz") - 1).then(pl.lit("E")).otherwise(pl.lit(""))
        ),
        "so": pl.when(pl.col("so") & (pl.col("wi") < pl.col("sz"))).then(pl.lit("1")),
        "sl": pl.when(pl.col("sl") & (pl.col("wi") < pl.col("sz"))).then(pl.lit("1")),
        "t": pl.when(pl.col("title")).then(pl.lit("1")),
        "nt": pl.when(pl.col("next_title")).then(at),
        "sn": pl.when(c.is_in(list(SURNAMES)) & pl.col("wi").eq(0)).then(pl.col("wl").clip(1, 5).cast(pl.String)),
        "go": pl.col("go"),
        "gl": pl.col("gl"),
        "mp": pl.col("mp"),
        "ms": pl.col("ms"),
        "mw": pl.col("mw"),
        "mpp": pl.concat_str("mp1", "mp"),
        "mpn": pl.concat_str("mp", "mn1"),
        "mwp": pl.col("mwp"),
        "mwn": pl.col("mwn"),
        "mtp": pl.col("mtp"),
        "mtn": pl.col("mtn"),
        # the stem's last letters (서울시는 -> 시, 삼성전자는 -> 전자): where place and organisation names end
        "sb1": pl.when(in_word).then(pl.col("bare").str.slice(-1)),
        "sb2": pl.when(in_word).then(pl.col("bare").str.slice(-2)),
        "sbs": pl.when(in_word).then(pl.concat_str(pl.col("bare").str.slice(-1), pl.lit("|"), at)),
    }
    return frame.select("doc", "i", "c", *(templates[name].alias(name) for name in TEMPLATES if name in names))


def feature_lists(
    texts: Sequence[str], lexicon: Lexicon, templates: Collection[str] = TEMPLATES
) -> list[list[list[str]]]:
    """Per text, per character, its features as `template=value` (what python-crfsuite trains on)."""
    frame = feature_frame(texts, lexicon, templates)
    names = [name for name in frame.columns if name not in ("doc", "i", "c")]
    per_char = frame.select(
        "doc", f=pl.concat_list(pl.concat_str(pl.lit(f"{name}="), name) for name in names).list.drop_nulls()
    )
    grouped = per_char.group_by("doc", maintain_order=True).agg("f")
    out: list[list[list[str]]] = [[] for _ in texts]
    for doc, features in grouped.iter_rows():
        out[doc] = features
    return out


@dataclass(frozen=True)
class CrfWeights:
    """A trained linear-chain CRF: state weights per (attribute, label) and transition weights label -> label."""

    labels: tuple[str, ...]
    attributes: pl.Series  # String, one per row of `state`
    state: np.ndarray  # float32 (attributes + 1, labels); the last row (no attribute) is zeros
    transitions: np.ndarray  # float32 (labels, labels), from row to column

    @classmethod
    def of(
        cls,
        labels: Sequence[str],
        state_features: dict[tuple[str, str], float],
        transitions: dict[tuple[str, str], float],
    ) -> CrfWeights:
        """From a model's weights as python-crfsuite dumps them: {(attribute, label): w}, {(from, to): w}."""
        label_index = {label: k for k, label in enumerate(labels)}
        attributes = sorted({attribute for attribute, _ in state_features})
        attribute_index = {attribute: k for k, attribute in enumerate(attributes)}
        state = np.zeros((len(attributes) + 1, len(labels)), dtype=np.float32)
        for (attribute, label), weight in state_features.items():
            state[attribute_index[attribute], label_index[label]] = weight
        moves = np.zeros((len(labels), len(labels)), dtype=np.float32)
        for (before, after), weight in transitions.items():
            moves[label_index[before], label_index[after]] = weight
        return cls(tuple(labels), pl.Series("attribute", attributes, pl.String), state, moves)

    @cached_property
    def templates(self) -> frozenset[str]:
        """The feature templates the model has weights for: the only ones worth computing."""
        return frozenset(self.attributes.str.extract(r"^([^=]*)=", 1).unique().to_list())

    @cached_property
    def keys(self) -> pl.Series:
        """The attributes' keys (UInt64), in `state` row order: an attribute `name=value` is the hash of its value
        seeded by its template's name, as `emissions` hashes the feature frame's columns."""
        names = self.attributes.str.extract(r"^([^=]*)=", 1)
        values = self.attributes.str.replace(r"^[^=]*=", "")
        keys = np.zeros(len(values), dtype=np.uint64)
        for name in names.unique().to_list():
            of_name = names == name
            keys[of_name.to_numpy()] = values.filter(of_name).hash(seed=_seed(name)).to_numpy()
        return pl.Series("key", keys)


def emissions(frame: pl.DataFrame, weights: CrfWeights) -> np.ndarray:
    """float32 (characters, labels): the sum of the state weights of each character's features."""
    names = [name for name in frame.columns if name not in ("doc", "i", "c")]
    missing = len(weights.attributes)
    rows = pl.Series("row", range(missing), pl.UInt32)
    found = frame.select(
        pl.when(pl.col(name).is_not_null())
        .then(pl.col(name).hash(seed=_seed(name)).replace_strict(weights.keys, rows, default=missing))
        .otherwise(missing)
        for name in names
    )
    scores = np.zeros((frame.height, len(weights.labels)), dtype=np.float32)
    for name in names:
        index = found[name].to_numpy()
        hits = np.flatnonzero(index != missing)  # a character has one value per template: no row twice
        scores[hits] += weights.state[index[hits]]
    return scores


def _seed(template: str) -> int:
    """The hash seed of a template's values: one per template name, the same in every process."""
    return zlib.crc32(template.encode())


def viterbi(scores: np.ndarray, starts: np.ndarray, lengths: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """The best label of each row of `scores` (rows, labels), for sequences of rows (`starts`, `lengths`),
    all sequences at once: one step per position, over the sequences that long."""
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    best = np.zeros(len(scores), dtype=np.int8)
    if not len(starts):
        return best
    back = np.zeros(scores.shape, dtype=np.int8)
    delta = scores[starts].copy()
    longest = int(lengths[0])
    active = np.searchsorted(-lengths, -np.arange(longest), side="left")  # sequences longer than t
    step = np.empty((len(starts), *moves.shape), dtype=np.float32)  # [sequence, from, to]
    for t in range(1, longest):
        n = active[t]
        rows = starts[:n] + t
        np.add(delta[:n, :, None], moves[None], out=step[:n])
        came_from = step[:n].argmax(axis=1)
        back[rows] = came_from
        delta[:n] = np.take_along_axis(step[:n], came_from[:, None, :], axis=1)[:, 0, :] + scores[rows]
    current = delta.argmax(axis=1)  # each sequence's last label (its delta stopped at its last step)
    for t in range(longest - 1, -1, -1):
        n = active[t]
        rows = starts[:n] + t
        going_on = np.flatnonzero(lengths[:n] - 1 > t)
        current[going_on] = back[rows[going_on] + 1, current[going_on]]
        best[rows] = current[:n]
    return best


def tag(texts: Sequence[str], lexicon: Lexicon, weights: CrfWeights) -> list[list[tuple[int, int, str]]]:
    """Per text, its entities as (start, end exclusive, type) character spans, type one of ENTITY_TYPES; each
    line of a text is tagged on its own."""
    return tag_words(texts, lexicon, weights)[0]


def tag_words(
    texts: Sequence[str], lexicon: Lexicon, weights: CrfWeights
) -> tuple[list[list[tuple[int, int, str]]], pl.DataFrame]:
    """What `tag` finds, and the words of the texts (see `analyse`)."""
    frame, words = analyse(texts, lexicon, weights.templates)
    labels = viterbi(emissions(frame, weights), *_lines(frame), weights.transitions)
    kinds = np.array([label.partition("-")[2] for label in weights.labels])
    begins = np.array([label.startswith("B-") for label in weights.labels])
    doc, at = frame["doc"].to_numpy(), frame["i"].to_numpy()
    kind, begin = kinds[labels], begins[labels]
    inside = kind != ""
    # a character goes on with the entity of the one before it: same text, same type, not a B- label
    goes_on = inside & ~begin & np.r_[False, (kind[1:] == kind[:-1]) & (doc[1:] == doc[:-1])]
    first, last = inside & ~goes_on, inside & ~np.r_[goes_on[1:], False]
    found: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    for d, start, end, k in zip(doc[first], at[first], at[last] + 1, kind[first], strict=True):
        found[d].append((int(start), int(end), str(k)))
    return found, words


def _lines(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row starts and lengths of each line of each text in the feature frame (rows in text order)."""
    breaks = frame.select(
        start=(pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
        | (pl.col("c").shift(1) == "\n").fill_null(False)
    )
    starts = np.flatnonzero(breaks["start"].to_numpy())
    lengths = np.diff(np.r_[starts, frame.height])
    return starts.astype(np.int64), lengths.astype(np.int64)
