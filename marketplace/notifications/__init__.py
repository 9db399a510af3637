"""In-app notifications (the bell and the inbox) and the emails that go with the important ones."""
