"""The backend specs: every API type declared once, cheap to list, options typed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytavern.errors import ConfigError
from pytavern.providers import BACKEND_MODULES, _samplers, get_spec, specs
from pytavern.providers._chat import ChatProvider
from pytavern.providers._text import TextProvider
from pytavern.providers.spec import GROUP_LABELS

BUILT_IN = {
    "local", "kobold", "koboldcpp", "ooba", "tabby", "vllm", "mancer", "dreamgen",
    "llamacpp", "ollama", "horde", "novelai", "openai", "custom", "claude", "gemini",
    "openrouter",
}  # fmt: skip


def test_every_built_in_api_type_is_declared_once() -> None:
    names = [spec.name for spec in specs()]
    assert len(names) == len(set(names))
    assert set(names) >= BUILT_IN


def test_groups_are_declared_not_guessed() -> None:
    assert get_spec("kobold").group == get_spec("koboldcpp").group == "kobold"
    assert get_spec("horde").group == "horde" and get_spec("novelai").group == "novelai"
    assert get_spec("local").group == "local" and get_spec("openrouter").group == "chat"
    assert {spec.group for spec in specs()} == set(GROUP_LABELS)


def test_each_spec_names_its_provider_class_and_family() -> None:
    for spec in specs():
        provider_class = spec.provider_class()
        assert getattr(provider_class, "family", spec.family) == spec.family, spec.name
        assert spec.sampler_table is None or spec.family == "text", spec.name


def test_listing_specs_imports_no_http_client_or_model_runtime() -> None:
    code = (
        "import sys; from pytavern.providers import specs; specs();"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'aiohttp', 'llama_cpp', 'tiktoken', 'tokenizers', 'numpy'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    assert len(BACKEND_MODULES) >= 10


def test_unknown_api_type_lists_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        get_spec("no-such-api")
    assert "openrouter" in (caught.value.hint or "")


def test_options_are_validated_with_the_valid_names_in_the_hint() -> None:
    spec = get_spec("openai")
    assert spec.validate_options({"timeout_connect": 5, "key_env": "X"}) == {
        "timeout_connect": 5.0,
        "key_env": "X",
    }
    with pytest.raises(ConfigError) as caught:
        spec.validate_options({"no_such_option": 1})
    assert "no_such_option" in caught.value.message
    assert "timeout_connect" in (caught.value.hint or "")
    with pytest.raises(ConfigError) as wrong_type:
        spec.validate_options({"max_retries": "many"})
    assert "max_retries" in wrong_type.value.message and "many" not in wrong_type.value.message


def test_option_infos_give_type_default_and_help() -> None:
    infos = {info.name: info for info in get_spec("horde").option_infos()}
    assert infos["models"].type == "list[string]" and infos["models"].default == []
    assert infos["poll_interval"].type == "float" and infos["poll_interval"].default == 2.5
    assert all(info.help for info in infos.values())


def test_openrouter_is_a_declared_flavour_of_the_openai_provider() -> None:
    openai, openrouter = get_spec("openai"), get_spec("openrouter")
    assert openrouter.provider is openai.provider
    assert openrouter.key_env == "OPENROUTER_API_KEY" and openrouter.default_model


def test_sampler_tables_named_by_specs_exist() -> None:
    for spec in specs():
        if spec.sampler_table is not None:
            assert spec.sampler_table in _samplers.backends(), spec.name


def _overrides(provider_class: type, method: str) -> bool:
    """Whether ``provider_class`` has its own ``method`` (not the base's "cannot")."""
    own = getattr(provider_class, method, None)
    base = next(
        (getattr(b, method) for b in (TextProvider, ChatProvider) if issubclass(provider_class, b)),
        None,
    )
    return own is not None and own is not base


@pytest.mark.parametrize("name", sorted(s.name for s in specs()))
def test_declared_capabilities_match_the_provider_class(name: str) -> None:
    spec = get_spec(name)
    provider_class = spec.provider_class()
    assert isinstance(provider_class, type)
    caps = spec.capabilities
    assert caps.token_counting == _overrides(provider_class, "count_tokens"), name
    assert caps.load_unload == (
        hasattr(provider_class, "load_model") or hasattr(provider_class, "ensure_loaded")
    ), name
    assert not caps.prefill or spec.family in ("chat", "local"), name  # text has no turns
