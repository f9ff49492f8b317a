"""A customer's automation, written the way a team using nameko would: subscribe to our events by name."""

import json
import os

from nameko.events import event_handler


class WelcomeAutomation:
    name = "crm_automation_test"

    @event_handler("contacts", "contact_created")
    def on_contact_created(self, payload):
        with open(os.environ["CRM_NAMEKO_OUT"], "a") as out:
            out.write(json.dumps(payload) + "\n")
