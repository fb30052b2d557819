"""The body of templates/macros/forms.html's ``field`` macro in Python: label, control, help and errors.

Written in Jinja (sets, a dict update, filters, a nested call) it cost ~0.25 ms of CPU per field and this ~0.19
(member form, 23 fields, one process); the rest is WTForms writing the control. The macro still exists
(templates import it) and calls this; the HTML is the macro's, tag for tag. Texts go through ``escape`` first, as
Jinja's autoescape does: it leaves lazy strings (``_l``, which have ``__html__``) unescaped. Plain string building:
``Markup.format`` cost as much as the Jinja it replaced.
"""

from markupsafe import Markup, escape

from crm.web import punctuation


def _errors(f) -> Markup:
    return escape(punctuation()["sentence"]).join(escape(e) for e in f.errors)


def render_field(f, wrap_class, kwargs) -> Markup:
    fid = kwargs.get("id", f.id)
    errors, description = f.errors, f.description
    described = []
    if description:
        described.append(f"{fid}-help")
    if errors:
        described.append(f"{fid}-error")
    aria = {"aria-describedby": " ".join(described)} if described else {}
    if errors:
        aria["aria-invalid"] = "true"
    attrs = dict(kwargs)
    attrs.update(aria)
    kind = f.type
    required = ' <span class="req" aria-hidden="true">*</span>' if f.flags.required else ""
    out = f'\n<div class="field {escape(wrap_class)} {"has-error" if errors else ""} field-{kind.lower()}">\n  '
    if kind in ("RadioField", "MultiCheckboxField"):
        out += (f'\n  <fieldset>\n    <legend>{escape(f.label.text)}{required}</legend>\n'
                '    <div class="options">\n    ')
        for option in f:
            out += f'\n      <label class="option">{option(**aria)} {escape(option.label.text)}</label>\n    '
        out += "\n    </div>\n  </fieldset>\n  "
    elif kind == "BooleanField":
        out += f'\n  <label class="option">{f(**attrs)} {escape(f.label.text)}</label>\n  '
    else:
        out += f'\n  <label for="{escape(fid)}">{escape(f.label.text)}{required}</label>\n  {f(**attrs)}\n  '
    out += "\n  "
    if description:
        out += f'<p class="help" id="{escape(fid)}-help">{escape(description)}</p>'
    out += "\n  "
    if errors:
        out += f'<p class="error" id="{escape(fid)}-error">{_errors(f)}</p>'
    return Markup(out + "\n</div>\n")
