"""Every public name of the top-level package resolves to the object of its subpackage."""

import importlib

import pytest

import bankml


@pytest.mark.parametrize("name", sorted(bankml._LAZY))
def test_lazy_name_is_the_subpackage_object(name):
    module = importlib.import_module(bankml._LAZY[name])
    assert getattr(bankml, name) is getattr(module, name)
    assert name in dir(bankml)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        bankml.no_such_thing  # noqa: B018
