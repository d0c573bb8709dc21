"""The typed blocks a decoration page is made of. Each type has its own WTForms form, which is
its schema: the HQ editor, a store's own edits and the publish check all validate with it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.i18n import translations as flask_wtf_translations
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, StopValidation, ValidationError

from portal.goods.services import product_cards
from portal.i18n import ngettext
from portal.kernel.forms import options, strip
from portal.kernel.text import whole

LINK = Regexp(whole(r"(/pages/[A-Za-z0-9_/-]+(\?\S*)?|https://\S+)"),
              message=_l("A mini-program page (/pages/…) or an https:// address."))
# A picture of the image space (/media/i/…, what its picker fills in), an https:// address or one
# of the portal's own samples.
IMAGE = Regexp(whole(r"(/media/i/[0-9a-f]{32}\.(jpg|png|webp)|https://\S+|/static/\S+)"),
               message=_l("Choose a picture from the image space, or give an https:// address."))
CODES = Regexp(whole(r"[A-Za-z0-9_,，\s-]*"), message=_l("Codes separated by commas."))
HOURS = Regexp(whole(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d"), message=_l("Like 09:00-22:00."))


def present(form, field):
    """Required for numbers, where 0 is a value (DataRequired would refuse it)."""
    if field.data is None:
        raise StopValidation(field.gettext("This field is required."))


class BlockForm(Form):
    class Meta:
        def get_translations(self, form):
            return flask_wtf_translations


class RowForm(BlockForm):
    """A row of a list inside a block; a row left entirely blank is ignored."""

    def is_blank(self) -> bool:
        return all(f.data in (None, "", False) for f in self)

    def validate(self, extra_validators=None):
        return True if self.is_blank() else super().validate(extra_validators)


def compact(rows: list[dict]) -> list[dict]:
    return [r for r in rows if any(v not in (None, "", False) for v in r.values())]


def codes(text: str) -> list[str]:
    return [c for c in (text or "").replace("，", ",").replace("\n", ",").split(",") if c.strip()]


class SlideForm(RowForm):
    image = StringField(_l("Image address"), filters=[strip], validators=[DataRequired(), IMAGE])
    title = StringField(_l("Caption"), filters=[strip], validators=[Optional(), Length(max=30)])
    link = StringField(_l("Link"), filters=[strip], validators=[Optional(), LINK])


class BannerForm(BlockForm):
    slides = FieldList(FormField(SlideForm), label=_l("Slides"), min_entries=1, max_entries=8)
    interval = IntegerField(_l("Seconds per slide"), default=4, validators=[NumberRange(2, 10)])

    def validate_slides(self, field):
        if not compact(field.data):
            raise ValidationError(_l("Add at least one slide."))


class NoticeForm(BlockForm):
    text = StringField(_l("Notice text"), filters=[strip], validators=[DataRequired(), Length(max=120)])
    link = StringField(_l("Link"), filters=[strip], validators=[Optional(), LINK])


# Fields checked by a validate_<name> method carry no Optional(): it would stop the validation
# chain on an empty value before the method runs.
class GoodsGridForm(BlockForm):
    title = StringField(_l("Title"), filters=[strip], validators=[Optional(), Length(max=30)])
    source = SelectField(_l("Goods"), choices=options([("category", _l("By category")), ("picked", _l("Hand-picked"))]))
    category = StringField(_l("Category"), filters=[strip], validators=[Length(max=50)])
    goods = TextAreaField(_l("Goods codes"), filters=[strip], validators=[CODES, Length(max=2000)])
    columns = SelectField(_l("Columns"), coerce=int, choices=options([(2, "2"), (3, "3")]), default=2)
    limit = IntegerField(_l("How many"), default=6, validators=[NumberRange(1, 50)])

    def validate_category(self, field):
        if self.source.data == "category" and not field.data:
            raise ValidationError(_l("Name the category to show."))

    #: The acting scope, set by HQ's editor: hand-picked goods must then be goods it may use
    #: (the goods picker offers only those; a typed or forged code is refused beside the field).
    scope = None

    def validate_goods(self, field):
        if self.source.data == "picked":
            names = [c.strip() for c in codes(field.data)]
            if not names:
                raise ValidationError(_l("Choose the goods to show."))
            if len(names) > 50:
                raise ValidationError(_l("At most 50 goods."))
            if self.scope is not None:
                found = product_cards(self.scope, names)
                unknown = [n for n in names if n.lower() not in found]
                if unknown:
                    raise ValidationError(_l("Not in your goods library: %(codes)s", codes=", ".join(unknown[:10])))
                field.data = ", ".join(dict.fromkeys(found[n.lower()].code for n in names))


class LiveEntryForm(BlockForm):
    title = StringField(_l("Title"), filters=[strip], default="直播间", validators=[DataRequired(), Length(max=30)])
    show = SelectField(_l("Show"), choices=options([("always", _l("Always")), ("live_only", _l("Only while live"))]))
    style = SelectField(_l("Style"), choices=options([("card", _l("Card")), ("bar", _l("Bar"))]))


class CouponStripForm(BlockForm):
    title = StringField(_l("Title"), filters=[strip], default="领券中心", validators=[Optional(), Length(max=30)])
    source = SelectField(_l("Coupons"), choices=options([("auto", _l("Every coupon the store runs")),
                                                        ("picked", _l("Hand-picked"))]))
    coupons = StringField(_l("Coupon codes"), filters=[strip], validators=[CODES, Length(max=500)])
    limit = IntegerField(_l("How many"), default=3, validators=[NumberRange(1, 10)])

    def validate_coupons(self, field):
        if self.source.data == "picked" and not codes(field.data):
            raise ValidationError(_l("List the coupon codes to show."))


class StoreCardForm(BlockForm):
    show_address = BooleanField(_l("Show the address"), default=True)
    show_map = BooleanField(_l("Show a map"), default=True)
    show_phone = BooleanField(_l("Show the phone number"), default=True)
    hours = StringField(_l("Opening hours"), filters=[strip], default="09:00-22:00", validators=[Optional(), HOURS])


class RichTextForm(BlockForm):
    title = StringField(_l("Title"), filters=[strip], validators=[Optional(), Length(max=30)])
    body = TextAreaField(_l("Text"), filters=[strip], validators=[DataRequired(), Length(max=5000)])


class HotspotForm(RowForm):
    x = IntegerField(_l("Left %"), validators=[present, NumberRange(0, 100)])
    y = IntegerField(_l("Top %"), validators=[present, NumberRange(0, 100)])
    w = IntegerField(_l("Width %"), validators=[present, NumberRange(1, 100)])
    h = IntegerField(_l("Height %"), validators=[present, NumberRange(1, 100)])
    link = StringField(_l("Link"), filters=[strip], validators=[DataRequired(), LINK])

    def validate_w(self, field):
        if (self.x.data or 0) + (field.data or 0) > 100:
            raise ValidationError(_l("The area runs off the image."))

    def validate_h(self, field):
        if (self.y.data or 0) + (field.data or 0) > 100:
            raise ValidationError(_l("The area runs off the image."))


class ImageHotspotForm(BlockForm):
    # Every row is rendered (blank ones hidden) so drawing a new area on the picture has a row to
    # fill (static/js/hotspots.js).
    pad_to_max = ("hotspots",)
    image = StringField(_l("Image address"), filters=[strip], validators=[DataRequired(), IMAGE])
    hotspots = FieldList(FormField(HotspotForm), label=_l("Tappable areas"), min_entries=1, max_entries=10)

    def validate_hotspots(self, field):
        if not compact(field.data):
            raise ValidationError(_l("Add at least one tappable area."))


# --------------------------------------------------------------------------- one line per block

def _short(text: str, n: int = 36) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _banner(d: dict) -> str:
    n = len(d.get("slides") or [])
    return ngettext("%(num)s slide · %(s)s s each", "%(num)s slides · %(s)s s each", n, s=d.get("interval") or "—")


def _goods_grid(d: dict) -> str:
    if d.get("source") == "picked":
        n = len(codes(d.get("goods", "")))
        what = ngettext("%(num)s hand-picked product", "%(num)s hand-picked products", n)
    else:
        what = _("category “%(c)s”", c=d.get("category") or "—")
    columns = ngettext("%(num)s column", "%(num)s columns", d.get("columns") or 2)
    return " · ".join(p for p in (d.get("title"), what, columns) if p)


def _live_entry(d: dict) -> str:
    shown = _("only while live") if d.get("show") == "live_only" else _("always shown")
    return f"{d.get('title') or ''} · {shown}"


def _coupon_strip(d: dict) -> str:
    if d.get("source") == "picked":
        n = len(codes(d.get("coupons", "")))
        what = ngettext("%(num)s hand-picked coupon", "%(num)s hand-picked coupons", n)
    else:
        what = _("every coupon the store runs")
    return " · ".join(p for p in (d.get("title"), what) if p)


def _store_card(d: dict) -> str:
    parts = [d.get("hours") or ""]
    parts += [label for key, label in (("show_address", _("address")), ("show_map", _("map")),
                                       ("show_phone", _("phone"))) if d.get(key)]
    return " · ".join(p for p in parts if p)


# --------------------------------------------------------------------------- the types

@dataclass(frozen=True)
class BlockType:
    """What a block type knows: its label and icon, its form (= its schema and validation), the
    data a new block starts with, and the one line that sums a block of it up in lists."""

    name: str
    label: object
    icon: str
    form: type[BlockForm]
    sample: Callable[[], dict]
    summary: Callable[[dict], str]

    def default(self) -> dict:
        return self.sample()


BLOCK_TYPES: dict[str, BlockType] = {
    b.name: b
    for b in (
        BlockType(
            "banner",
            _l("Banner carousel"),
            "photo",
            BannerForm,
            lambda: {
                "slides": [{"image": "/static/img/sample-banner.svg", "title": "新品上市", "link": ""}],
                "interval": 4,
            },
            _banner,
        ),
        BlockType(
            "notice",
            _l("Notice bar"),
            "speakerphone",
            NoticeForm,
            lambda: {"text": "欢迎光临，会员下单享积分", "link": ""},
            lambda d: _short(d.get("text", "")),
        ),
        BlockType(
            "goods_grid",
            _l("Goods grid"),
            "layout-grid",
            GoodsGridForm,
            lambda: {
                "title": "人气推荐",
                "source": "category",
                "category": "招牌",
                "goods": "",
                "columns": 2,
                "limit": 6,
            },
            _goods_grid,
        ),
        BlockType(
            "live_entry",
            _l("Live-room entry"),
            "broadcast",
            LiveEntryForm,
            lambda: {"title": "直播间", "show": "always", "style": "card"},
            _live_entry,
        ),
        BlockType(
            "coupon_strip",
            _l("Coupon strip"),
            "ticket",
            CouponStripForm,
            lambda: {"title": "领券中心", "source": "auto", "coupons": "", "limit": 3},
            _coupon_strip,
        ),
        BlockType(
            "store_card",
            _l("Store card"),
            "building-store",
            StoreCardForm,
            lambda: {"show_address": True, "show_map": True, "show_phone": True, "hours": "09:00-22:00"},
            _store_card,
        ),
        BlockType(
            "rich_text",
            _l("Rich text"),
            "align-left",
            RichTextForm,
            lambda: {"title": "品牌故事", "body": "每一杯都用当季鲜果现做。"},
            lambda d: _short(d.get("title") or d.get("body", "")),
        ),
        BlockType(
            "image_hotspot",
            _l("Image hotspots"),
            "hand-click",
            ImageHotspotForm,
            lambda: {
                "image": "/static/img/sample-hotspot.svg",
                "hotspots": [{"x": 0, "y": 0, "w": 50, "h": 100, "link": "/pages/goods/index"}],
            },
            lambda d: ngettext("%(num)s tappable area", "%(num)s tappable areas", len(d.get("hotspots") or [])),
        ),
    )
}


def form_for(
    block_type: str, data: dict | None = None, formdata: MultiDict | None = None, prefix: str = ""
) -> BlockForm:
    """The block's form: filled from a posted form, or from stored data."""
    form_class = BLOCK_TYPES[block_type].form
    if formdata is not None:
        return form_class(formdata=formdata, prefix=prefix)
    return form_class(data={k: v for k, v in (data or {}).items() if not k.startswith("_")}, prefix=prefix)


def data_of(form: BlockForm) -> dict:
    """The block data to store: the form's values with blank list rows dropped."""
    data = dict(form.data)
    for name, field in form._fields.items():
        if isinstance(field, FieldList):
            data[name] = compact(field.data)
    return data


def validate_block_data(block_type: str, data: dict) -> list[str]:
    """Errors of stored or submitted block data as readable lines (empty when valid)."""
    if block_type not in BLOCK_TYPES:
        return [str(_l("Unknown block type."))]
    form = form_for(block_type, data)
    if form.validate():
        return []
    return [f"{form[name].label.text}: {_flatten(errs)}" for name, errs in form.errors.items()]


def _flatten(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(_flatten(v) for v in errors.values())
    if isinstance(errors, list):
        return "; ".join(_flatten(e) for e in errors)
    return str(errors)
