import pickle

import pytest

from elcaro.models import ExchangeKeys, Secret


def test_secret_never_prints_itself() -> None:
    secret = Secret("s3cr3t-value-123")
    keys = ExchangeKeys(api_key=Secret("k3y-value-456"), api_secret=secret)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", repr(keys), str(keys)):
        assert "s3cr3t" not in shown and "k3y" not in shown
    assert secret.reveal() == "s3cr3t-value-123"
    assert secret == Secret("s3cr3t-value-123") and secret != Secret("other")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
