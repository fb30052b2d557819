"""A faster rendering of WTForms' ``<select>``, with the same HTML.

WTForms 3 renders each ``<option>`` through ``html_params`` and ``Markup.format`` and looks up the
signature of ``render_option`` with ``inspect`` on every select it renders. The members' filter form
(32 districts, statuses, genders, volunteers) spent more time there than in its SQL (issue 10,
bench/FINDINGS.md). ``FastSelect`` writes the common option (a value, a label, perhaps selected, no
per-option attributes) directly, exactly as WTForms would; anything else goes through WTForms' own code.
``install()`` makes it the widget of every SelectField and SelectMultipleField.
"""

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.fields import SelectField, SelectMultipleField
from wtforms.widgets.core import html_params


class FastSelect(widgets.Select):
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        option = self._option
        if field.has_groups():
            for optgroup, choices in field._iter_groups_normalized():
                if optgroup is not None:
                    html.append(f"<optgroup {html_params(label=optgroup)}>")
                html.extend(option(choice) for choice in choices)
                if optgroup is not None:
                    html.append("</optgroup>")
        else:
            html.extend(option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return Markup("".join(html))

    def _option(self, choice) -> str:
        if choice.render_kw:
            return self.render_option(choice)
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        # html_params sorts the attributes: "selected" comes before "value"; escape() quotes '"' already.
        return (f'<option {"selected " if choice.selected else ""}value="{escape(value)}">'
                f"{escape(choice.label or choice.value)}</option>")


def install() -> None:
    """Every select field renders with FastSelect (a field given its own widget keeps it)."""
    if not isinstance(SelectField.widget, FastSelect):
        SelectField.widget = FastSelect()
    if not isinstance(SelectMultipleField.widget, FastSelect):
        SelectMultipleField.widget = FastSelect(multiple=True)
