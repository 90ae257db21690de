"""The kitchen-table device: the daily reminder, the systemd service and buttons."""
