"""judge_policy_text: the verdict on a policyDocument as CloudTrail gives it, remembered per exact text."""

from __future__ import annotations

import json
from urllib.parse import quote

from detections import example_records as s
from iam import policy
from iam.policy import Power, judge_document, judge_policy_text

NARROW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def test_text_is_judged_as_its_document():
    for doc in (NARROW, json.loads(s.policy_json(s.ALLOW_ALL))):
        text = json.dumps(doc)
        assert judge_policy_text(text) == judge_document(doc)
        assert judge_policy_text(quote(text)) == judge_document(doc)  # URL-encoded, as CloudTrail sometimes has it
        assert judge_policy_text(doc) == judge_document(doc)
    assert judge_policy_text(s.policy_json(s.ALLOW_ALL)).power is Power.ADMIN


def test_no_document_no_verdict():
    for raw in (None, "", "  ", "not json", "[1, 2]", 42):
        assert judge_policy_text(raw) is None


def test_the_same_text_is_judged_once():
    text = json.dumps(NARROW) + " "  # a text no other test judges
    before = policy._judge_text.cache_info().hits
    first = judge_policy_text(text)
    assert judge_policy_text(text) is first
    assert policy._judge_text.cache_info().hits == before + 1


def test_long_texts_are_judged_but_not_kept():
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [f"arn:aws:s3:::b{i}/*" for i in range(800)]},
        ]
    }
    text = json.dumps(doc)
    assert len(text) > policy._CACHED_CHARS
    size = policy._judge_text.cache_info().currsize
    assert judge_policy_text(text).power is Power.ADMIN
    assert policy._judge_text.cache_info().currsize == size
