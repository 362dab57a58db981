"""Slow, obviously correct references for the kernels (compared in test_kernels.py and
test_kernels_naive.py)."""

from __future__ import annotations

import math

import numpy as np


def smallest_by_position(keys: np.ndarray, m: int) -> set[int]:
    """Positions of the m smallest keys; equal keys taken in position order."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i], i))
    return set(order[: max(m, 0)])


def prune_by_noise_rate(probs: np.ndarray, labels: np.ndarray, prune_counts, eligible) -> set[int]:
    """cleanlab's _prune_by_count for every class, ties by position."""
    flagged: set[int] = set()
    K = probs.shape[1]
    for k in range(K):
        members = np.flatnonzero(labels == k)
        if not eligible[k]:
            continue
        for j in range(K):
            if j == k or prune_counts[j, k] <= 0:
                continue
            margins = probs[members, j] - probs[members, k]
            chosen = smallest_by_position(-margins, int(prune_counts[j, k]))
            flagged |= {int(members[c]) for c in chosen}
    return flagged


def prediction_matches_label(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    raised = probs.copy()
    raised[np.arange(len(labels)), labels] += 1e-6
    return raised.argmax(axis=1) == labels


# ---- references for every other kernel (compared in test_kernels_naive.py) ------------
# Each loops over tokens in plain Python, one obvious step at a time. Probabilities
# come as a (T, K) matrix, or as the (T,) span vector p read as [1 - p, p] (computed
# in p's dtype, as the kernels read it).


def probability(P: np.ndarray, i: int, k: int):
    """Token i's probability of class k (span data: [1 - p, p])."""
    if P.ndim == 2:
        return P[i, k]
    return P[i] if k == 1 else P.dtype.type(1) - P[i]


def n_classes(P: np.ndarray) -> int:
    return P.shape[1] if P.ndim == 2 else 2


def row(P: np.ndarray, i: int) -> list:
    return [probability(P, i, k) for k in range(n_classes(P))]


def first_argmax(values) -> int:
    """np.argmax: the first of the largest values."""
    best = 0
    for k, value in enumerate(values):
        if value > values[best]:
            best = k
    return best


def is_invalid(value, low, high) -> bool:
    return not (low <= value <= high)  # NaN compares False


def count_invalid_probabilities(values, low, high) -> int:
    return sum(is_invalid(v, low, high) for v in np.asarray(values).reshape(-1).tolist())


def first_invalid_probability(values, low, high) -> int:
    for i, v in enumerate(np.asarray(values).reshape(-1).tolist()):
        if is_invalid(v, low, high):
            return i
    return -1


def first_label_out_of_range(labels, K: int) -> int:
    for i, label in enumerate(labels.tolist()):
        if not 0 <= label < K:
            return i
    return -1


def first_decreasing_offset(offsets) -> int:
    values = offsets.tolist()
    for i in range(len(values) - 1):
        if values[i + 1] < values[i]:
            return i
    return -1


def narrow_labels(labels, K: int) -> tuple[list[int], int]:
    """(labels with those outside 0..K-1 written as 0, how many were outside)."""
    out = [label if 0 <= label < K else 0 for label in labels.tolist()]
    return out, sum(not 0 <= label < K for label in labels.tolist())


def class_counts(labels, K: int) -> list[int]:
    return [sum(1 for label in labels.tolist() if label == k) for k in range(K)]


def argmax_rows(P, positions) -> list[int]:
    return [first_argmax(row(P, int(i))) for i in positions]


def predicted_neq_given(P, labels) -> list[bool]:
    return [first_argmax(row(P, i)) != labels[i] for i in range(len(labels))]


def prediction_matches_label_with_margin(P, labels, margin) -> list[bool]:
    """cleanlab count._reduce_issues: the argmax once p[given] is raised by margin."""
    matches = []
    for i in range(len(labels)):
        raised = row(P, i)
        raised[labels[i]] = raised[labels[i]] + margin
        matches.append(first_argmax(raised) == labels[i])
    return matches


def count_confident_disagreements(P, labels, thresholds) -> int:
    count = 0
    for i in range(len(labels)):
        predicted = first_argmax(row(P, i))
        if predicted != labels[i] and probability(P, i, predicted) >= thresholds[predicted]:
            count += 1
    return count


def confident_joint(P, labels, thresholds):
    """Raw K x K counts [guess, given] and the off-diagonal mask (cleanlab
    compute_confident_joint before calibration): the one confident class, or with
    several, the argmax of the row; a token with none is not counted."""
    K = n_classes(P)
    counts = np.zeros((K, K), np.int64)
    off_diagonal = []
    for i in range(len(labels)):
        confident = [k for k in range(K) if probability(P, i, k) >= thresholds[k]]
        if not confident:
            off_diagonal.append(False)
            continue
        guess = confident[0] if len(confident) == 1 else first_argmax(row(P, i))
        counts[guess, labels[i]] += 1
        off_diagonal.append(guess != labels[i])
    return counts, off_diagonal


def noise_rate_candidates(P, labels, margin):
    """(positions with p[j] > p[given] for some j, above[k, j], disagree_below[k, j],
    entries: (position, j, bucket of the key -(p[j] - p[given])) for each such j)."""
    K = n_classes(P)
    above = np.zeros((K, K), np.int64)
    disagree_below = np.zeros((K, K), np.int64)
    matches = prediction_matches_label_with_margin(P, labels, margin)
    positions, entries = [], []
    for i, k in enumerate(labels.tolist()):
        ups = {j: probability(P, i, j) - probability(P, i, k) > 0 for j in range(K) if j != k}
        if any(ups.values()):
            positions.append(i)
        for j, up in ups.items():
            above[k, j] += up
            disagree_below[k, j] += (not matches[i]) and not up
            if up:
                key = -(probability(P, i, j) - probability(P, i, k))
                entries.append((i, j, key_bucket(key)))
    return positions, above, disagree_below, entries


def key_bucket(key) -> int:
    """The bucket of a cut key: 1024 equal buckets over [-1.5, 1.5], ends clamped."""
    scaled = (float(key) + 1.5) * (1024 / 3.0)
    return int(min(max(scaled, 0.0), 1023.0))


def prune_by_class(P, labels, n_to_prune, eligible) -> set[int]:
    """cleanlab _prune_by_class for every class: the n_to_prune[k] tokens labelled k with
    the smallest p[k], ties by position."""
    flagged: set[int] = set()
    for k in range(n_classes(P)):
        if not eligible[k]:
            continue
        members = [i for i in range(len(labels)) if labels[i] == k]
        keys = [probability(P, i, k) for i in members]
        flagged |= {members[c] for c in smallest_by_position(keys, int(n_to_prune[k]))}
    return flagged


def sentences(scores, offsets) -> list[list]:
    return [scores[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


def sentence_min(scores, offsets, empty_score) -> list:
    return [min(s) if s else empty_score for s in sentences(scores, offsets)]


def sentence_mean(scores, offsets, empty_score) -> list:
    return [sum(s) / len(s) if s else empty_score for s in sentences(scores, offsets)]


def sentence_softmin(scores, offsets, temperature, empty_score) -> list:
    """cleanlab _softmin_sentence_score: <s, softmax((1 - s) / t)>, in float64."""
    out = []
    for s in sentences(scores, offsets):
        if not s:
            out.append(empty_score)
            continue
        exponents = [(1 - v) / temperature for v in s]
        shift = max(exponents)
        weights = [math.exp(e - shift) for e in exponents]
        out.append(sum(v * w for v, w in zip(s, weights)) / sum(weights))
    return out


def self_confidence(P, labels) -> list:
    return [probability(P, i, labels[i]) for i in range(len(labels))]


def normalized_margin(P, labels) -> list:
    """(p[given] - max of the other classes + 1) / 2, in the probabilities' dtype."""
    one, two = P.dtype.type(1), P.dtype.type(2)
    out = []
    for i, given in enumerate(labels.tolist()):
        others = [probability(P, i, k) for k in range(n_classes(P)) if k != given]
        out.append((probability(P, i, given) - max(others) + one) / two)
    return out


def entropy_over_confidence(P, labels, log_k, clip_low) -> list[float]:
    """Entropy of the row over log K, divided by max(p[given], clip_low)."""
    out = []
    for i, given in enumerate(labels.tolist()):
        entropy = -sum(float(p) * math.log(float(p)) for p in row(P, i) if p > 0)
        clipped = max(float(probability(P, i, given)), float(P.dtype.type(clip_low)))
        out.append(entropy / log_k / clipped)
    return out


def adjusted_probabilities(P, thresholds) -> list[list[float]]:
    """cleanlab _subtract_confident_thresholds: p - t + max(t), each row renormalised."""
    shift = max(thresholds.tolist())
    out = []
    for i in range(P.shape[0]):
        adjusted = [float(p) - t + shift for p, t in zip(row(P, i), thresholds.tolist())]
        out.append([a / sum(adjusted) for a in adjusted])
    return out


# ---- span-level issues (compared in test_span_issues.py) -------------------------------


def naive_entities(tag_names: list[str], scheme: str) -> list[list]:
    """Entities ``[start, end, type, malformed]`` of one sentence's tag names.

    ``scheme`` is "IO", "BIO" or "BIOES" (tags then use B/I/E/S prefixes). Read token
    by token: a tag continues the entity of the token before when that token's tag
    is open (B or I; any inside tag in IO) of the same type and this one is I (or
    E); a forbidden I/E right after an entity token joins that entity (malformed);
    any other inside tag begins an entity (malformed if it is I or E outside IO).
    """
    entities: list[list] = []
    previous = None  # (prefix, type) of the token before, None for O / start
    for j, name in enumerate(tag_names):
        if name == "O":
            if previous is not None and scheme == "BIOES" and previous[0] in "BI":
                entities[-1][3] = True
            previous = None
            continue
        prefix, kind = name.split("-", 1)
        continuing = prefix in ("I", "E")
        opened = previous is not None and (scheme == "IO" or previous[0] in "BI")
        if continuing and opened and previous[1] == kind:
            entities[-1][1] = j + 1
        elif continuing and scheme != "IO" and previous is not None:
            entities[-1][1] = j + 1
            entities[-1][3] = True
        else:
            if previous is not None and scheme == "BIOES" and previous[0] in "BI":
                entities[-1][3] = True
            entities.append([j, j + 1, kind, continuing and scheme != "IO"])
        previous = (prefix, kind)
    if previous is not None and scheme == "BIOES" and previous[0] in "BI":
        entities[-1][3] = True
    return entities


def naive_span_issues(
    given_names: list[list[str]],
    predicted_names: list[list[str]],
    scheme: str,
    self_confidence: list[list[float]],
    best_probability: list[list[float]],
) -> list[tuple]:
    """Rows ``(sentence, start, end, kind, given, predicted, min_self_confidence,
    likelihood_ratio)`` of every disagreement, unordered; one sentence at a time."""
    rows = []
    for i, (given_tags, predicted_tags) in enumerate(zip(given_names, predicted_names)):
        given = naive_entities(given_tags, scheme)
        predicted = naive_entities(predicted_tags, scheme)
        pairs = []
        for g, (gs, ge, gt, _) in enumerate(given):
            for p, (ps, pe, pt, _) in enumerate(predicted):
                overlap = min(ge, pe) - max(gs, ps)
                if overlap > 0:
                    pairs.append((-overlap, gt != pt, gs, ps, g, p))
        partner: dict[int, int] = {}
        for *_, g, p in sorted(pairs):
            if g not in partner and p not in partner.values():
                partner[g] = p
        found = []
        for g, (gs, ge, gt, bad) in enumerate(given):
            if g not in partner:
                found.append((gs, ge, "spurious", gt, None))
            else:
                ps, pe, pt, _ = predicted[partner[g]]
                if (gs, ge) != (ps, pe):
                    kind = "boundary" if gt == pt else "boundary+type"
                    found.append((min(gs, ps), max(ge, pe), kind, gt, pt))
                elif gt != pt:
                    found.append((gs, ge, "type", gt, pt))
            if bad:
                pt = predicted[partner[g]][2] if g in partner else None
                found.append((gs, ge, "malformed", gt, pt))
        for p, (ps, pe, pt, _) in enumerate(predicted):
            if p not in partner.values():
                found.append((ps, pe, "missed", None, pt))
        for start, end, kind, gt, pt in found:
            confidences = self_confidence[i][start:end]
            ratio = math.prod(
                min(c / b, 1.0) if b > 0 else 1.0
                for c, b in zip(confidences, best_probability[i][start:end])
            )
            if kind == "malformed":  # forbidden by the scheme: certain
                rows.append((i, start, end, kind, gt, pt, 0.0, 0.0))
            else:
                rows.append((i, start, end, kind, gt, pt, min(confidences), ratio))
    return rows
