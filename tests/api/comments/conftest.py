import pytest

from api.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Most comment tests post more than a person would in a minute."""
    return settings.model_copy(update={"comment_rate_per_minute": 10_000})
