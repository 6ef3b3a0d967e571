"""Settings: each part for the roles allowed, the logo's bad inputs, the brand colour's contrast check, the
Twilio numbers and their webhook URLs."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from campaigns.twilio_signature import public_url, twilio_webhook_urls
from clients.branding import contrast_ratio, ink_on, logo_reencode
from clients.models import Client, ClientLogo, SendingNumber, User

HOST = {"HTTP_HOST": "alpha.localhost"}
ROLES = [User.Role.COMPANY_OWNER, User.Role.ADMIN, User.Role.MANAGER, User.Role.SALES_REP, User.Role.READ_ONLY]


def _png(width=40, height=20, colour=(200, 30, 30, 255), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="PNG", **save)
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


def _upload(client, data: bytes, name="logo.png", content_type="image/png"):
    return client.post("/settings/company/logo/", {"logo": SimpleUploadedFile(name, data, content_type)}, **HOST)


@pytest.fixture
def signed_in_owner(alpha, owner, client):
    client.force_login(owner)
    yield client
    with schema_context("public"):
        ClientLogo.objects.filter(client=alpha).delete()
        Client.objects.filter(pk=alpha.pk).update(
            logo_url=None, primary_color="#8cc63f", timezone="Europe/London", company_name="Alpha Solar Ltd"
        )


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_navs_settings_link_opens_for_every_role(alpha, make_user, client, role):
    client.force_login(make_user(alpha, f"{role}@alpha.example", role))

    response = client.get("/", **HOST, follow=True)  # sales reps land on My leads
    settings_page = client.get("/settings/", **HOST)

    assert 'href="/settings/"' in response.content.decode()
    assert settings_page.status_code == 200


@pytest.mark.parametrize(
    "role, sees_company",
    [
        (User.Role.COMPANY_OWNER, True),
        (User.Role.ADMIN, True),
        (User.Role.MANAGER, False),
        (User.Role.SALES_REP, False),
        (User.Role.READ_ONLY, False),
    ],
)
def test_it_shows_each_part_only_to_the_roles_allowed(alpha, make_user, client, role, sees_company):
    client.force_login(make_user(alpha, f"{role}@alpha.example", role))

    home = client.get("/settings/", **HOST).content.decode()

    assert ('href="/settings/company/"' in home) is sees_company
    assert ('href="/settings/numbers/"' in home) is sees_company
    for path in ["/settings/company/", "/settings/numbers/"]:
        assert client.get(path, **HOST).status_code == (200 if sees_company else 403)
    writes = {
        "/settings/company/profile/": {"company_name": "Taken over", "industry": "solar"},
        "/settings/company/colour/": {"primary_color": "#003366"},
        "/settings/company/timezone/": {"timezone": "Europe/Dublin"},
        "/settings/numbers/add/": {"number": "+447700900777"},
    }
    if not sees_company:
        for path, data in writes.items():
            assert client.post(path, data, **HOST).status_code == 403, path
        with schema_context("public"):
            assert Client.objects.get(pk=alpha.pk).primary_color == "#8cc63f"
            assert not SendingNumber.objects.filter(number="+447700900777").exists()


def test_the_users_entry_shows_only_with_user_management(alpha, make_user, client):
    client.force_login(make_user(alpha, "manager@alpha.example", User.Role.MANAGER))
    assert 'href="/settings/users/"' not in client.get("/settings/", **HOST).content.decode()

    client.force_login(make_user(alpha, "boss@alpha.example", User.Role.MANAGER, can_manage_users=True))
    assert 'href="/settings/users/"' in client.get("/settings/", **HOST).content.decode()


def test_an_outsider_cannot_open_another_clients_settings(alpha, outsider, client):
    client.force_login(outsider)
    assert client.get("/settings/company/", **HOST).status_code in (302, 403, 404)
    assert client.post("/settings/company/colour/", {"primary_color": "#003366"}, **HOST).status_code in (302, 403, 404)
    with schema_context("public"):
        assert Client.objects.get(pk=alpha.pk).primary_color == "#8cc63f"


# --- Company details and time zone --------------------------------------------------------------


def test_it_saves_the_company_details(signed_in_owner, alpha):
    response = signed_in_owner.post(
        "/settings/company/profile/",
        {
            "company_name": "Alpha Solar Ltd",
            "company_email": "hello@alpha.example",
            "industry": "solar",
            "company_website": "alpha.example",
        },
        **HOST,
    )

    assert response.status_code == 302
    with schema_context("public"):
        saved = Client.objects.get(pk=alpha.pk)
    assert (saved.company_email, saved.company_website) == ("hello@alpha.example", "https://alpha.example")


def test_a_name_another_client_has_is_refused_in_place(signed_in_owner, beta):
    response = signed_in_owner.post(
        "/settings/company/profile/", {"company_name": beta.company_name.upper(), "industry": "solar"}, **HOST
    )

    assert response.status_code == 400
    assert "Another client already has this name." in response.content.decode()


def test_an_unknown_time_zone_is_refused_in_place(signed_in_owner):
    response = signed_in_owner.post("/settings/company/timezone/", {"timezone": "Mars/Olympus"}, **HOST)

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_it_saves_the_time_zone(signed_in_owner, alpha):
    signed_in_owner.post("/settings/company/timezone/", {"timezone": "Europe/Dublin"}, **HOST)

    with schema_context("public"):
        assert Client.objects.get(pk=alpha.pk).timezone == "Europe/Dublin"


# --- Logo ---------------------------------------------------------------------------------------


def test_a_png_logo_is_re_encoded_and_served_publicly_with_long_caching(signed_in_owner, alpha, client):
    response = _upload(signed_in_owner, _png(1200, 400, pnginfo=None))

    assert response.status_code == 302
    with schema_context("public"):
        url = Client.objects.get(pk=alpha.pk).logo_url
        logo = ClientLogo.objects.get(client=alpha)
    assert (logo.width, logo.height) == (600, 200)  # shrunk to the box
    signed_in_owner.logout()
    served = client.get(url, **HOST)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert "public" in served["Cache-Control"] and "immutable" in served["Cache-Control"]
    assert Image.open(io.BytesIO(served.content)).size == (600, 200)
    login = client.get("/login/", **HOST).content.decode()
    assert f'src="{url}"' in login  # the sign-in page shows it too


def test_a_jpeg_logo_stays_a_jpeg_and_a_new_logo_gets_a_new_url(signed_in_owner, alpha):
    _upload(signed_in_owner, _png())
    with schema_context("public"):
        first = Client.objects.get(pk=alpha.pk).logo_url
    _upload(signed_in_owner, _jpeg(), name="logo.jpg", content_type="image/jpeg")
    with schema_context("public"):
        second = Client.objects.get(pk=alpha.pk).logo_url

    assert first != second and second.endswith(".jpg")
    assert f'src="{second}"' in signed_in_owner.get("/", **HOST).content.decode()  # in the nav
    old = signed_in_owner.get(first, **HOST)
    assert old.status_code == 200 and "immutable" not in old["Cache-Control"]


@pytest.mark.parametrize(
    "data, name, message",
    [
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "SVG logos are refused",
        ),
        (b"<svg onload='alert(1)'></svg>", "logo.png", "SVG logos are refused"),
        (b"just some notes, renamed to look like an image\n" * 10, "logo.png", "not a PNG or JPEG image"),
        (_png()[:60], "logo.png", "damaged or cut short"),
        (b"", "logo.png", "empty"),
    ],
    ids=["svg", "svg-renamed", "text-renamed", "truncated-png", "empty"],
)
def test_bad_logos_are_refused_with_a_clear_message(signed_in_owner, alpha, data, name, message):
    response = _upload(signed_in_owner, data, name=name)

    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("public"):
        assert not ClientLogo.objects.filter(client=alpha).exists()


def test_a_logo_over_one_megabyte_is_refused(signed_in_owner, alpha):
    big = _png() + b"\0" * (2 * 1024 * 1024)

    response = _upload(signed_in_owner, big)

    assert response.status_code == 400
    assert "the most we take is 1 MB" in response.content.decode()


def test_a_png_bomb_is_refused_before_it_is_decoded(signed_in_owner, alpha):
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG", optimize=True)  # ~100 KB, 900 megapixels
    assert len(out.getvalue()) < 1024 * 1024

    response = _upload(signed_in_owner, out.getvalue())

    assert response.status_code == 400
    assert "pixels; the most we take is 16,777,216 in all" in response.content.decode()


def test_a_bomb_under_pillows_own_limit_is_refused_by_ours():
    out = io.BytesIO()
    Image.new("1", (5000, 5000)).save(out, format="PNG")
    with pytest.raises(Exception, match="5000×5000 pixels"):
        logo_reencode(out.getvalue())


def test_a_gif_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(Exception, match="PNG or JPEG"):
        logo_reencode(out.getvalue())


def test_a_missing_logo_is_a_404(alpha, client):
    assert client.get("/brand/logo/1.png", **HOST).status_code == 404


# --- Colour -------------------------------------------------------------------------------------


def test_the_contrast_ratio_follows_wcag():
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast_ratio("#777777", "#ffffff"), 2) == 4.48
    assert ink_on("#003366") == "#ffffff" and ink_on("#8cc63f") == "#111111"


@pytest.mark.parametrize("colour", ["#777777", "#7a7a7a", "#787878"])
def test_a_colour_no_text_reads_on_is_refused(signed_in_owner, alpha, colour):
    response = signed_in_owner.post("/settings/company/colour/", {"primary_color": colour}, **HOST)

    assert response.status_code == 400
    assert "choose a darker or a lighter shade" in response.content.decode()
    with schema_context("public"):
        assert Client.objects.get(pk=alpha.pk).primary_color == "#8cc63f"


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg", "#fff;}body{display:none", "\x00"])
def test_a_value_that_is_no_colour_is_refused(signed_in_owner, colour):
    response = signed_in_owner.post("/settings/company/colour/", {"primary_color": colour}, **HOST)

    assert response.status_code == 400


def test_a_dark_colour_gets_white_button_text(signed_in_owner, alpha):
    signed_in_owner.post("/settings/company/colour/", {"primary_color": "#003366"}, **HOST)

    page = signed_in_owner.get("/", **HOST).content.decode()
    assert "--brand: #003366; --brand-ink: #ffffff;" in page


def test_a_stored_colour_that_is_not_one_never_reaches_the_stylesheet(signed_in_owner, alpha):
    with schema_context("public"):
        Client.objects.filter(pk=alpha.pk).update(primary_color="red;}</style><script>alert(1)</script>")

    page = signed_in_owner.get("/settings/", **HOST).content.decode()

    assert "<script>alert(1)" not in page and "--brand: #8cc63f;" in page


# --- Twilio numbers -----------------------------------------------------------------------------


def test_the_webhook_url_shown_is_the_one_the_signature_check_rebuilds(signed_in_owner, alpha, rf, settings):
    settings.DBR_PUBLIC_SCHEME, settings.DBR_PUBLIC_PORT = "https", 8443
    page = signed_in_owner.get("/settings/numbers/", **HOST).content.decode()
    urls = twilio_webhook_urls(alpha)
    assert urls["sms"] in page and urls["status"] in page

    host = urls["sms"].split("//")[1].split(":")[0]
    request = rf.post("/webhooks/twilio/sms/", HTTP_HOST=f"{host}:8000")
    assert public_url(request) == urls["sms"]


def test_a_number_is_added_and_removed(signed_in_owner, alpha):
    added = signed_in_owner.post("/settings/numbers/add/", {"number": "+447700900777"}, **HOST)
    assert added.status_code == 302
    with schema_context("public"):
        assert SendingNumber.objects.filter(client=alpha, number="+447700900777").exists()

    signed_in_owner.post("/settings/numbers/remove/", {"number": "+447700900777"}, **HOST)
    with schema_context("public"):
        assert not SendingNumber.objects.filter(number="+447700900777").exists()


@pytest.mark.parametrize("number", ["07700 900777", "not a number", "+44" + "9" * 30, "+447700900\x00"])
def test_a_bad_number_is_refused_in_place(signed_in_owner, number):
    response = signed_in_owner.post("/settings/numbers/add/", {"number": number}, **HOST)

    assert response.status_code == 400


def test_another_clients_number_is_refused(signed_in_owner, beta):
    with schema_context("public"):
        SendingNumber.objects.create(client=beta, number="+447700900888")

    response = signed_in_owner.post("/settings/numbers/add/", {"number": "+447700900888"}, **HOST)

    assert response.status_code == 400
    assert "already belongs to another client" in response.content.decode()
    with schema_context("public"):
        SendingNumber.objects.filter(number="+447700900888").delete()


def test_the_default_number_is_one_of_the_clients_own(signed_in_owner, alpha, beta):
    signed_in_owner.post("/settings/numbers/add/", {"number": "+447700900777"}, **HOST)
    with schema_context("public"):
        SendingNumber.objects.create(client=beta, number="+447700900888")

    signed_in_owner.post("/settings/numbers/default/", {"number": "+447700900777"}, **HOST)
    refused = signed_in_owner.post("/settings/numbers/default/", {"number": "+447700900888"}, **HOST, follow=True)

    with schema_context("public"):
        assert Client.objects.get(pk=alpha.pk).twilio_phone_number == "+447700900777"
        SendingNumber.objects.filter(number__in=["+447700900777", "+447700900888"]).delete()
        Client.objects.filter(pk=alpha.pk).update(twilio_phone_number=None)
    assert "is not one of Alpha Solar Ltd" in refused.content.decode()
