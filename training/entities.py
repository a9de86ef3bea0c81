"""Train newsflow's entity tagger on KLUE-NER and write it where the package loads it.

Run from the project root (`make model` does):

    .venv/bin/python training/entities.py                      # both KLUE files -> newsflow's model file
    .venv/bin/python training/entities.py --out /tmp/m.crfsuite --data /path/to/klue-ner

The tagger is a linear-chain CRF over characters (python-crfsuite, L-BFGS with L1 and L2 penalties); its features
are newsflow.transforms.ner.feature_frame's, built with the bundled lexicon. It learns PS, OG and LC from the
wikitree news sentences and the movie-review sentences of KLUE-NER v1.1 dev (CC BY-SA 4.0, KLUE benchmark, Park
et al. 2021): a model trained on them ships under that licence, with that credit (profiles/model/README.md).
Training is deterministic: the same data, features and parameters give the same file.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsflow.drafting.rules import load_lexicon  # noqa: E402
from newsflow.profiles import ENTITY_MODEL  # noqa: E402
from newsflow.transforms.lexicon import Lexicon  # noqa: E402
from newsflow.transforms.ner import TEMPLATES, feature_lists  # noqa: E402
from training.klue import NEWS, REVIEWS, Sentence, char_labels, default_data_dir, read_klue  # noqa: E402

# L1 keeps the model small (most character n-grams get no weight); L2 the weights that stay modest
PARAMS = {"c1": 0.1, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True}


def train(
    sentences: Sequence[Sentence],
    out: Path,
    lexicon: Lexicon,
    params: dict | None = None,
    templates: Collection[str] = TEMPLATES,
) -> Path:
    """Train the tagger on the sentences (text, KLUE spans), with the given feature templates, and write it to
    `out`."""
    import pycrfsuite

    texts = [text for text, _ in sentences]
    trainer = pycrfsuite.Trainer(verbose=False)
    for features, (text, spans) in zip(feature_lists(texts, lexicon, templates), sentences, strict=True):
        trainer.append(features, char_labels(text, spans))
    trainer.set_params({**PARAMS, **(params or {})})
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out))
    return out


def training_sentences(data: Path) -> list[Sentence]:
    """The news sentences, then the movie-review sentences."""
    return read_klue(data / NEWS) + read_klue(data / REVIEWS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of the KLUE-NER tsv files")
    parser.add_argument("--out", type=Path, default=ENTITY_MODEL, help="where to write the model")
    args = parser.parse_args(argv)
    missing = [name for name in (NEWS, REVIEWS) if not (args.data / name).is_file()]
    if missing:
        print(f"KLUE-NER data not found in {args.data} ({', '.join(missing)}); pass --data DIR", file=sys.stderr)
        return 2
    sentences = training_sentences(args.data)
    start = time.perf_counter()
    train(sentences, args.out, load_lexicon())
    print(
        f"trained on {len(sentences):,} sentences in {time.perf_counter() - start:.0f} s: "
        f"{args.out} ({args.out.stat().st_size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
