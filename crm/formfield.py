"""The body of templates/macros/forms.html's ``field`` macro in Python: label, control, help and errors.

Written in Jinja it cost ~1 ms of CPU per field (sets, a dict update, filters, a nested call), so the members
list's seven filters and bulk form were a fifth of the caseload page. The macro still exists (templates import
it) and calls this; the HTML is the macro's, tag for tag. Texts go through ``escape`` first, as Jinja's
autoescape does: it leaves lazy strings (``_l``, which have ``__html__``) unescaped, ``Markup.format`` would not.
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
    required = Markup(' <span class="req" aria-hidden="true">*</span>') if f.flags.required else ""
    out = [Markup('\n<div class="field {} {} field-{}">\n  ').format(wrap_class, "has-error" if errors else "",
                                                                   kind.lower())]
    if kind in ("RadioField", "MultiCheckboxField"):
        out.append(Markup("\n  <fieldset>\n    <legend>{}{}</legend>\n    <div class=\"options\">\n    ").format(
            escape(f.label.text), required))
        for option in f:
            out.append(Markup('\n      <label class="option">{} {}</label>\n    ').format(
                option(**aria), escape(option.label.text)))
        out.append(Markup("\n    </div>\n  </fieldset>\n  "))
    elif kind == "BooleanField":
        out.append(Markup('\n  <label class="option">{} {}</label>\n  ').format(f(**attrs), escape(f.label.text)))
    else:
        out.append(Markup('\n  <label for="{}">{}{}</label>\n  {}\n  ').format(fid, escape(f.label.text), required,
                                                                               f(**attrs)))
    out.append(Markup("\n  "))
    if description:
        out.append(Markup('<p class="help" id="{}-help">{}</p>').format(fid, escape(description)))
    out.append(Markup("\n  "))
    if errors:
        out.append(Markup('<p class="error" id="{}-error">{}</p>').format(fid, _errors(f)))
    out.append(Markup("\n</div>\n"))
    return Markup("").join(out)
