from components.tagging import REQUIRED_TAG_KEYS, missing_tags, required_tags


def test_required_tags_cover_every_required_key():
    tags = required_tags(project="eks-platform", environment="prod", owner="platform", cost_center="CC-1")
    assert tuple(tags) == REQUIRED_TAG_KEYS
    assert tags["ManagedBy"] == "pulumi"
    assert missing_tags(tags) == []


def test_missing_tags_counts_blank_values_as_missing():
    assert missing_tags({"Project": "p", "Environment": " ", "Owner": "o"}) == [
        "Environment",
        "CostCenter",
        "ManagedBy",
    ]
    assert missing_tags(None) == list(REQUIRED_TAG_KEYS)
