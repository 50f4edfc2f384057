"""QASettings: defaults validate, TOMECAST_QA_* variables and overrides parse, bad values are one-line errors."""

import pytest

from qa.errors import SettingsError
from qa.settings import QASettings


def test_defaults_validate_and_round_trip():
    s = QASettings()
    s.validate()
    assert QASettings.from_dict(s.to_dict()) == s


def test_from_env_reads_variables_then_overrides():
    s = QASettings.from_env({"TOMECAST_QA_MAX_TAKES": "5", "TOMECAST_QA_ASR": "off",
                             "TOMECAST_QA_ASR_MODEL": "/models/tiny"}, max_tail=0.5)
    assert (s.max_takes, s.asr, s.asr_model, s.max_tail) == (5, False, "/models/tiny", 0.5)


@pytest.mark.parametrize("env, words", [({"TOMECAST_QA_MAX_TAKES": "many"}, "not a int"),
                                        ({"TOMECAST_QA_ASR": "maybe"}, "not a bool"),
                                        ({"TOMECAST_QA_MAX_TAKES": "-1"}, "max_takes out of range"),
                                        ({"TOMECAST_QA_CLIP_LEVEL": "nan"}, "must be finite")])
def test_bad_values_are_settings_errors(env, words):
    with pytest.raises(SettingsError, match=words):
        QASettings.from_env(env)


def test_unknown_field_in_dict_is_rejected():
    with pytest.raises(SettingsError, match="unknown qa setting 'bogus'"):
        QASettings.from_dict({"bogus": 1})
