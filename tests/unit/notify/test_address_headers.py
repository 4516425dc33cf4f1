"""Contact names of any length and punctuation keep To: and Cc: readable and correct."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from services.notify.mail import MAIL_POLICY, serialize

NAMES = [
    "Sở Thông tin và Truyền thông",
    "Văn phòng Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu, Phòng Kiểm soát thủ tục hành chính " * 2,
    "Department of Information, Communications and Digital Transformation, Office " * 2,
    'The "Digital" office, Hà Nội',
    "Ông A",
    "Ủy ban nhân dân tỉnh " * 60,  # too long for one line: split into encoded words
]


def header_lines(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def to_names(raw: bytes) -> list[str]:
    """The display names of To:, decoded as RFC 2047 says (adjacent encoded words joined)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    value = head.split("\r\nTo: ", 1)[1].split("\r\nSubject: ", 1)[0]
    names = []
    for address in value.split(",\r\n "):  # one address a line
        phrase = address.rsplit("<", 1)[0].replace("\r\n", "").strip()
        decoded = str(make_header(decode_header(phrase)))
        names.append(decoded[1:-1].replace('\\"', '"') if decoded.startswith('"') else decoded)
    return names


@pytest.mark.parametrize("name", NAMES)
def test_a_long_or_punctuated_name_stays_one_correct_address(name: str) -> None:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = "no-reply@dx.gov.vn"
    message["To"] = [
        Address(display_name=name.strip(), addr_spec="lienhe@stttt.gov.vn"),
        Address(display_name="B", addr_spec="b@example.vn"),
    ]
    message["Subject"] = "Nhắc báo cáo"
    message.set_content("x")
    raw = serialize(message)
    assert max(len(line) for line in header_lines(raw)) <= 998
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "lienhe@stttt.gov.vn",
        "b@example.vn",
    ]
    assert to_names(raw) == [name.strip(), "B"]
    if len(name) < 300:  # one piece: even the stdlib parser reads it back as it is
        assert parsed["To"].addresses[0].display_name == name.strip()
