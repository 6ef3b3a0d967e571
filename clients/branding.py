"""A client's look: the logo (checked, re-encoded, served on a public cacheable URL) and the brand colour
(refused unless text on it stays readable). The rules are here once; Settings and the admin call them."""

import io
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from clients.models import Client, ClientLogo

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_PIXELS = 4096 * 4096  # checked from the header, before a single pixel is decoded
LOGO_BOX = (600, 200)  # shown 28 px high in the nav and 48 px on the login page: ample for a sharp 2× screen
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
DEFAULT_COLOUR = "#8cc63f"
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DARK_INK, LIGHT_INK = "#111111", "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text: a button's label on the brand colour


# --- Logo ------------------------------------------------------------------------------------------


def logo_problem_of_bytes(data: bytes) -> str | None:
    """Why these bytes are no logo we take, before they are decoded (size and SVG)."""
    if len(data) > MAX_LOGO_BYTES:
        return f"The logo is {len(data) / 1024 / 1024:.1f} MB; the most we take is 1 MB. Save it smaller and try again."
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<") or b"<svg" in head:
        return "SVG logos are refused (an SVG can carry scripts): export it as a PNG or JPEG."
    if not data:
        return "The file is empty."
    return None


def logo_reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """The logo re-encoded by Pillow (metadata and anything hidden after the image dropped), at most
    LOGO_BOX; raises ValidationError with a sentence for staff."""
    from PIL import Image, UnidentifiedImageError

    problem = logo_problem_of_bytes(data)
    if problem:
        raise ValidationError(problem)
    try:
        image = Image.open(io.BytesIO(data))
        kind = image.format
        if kind not in FORMATS:
            raise ValidationError(f"The logo must be a PNG or JPEG image; this file is {kind or 'another kind'}.")
        width, height = image.size
        if width * height > MAX_LOGO_PIXELS:
            raise ValidationError(_too_many_pixels(f"{width}×{height}"))
        image.load()
        image.thumbnail(LOGO_BOX)
        out = io.BytesIO()
        if kind == "PNG":
            image = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
            image.save(out, format="PNG", optimize=True)
        else:
            image.convert("RGB").save(out, format="JPEG", quality=90, optimize=True)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(_too_many_pixels("far more")) from None
    except UnidentifiedImageError:
        raise ValidationError("That file is not a PNG or JPEG image we can read.") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise ValidationError("That image is damaged or cut short: we could not read it.") from None
    return out.getvalue(), FORMATS[kind], image.width, image.height


def _too_many_pixels(size: str) -> str:
    return f"The logo has {size} pixels; the most we take is {MAX_LOGO_PIXELS:,} in all. Save it smaller and try again."


def logo_path(logo: ClientLogo) -> str:
    extension = "png" if logo.content_type == "image/png" else "jpg"
    return reverse("brand_logo", kwargs={"version": logo.version, "extension": extension})


@transaction.atomic
def client_logo_set(*, client: Client, data: bytes) -> ClientLogo:
    """Stores the re-encoded logo and points `logo_url` at its new, never-reused URL."""
    image, content_type, width, height = logo_reencode(data)
    current = ClientLogo.objects.select_for_update().filter(client=client).first()
    version = current.version + 1 if current else 1
    logo, _ = ClientLogo.objects.update_or_create(
        client=client,
        defaults={"image": image, "content_type": content_type, "width": width, "height": height, "version": version},
    )
    client.logo_url = logo_path(logo)
    client.save(update_fields=["logo_url", "updated_at"])
    return logo


@transaction.atomic
def client_logo_remove(*, client: Client) -> None:
    ClientLogo.objects.filter(client=client).delete()
    client.logo_url = None
    client.save(update_fields=["logo_url", "updated_at"])


# --- Colour ----------------------------------------------------------------------------------------


def _channel(value: int) -> float:
    value = value / 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio, 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ink_on(colour: str) -> str:
    """The text colour for buttons on the brand colour: whichever of dark or white reads better."""
    return max((DARK_INK, LIGHT_INK), key=lambda ink: contrast_ratio(colour, ink))


def colour_normalise(value: str) -> str:
    value = (value or "").strip().lower()
    if not HEX_COLOUR.match(value):
        raise ValidationError(f"{value!r} is not a colour like #1d5fbf (a # and six hexadecimal digits).")
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


def colour_problem(value: str) -> str | None:
    """Why this brand colour would make button labels hard to read, or None."""
    ink = ink_on(value)
    ratio = contrast_ratio(value, ink)
    if ratio < MIN_CONTRAST:
        return (
            f"Text on {value} reaches a contrast of only {ratio:.1f}:1 (at least {MIN_CONTRAST}:1 is needed to be "
            "readable): choose a darker or a lighter shade."
        )
    return None


def client_brand_colour_set(*, client: Client, colour: str) -> Client:
    colour = colour_normalise(colour)
    problem = colour_problem(colour)
    if problem:
        raise ValidationError(problem)
    client.primary_color = colour
    client.save(update_fields=["primary_color", "updated_at"])
    return client


def brand_colours(client: Client | None) -> tuple[str, str]:
    """The colour and its ink as a page may put them in CSS: a stored value that is no colour (set in the
    admin, or before this check existed) falls back to the default, never into the stylesheet."""
    value = getattr(client, "primary_color", None) or DEFAULT_COLOUR
    try:
        value = colour_normalise(value)
    except ValidationError:
        value = DEFAULT_COLOUR
    return value, ink_on(value)
