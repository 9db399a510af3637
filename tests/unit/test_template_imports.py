"""``CanalTemplate``'s import shortcut: an imported macro module is Jinja's cached one when the importing context
has no globals the imported template lacks, and rebuilt (seeing the extra globals) when it has."""

from jinja2 import DictLoader, Environment

from marketplace.main.templating import CanalTemplate


def _env():
    env = Environment(loader=DictLoader({
        "macros.html": "{% macro hi(x) %}<b>{{ x }}</b>{{ shared }}{{ extra|default('') }}{% endmacro %}",
        "page.html": "{% from 'macros.html' import hi %}{{ hi(1) }}",
    }))
    env.template_class = CanalTemplate
    env.globals["shared"] = "S"
    return env


def test_an_import_reuses_the_cached_module_when_the_globals_are_the_same():
    env = _env()
    page, macros = env.get_template("page.html"), env.get_template("macros.html")
    assert isinstance(page, CanalTemplate)
    assert page.render() == "<b>1</b>S"
    cached = macros.module
    assert page.render() == "<b>1</b>S" and macros.module is cached  # not rebuilt per import


def test_an_import_from_a_template_with_its_own_globals_sees_them():
    env = _env()
    page = env.get_template("page.html", globals={"extra": "E"})
    assert page.render() == "<b>1</b>SE"  # Jinja's own path: a module built with the importing template's globals
