"""Form plumbing of the kernel: a RuleError lands beside the field it names."""
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField

from portal.kernel.errors import RuleError
from portal.kernel.forms import flag, one_of, options, rule_error


class NoteForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("name")
    note = StringField("note")
    kind = SelectField("kind", choices=options([("a", "A")], blank="—"))


def test_rule_error_goes_beside_its_field(app):
    with app.test_request_context():
        form = NoteForm()
        rule_error(form, RuleError("taken", "name"))
        rule_error(form, RuleError("no field"), default="note")
        rule_error(form, RuleError("unknown field", "nope"))
        rule_error(form, RuleError("always here", "name"), at="note")
        assert form.name.errors == ["taken"]
        assert form.note.errors == ["no field", "always here"]
        assert form.form_errors == ["unknown field"]
        assert [(c.value, c.label) for c in form.kind.choices] == [("", "—"), ("a", "A")]


def test_values_by_allow_list():
    assert one_of("draft", ("draft", "live")) == "draft"
    assert one_of("<script>", ("draft",)) == "" and one_of(None, ("draft",), "x") == "x"
    form = MultiDict({"locked": "1", "off": "0"})
    assert flag(form, "locked") and not flag(form, "off") and not flag(form, "missing")
    assert flag(form, "missing", default=True)
