from notifications.domain import IN_APP, WELCOME, welcome_message


def test_welcome_names_the_person_and_company() -> None:
    message = welcome_message("Ada", "Analytical Engines")
    assert (message.kind, message.channel) == (WELCOME, IN_APP)
    assert message.title == "Welcome, Ada!"
    assert "Analytical Engines" in message.body


def test_welcome_without_name_or_company_still_reads_well() -> None:
    message = welcome_message("  ", "")
    assert message.title == "Welcome, there!"
    assert message.body.endswith("with us.")
