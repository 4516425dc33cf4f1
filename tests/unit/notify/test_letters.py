"""The letters: Vietnamese templates with diacritics, and messages that survive the wire."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser

from services.notify.domain.calendar import Stage
from services.notify.domain.reminders import ChaseItem, ItemKind, Letter
from services.notify.domain.replica import AgencyCard, Contact, IndicatorCard, ScopeStatus
from services.notify.mail import (
    LetterRenderer,
    OutgoingMail,
    build_email,
    envelope_of,
    new_message_id,
    serialize,
    subject_of,
)

HUE = AgencyCard(
    "P46",
    "Thừa Thiên Huế",
    (
        Contact("vanthu@hue.gov.vn", "Văn thư Sở Thông tin và Truyền thông tỉnh Thừa Thiên Huế"),
        Contact("giamdoc@hue.gov.vn", "Nguyễn Văn Ánh", "head"),
    ),
)
INDICATORS = {
    "KH2023-01": IndicatorCard(
        "KH2023-01", "KH2023", "Tỷ lệ dịch vụ công trực tuyến toàn trình", "half", 15
    ),
    "KH2023-02": IndicatorCard(
        "KH2023-02", "KH2023", "Tỷ lệ hồ sơ <được số hóa> & tái sử dụng", "half", 15
    ),
}
DUE = date(2023, 7, 15)


def letter(stage: Stage, *items: ChaseItem, cc: tuple[Contact, ...] = ()) -> Letter:
    return Letter(HUE, "2023-S1", stage, items, HUE.contacts, cc)


def missing(code: str, stage: Stage = Stage.OVERDUE) -> ChaseItem:
    return ChaseItem("P46", code, "2023-S1", stage, ItemKind.MISSING, due=DUE)


RENDERER = LetterRenderer("https://dx.gov.vn/")


def test_subject_names_stage_period_and_agency() -> None:
    reminder = letter(Stage.REMINDER, missing("KH2023-01", Stage.REMINDER))
    assert subject_of(reminder) == (
        "[DX Tracker] Nhắc báo cáo chỉ tiêu chuyển đổi số kỳ 2023-S1 — Thừa Thiên Huế"
    )
    assert "Đôn đốc" in subject_of(letter(Stage.ESCALATION, missing("KH2023-01")))


def test_reminder_names_indicators_deadlines_and_the_link() -> None:
    item = missing("KH2023-01", Stage.REMINDER)
    rendered = RENDERER.render(letter(Stage.REMINDER, item), INDICATORS, today=date(2023, 7, 10))
    text = rendered.text
    assert text.startswith("Kính gửi: Thừa Thiên Huế")
    assert "KH2023-01 — Tỷ lệ dịch vụ công trực tuyến toàn trình" in text
    assert "Hạn báo cáo: 15/07/2023" in text
    assert "còn 5 ngày đến hạn" in text
    assert "https://dx.gov.vn/api/v1/submissions" in text
    assert "Trân trọng cảm ơn" in text
    assert "<table" in rendered.html
    assert "Kính gửi:" in rendered.html


def late_item(code: str) -> ChaseItem:
    return ChaseItem(
        "P46",
        code,
        "2023-S1",
        Stage.OVERDUE,
        ItemKind.LATE,
        due=DUE,
        reported_on=date(2023, 7, 20),
        days_late=5,
    )


def test_overdue_and_late_items_carry_their_figures() -> None:
    late = late_item("KH2023-02")
    rendered = RENDERER.render(
        letter(Stage.OVERDUE, missing("KH2023-01"), late), INDICATORS, today=date(2023, 7, 25)
    )
    assert "Chưa báo cáo, quá hạn 10 ngày." in rendered.text
    assert "Đã báo cáo ngày 20/07/2023, chậm 5 ngày so với hạn." in rendered.text
    # One not received, one received late: the introduction says so, not "2 not received".
    intro = (
        "hệ thống chưa nhận được số liệu của Quý cơ quan đối với 1 chỉ tiêu và ghi nhận "
        "1 chỉ tiêu được báo cáo chậm so với thời hạn"
    )
    assert intro in rendered.text
    assert intro in rendered.html
    assert "2 chỉ tiêu" not in rendered.text


def test_a_letter_of_late_reports_only_never_says_nothing_was_received() -> None:
    both = letter(Stage.ESCALATION, late_item("KH2023-01"), late_item("KH2023-02"))
    rendered = RENDERER.render(both, INDICATORS, today=date(2023, 8, 1))
    assert "chưa nhận được" not in rendered.text
    assert "ghi nhận 2 chỉ tiêu sau của Quý cơ quan được báo cáo chậm" in rendered.text
    assert "gửi số liệu báo cáo đúng thời hạn trong các kỳ tiếp theo" in rendered.text


def test_a_letter_of_missing_reports_only_counts_them() -> None:
    items = (missing("KH2023-01", Stage.ESCALATION), missing("KH2023-02", Stage.ESCALATION))
    rendered = RENDERER.render(letter(Stage.ESCALATION, *items), INDICATORS, today=date(2023, 8, 1))
    assert "chưa nhận được số liệu của Quý cơ quan đối với 2 chỉ tiêu sau:" in rendered.text
    assert "được báo cáo chậm" not in rendered.text
    assert "khẩn trương hoàn thành và gửi số liệu" in rendered.text


def test_html_escapes_names_and_text_keeps_them() -> None:
    rendered = RENDERER.render(
        letter(Stage.OVERDUE, missing("KH2023-02")), INDICATORS, today=date(2023, 7, 25)
    )
    assert "&lt;được số hóa&gt; &amp; tái sử dụng" in rendered.html
    assert "<được số hóa> & tái sử dụng" in rendered.text


def test_escalation_addresses_the_head_and_copies_the_standing_agency() -> None:
    rendered = RENDERER.render(
        letter(Stage.ESCALATION, missing("KH2023-01", Stage.ESCALATION), cc=HUE.contacts[:1]),
        INDICATORS,
        today=date(2023, 8, 1),
        standing_name="Bộ Thông tin và Truyền thông",
    )
    assert rendered.text.startswith("Kính gửi: Lãnh đạo Thừa Thiên Huế")
    assert "Đồng gửi: Bộ Thông tin và Truyền thông" in rendered.text


def test_progress_letter_uses_the_committee_words() -> None:
    item = ChaseItem(
        "P46",
        "KH2023-01",
        "2023-S1",
        Stage.PROGRESS,
        ItemKind.OFF_TRACK,
        statuses=(ScopeStatus("P46", "hard", "under_half"),),
    )
    rendered = RENDERER.render(letter(Stage.PROGRESS, item), INDICATORS, today=date(2023, 8, 1))
    assert "Quý cơ quan: Khó hoàn thành, Đã thực hiện dưới 50%." in rendered.text
    assert "nguy cơ không hoàn thành" in rendered.text


def test_the_message_reads_back_with_vietnamese_intact() -> None:
    rendered = RENDERER.render(
        letter(Stage.OVERDUE, missing("KH2023-01"), cc=(Contact("cds@mic.gov.vn", "Cục CĐS"),)),
        INDICATORS,
        today=date(2023, 7, 25),
    )
    mail = OutgoingMail(
        message_id=new_message_id("DX Tracker <no-reply@dx.gov.vn>"),
        to=HUE.contacts,
        cc=(Contact("cds@mic.gov.vn", "Cục CĐS"),),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        date=datetime(2023, 7, 25, 1, tzinfo=UTC),
        reference="7",
    )
    message = build_email(mail, mail_from="DX Tracker <no-reply@dx.gov.vn>")
    raw = serialize(message)
    assert raw.isascii()  # 7-bit: any relay takes it
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == rendered.subject  # the words across encoded-word folds too
    names = [a.display_name for a in parsed["To"].addresses]
    assert names == [c.name for c in HUE.contacts]
    assert parsed["Message-ID"] == mail.message_id
    assert parsed["Message-ID"].endswith("@dx.gov.vn>")
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().replace("\r\n", "\n") == rendered.text  # CRLF on the wire
    assert "Tỷ lệ dịch vụ công trực tuyến toàn trình" in html.get_content()
    assert envelope_of(message) == (
        "no-reply@dx.gov.vn",
        ["vanthu@hue.gov.vn", "giamdoc@hue.gov.vn", "cds@mic.gov.vn"],
    )
