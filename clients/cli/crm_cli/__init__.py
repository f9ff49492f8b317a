"""`crm`: the CRM platform from the command line (see `crm --help`)."""
